/*
 * Public key lines, the SSH key blob and fingerprints (keys.h): the bottom
 * of the key code. The private key file format (keys_openssh.c) builds on
 * these and identities (keys_identity.c) on both; calling up into either
 * from here would tie the three into one circle again.
 */
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "wire.h"

static const char ed25519_name[] = "ssh-ed25519";

void keys_public_blob(const uint8_t pk[32], uint8_t blob[KEYS_BLOB_LEN])
{
	struct wr w;

	wr_init(&w, blob, KEYS_BLOB_LEN);
	wr_cstring(&w, ed25519_name);
	wr_string(&w, pk, 32);
}

void keys_fingerprint(const uint8_t pk[32], char fp[KEYS_FP_MAX])
{
	uint8_t blob[KEYS_BLOB_LEN], h[crypto_hash_sha256_BYTES];

	keys_public_blob(pk, blob);
	crypto_hash_sha256(h, blob, sizeof blob);
	memcpy(fp, "SHA256:", 7);
	sodium_bin2base64(fp + 7, KEYS_FP_MAX - 7, h, sizeof h,
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

int keys_format_public(const uint8_t pk[32], const char *comment,
		       char *out, size_t outsize)
{
	uint8_t blob[KEYS_BLOB_LEN];
	char b64[sodium_base64_ENCODED_LEN(KEYS_BLOB_LEN,
					   sodium_base64_VARIANT_ORIGINAL)];
	int n;

	keys_public_blob(pk, blob);
	sodium_bin2base64(b64, sizeof b64, blob, sizeof blob,
			  sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(out, outsize, "%s %s%s%s", ed25519_name, b64,
		     comment && *comment ? " " : "",
		     comment ? comment : "");
	return n < 0 || (size_t)n >= outsize ? -1 : 0;
}

/* Blob "string type, string pk" of exactly an ed25519 key. */
int keys_blob_ed25519(const uint8_t *blob, size_t n, uint8_t pk[32])
{
	const uint8_t *type, *key;
	uint32_t tlen, klen;
	struct rd r;

	rd_init(&r, blob, n);
	rd_string(&r, &type, &tlen, 64);
	rd_string(&r, &key, &klen, 64);
	if (!rd_end(&r) || tlen != sizeof ed25519_name - 1 ||
	    memcmp(type, ed25519_name, tlen) != 0 || klen != 32)
		return -1;
	memcpy(pk, key, 32);
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Next blank-separated token of line[*i..n): its start and length. */
static size_t token(const char *line, size_t n, size_t *i, const char **tok)
{
	size_t start;

	while (*i < n && is_space(line[*i]))
		(*i)++;
	start = *i;
	while (*i < n && !is_space(line[*i]))
		(*i)++;
	*tok = line + start;
	return *i - start;
}

static void copy_comment(const char *line, size_t n, size_t i,
			 char *comment, size_t commentsize)
{
	size_t len;

	if (!comment || !commentsize)
		return;
	while (i < n && is_space(line[i]))
		i++;
	len = n - i;
	if (len >= commentsize)
		len = commentsize - 1;
	memcpy(comment, line + i, len);
	comment[len] = 0;
}

int keys_parse_public(const char *line, size_t n, uint8_t pk[32],
		      char *comment, size_t commentsize, const char **why)
{
	uint8_t blob[128];
	const char *type, *b64;
	size_t i = 0, tlen, blen, binlen;

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
		     is_space(line[n - 1])))
		n--;
	if (memchr(line, 0, n)) {
		*why = "NUL byte in public key line";
		return -1;
	}
	tlen = token(line, n, &i, &type);
	if (tlen == 0) {
		*why = "empty public key line";
		return -1;
	}
	if (tlen != sizeof ed25519_name - 1 ||
	    memcmp(type, ed25519_name, tlen) != 0) {
		*why = "unsupported key type (only ssh-ed25519 keys are "
		       "supported; make one with ssh-keygen -t ed25519)";
		return -1;
	}
	blen = token(line, n, &i, &b64);
	if (blen == 0) {
		*why = "missing base64 key after ssh-ed25519";
		return -1;
	}
	if (blen > 4 * sizeof blob / 3 ||
	    sodium_base642bin(blob, sizeof blob, b64, blen, NULL, &binlen,
			      NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		*why = "bad base64 in public key";
		return -1;
	}
	if (keys_blob_ed25519(blob, binlen, pk) < 0) {
		*why = "public key blob is not a valid ssh-ed25519 key";
		return -1;
	}
	copy_comment(line, n, i, comment, commentsize);
	return 0;
}

int keys_load_public(const char *path, uint8_t pk[32],
		     char err[KEYS_ERR_MAX])
{
	char line[4096];
	const char *why = "no key line found";
	FILE *f = fopen(path, "re");
	unsigned lineno = 0;

	if (!f) {
		snprintf(err, KEYS_ERR_MAX, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		size_t i = 0;

		lineno++;
		while (is_space(line[i]))
			i++;
		if (line[i] == '#' || line[i] == '\n' || line[i] == 0)
			continue;
		fclose(f);
		if (keys_parse_public(line, strlen(line), pk, NULL, 0,
				      &why) == 0)
			return 0;
		snprintf(err, KEYS_ERR_MAX, "%s:%u: %s", path, lineno, why);
		return -1;
	}
	fclose(f);
	snprintf(err, KEYS_ERR_MAX, "%s: %s", path, why);
	return -1;
}

void keys_secret_wipe(struct keys_secret *k)
{
	sodium_memzero(k, sizeof *k);
}
