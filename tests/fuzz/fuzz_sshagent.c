/*
 * libFuzzer harness for the ssh-agent reply parsers: an input is a reply
 * body as agent_call() hands it over (type byte first, the be32 length
 * already stripped), fed to both the identities answer parser (what
 * sshagent_list() and sshagent_identity_for() decode) and the sign
 * response parser. The seed corpus is recorded from OpenSSH's ssh-agent
 * holding throwaway keys from ssh-keygen: the identities answer with no
 * key, one ed25519 key ("alice@fuzz"), two ("alice@fuzz", "bob"), those
 * two and an rsa key (skipped); the sign response for the ed25519 key
 * and for the rsa key (an rsa-sha2 blob, refused); SSH_AGENT_FAILURE for
 * a key not loaded.
 * FUZZ_SSHAGENT_VERBOSE=1 says what each input got (corpus checks).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "sshagent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verbose = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pks[4][32], sig[64];
	char err[KEYS_ERR_MAX];
	int n;

	if (verbose < 0)
		verbose = getenv("FUZZ_SSHAGENT_VERBOSE") != NULL;
	/* a small max, so a long list overflows it; a preferred user that
	 * is the second key of the two-key answer, so it moves first */
	err[0] = 0;
	n = sshagent_parse_identities(data, size, pks, 4, "bob", err);
	if (n > 4 || (n < 0 && !err[0]))
		__builtin_trap();
	if (verbose)
		fprintf(stderr, "fuzz_sshagent: identities: %d %s\n", n,
			n < 0 ? err : "");
	/* and no preference: sshagent_list()'s call */
	err[0] = 0;
	n = sshagent_parse_identities(data, size, pks, 4, NULL, err);
	if (n > 4 || (n < 0 && !err[0]))
		__builtin_trap();
	err[0] = 0;
	n = sshagent_parse_signature(data, size, sig, err);
	if (n < 0 && !err[0])
		__builtin_trap();
	if (verbose)
		fprintf(stderr, "fuzz_sshagent: signature: %s\n",
			n < 0 ? err : "ok");
	return 0;
}
