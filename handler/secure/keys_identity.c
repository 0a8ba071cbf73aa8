/*
 * Signing identities from a secret key (keys.h). Above both keys.c and the
 * key file parser (keys_openssh.c): loading an identity needs the parser,
 * while the parser and the public-key code need no identities, so neither
 * of those two has to call back up here.
 */
#include "keys.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

static int secret_sign(void *ctx, uint8_t sig[64], const uint8_t *m,
		       size_t n)
{
	return crypto_sign_detached(sig, NULL, m, n, ctx);
}

static void secret_release(void *ctx)
{
	sodium_free(ctx); /* wipes too */
}

int keys_identity_from_secret(struct secure_identity *id,
			      const struct keys_secret *k)
{
	uint8_t *sk;

	memset(id, 0, sizeof *id);
	if (sodium_init() < 0)
		return -1;
	/* Locked, guarded memory: never swapped, overruns trap. */
	sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (!sk)
		return -1;
	memcpy(sk, k->sk, crypto_sign_SECRETKEYBYTES);
	memcpy(id->pk, k->pk, 32);
	id->sign = secret_sign;
	id->ctx = sk;
	id->release = secret_release;
	return 0;
}

int keys_identity_load(struct secure_identity *id, const char *path,
		       char err[KEYS_ERR_MAX])
{
	struct keys_secret k;
	int rc;

	memset(id, 0, sizeof *id);
	if (keys_load_secret(path, &k, err) < 0)
		return -1;
	rc = keys_identity_from_secret(id, &k);
	keys_secret_wipe(&k);
	if (rc < 0)
		snprintf(err, KEYS_ERR_MAX, "%s: out of memory", path);
	return rc;
}

void keys_identity_free(struct secure_identity *id)
{
	if (!id)
		return;
	if (id->release && id->ctx)
		id->release(id->ctx);
	memset(id, 0, sizeof *id);
}
