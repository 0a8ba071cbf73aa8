/*
 * libFuzzer harness for the OpenSSH key file parsers: every input goes to
 * keys_parse_secret() (a whole "openssh-key-v1" private key file) and to
 * keys_parse_public() (one "ssh-ed25519 BASE64 comment" line), so the seed
 * corpus is plain key files as ssh-keygen writes them. Neither may crash,
 * leak or read out of bounds; an accepted key must also be consistent:
 * a secret key's pk matches its seed, and a public line round-trips
 * through keys_format_public(). FUZZ_KEYS_VERBOSE=1 says what each input
 * got (corpus checks).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verbose = -1;

static void say(const char *parser, int rc, const char *why)
{
	if (verbose)
		fprintf(stderr, "fuzz_keys: %s: %s\n", parser,
			rc == 0 ? "ok" : why);
}

static void check_secret(const uint8_t *data, size_t size)
{
	struct keys_secret k;
	uint8_t pk[32], sk[64];
	const char *why = NULL;

	int rc = keys_parse_secret((const char *)data, size, &k, &why);

	say("secret", rc, why);
	if (rc == 0) {
		crypto_sign_seed_keypair(pk, sk, k.sk);
		if (memcmp(pk, k.pk, 32) != 0 || memcmp(sk, k.sk, 64) != 0 ||
		    strnlen(k.comment, sizeof k.comment) >= sizeof k.comment)
			__builtin_trap();
		sodium_memzero(sk, sizeof sk);
	} else if (!why) {
		__builtin_trap();
	}
	keys_secret_wipe(&k);
}

static void check_public(const uint8_t *data, size_t size)
{
	char comment[KEYS_COMMENT_MAX], line[KEYS_PUBLINE_MAX];
	uint8_t pk[32], again[32];
	const char *why = NULL;

	int rc = keys_parse_public((const char *)data, size, pk, comment,
				   sizeof comment, &why);

	say("public", rc, why);
	if (rc == 0) {
		/* the base64 key alone round-trips (the comment may hold
		 * anything, e.g. a CR, that the line format cannot keep) */
		if (keys_format_public(pk, NULL, line, sizeof line) < 0 ||
		    keys_parse_public(line, strlen(line), again, NULL, 0,
				      &why) < 0 ||
		    memcmp(pk, again, 32) != 0)
			__builtin_trap();
	} else if (!why) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (verbose < 0)
		verbose = getenv("FUZZ_KEYS_VERBOSE") != NULL;
	check_secret(data, size);
	check_public(data, size);
	return 0;
}
