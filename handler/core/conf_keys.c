/*
 * Public keys in conf items: the OpenSSH "ssh-ed25519 BASE64 comment" line
 * and the SHA256 fingerprint logs show. Both come from keys.c, so conf,
 * the secure layer and handler-client agree byte for byte (and with
 * ssh-keygen -lf).
 */
#include "core.h"

#include <stdio.h>
#include <string.h>

#include "keys.h"

int conf_parse_pubkey(const char *line, uint8_t pk[32], const char **why)
{
	return keys_parse_public(line, strlen(line), pk, NULL, 0, why);
}

void conf_key_fingerprint(const uint8_t pk[32], char *dst, size_t size)
{
	char fp[KEYS_FP_MAX];

	keys_fingerprint(pk, fp);
	snprintf(dst, size, "%s", fp);
}
