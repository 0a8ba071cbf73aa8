/*
 * Ed25519 key files in OpenSSH's formats, so users can use the keys they
 * already have (and ssh-agent): the unencrypted "openssh-key-v1" private
 * key file that `ssh-keygen -t ed25519 -N ''` writes, and the one-line
 * public key "ssh-ed25519 AAAA... comment". Fingerprints are printed the
 * way `ssh-keygen -lf` prints them, so an admin can compare them by eye.
 *
 * Errors come back as text in a caller's char[KEYS_ERR_MAX] (a file name
 * and the reason), ready for a log line or a conf "file:line:" message.
 */
#ifndef KEYS_H
#define KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "secure.h"

#define KEYS_ERR_MAX 512
/* "SHA256:" + 43 base64 characters + NUL. */
#define KEYS_FP_MAX 51
#define KEYS_COMMENT_MAX 256
/* "ssh-ed25519 " + 68 base64 characters + " " + comment + NUL. */
#define KEYS_PUBLINE_MAX (12 + 68 + 1 + KEYS_COMMENT_MAX + 1)

/*
 * The SSH wire blob of an ed25519 public key: string "ssh-ed25519", string
 * pk (32 bytes), nothing else. 0 with pk filled, or -1.
 */
int keys_blob_ed25519(const uint8_t *blob, size_t n, uint8_t pk[32]);

/* A secret key in memory: libsodium's 64-byte form (seed then pk). */
struct keys_secret {
	uint8_t sk[64];
	uint8_t pk[32];
	char comment[KEYS_COMMENT_MAX];
};

/*
 * Makes a new key pair: path (mode 0600, must not exist) gets the private
 * key, path.pub the public line. 0, or -1 with err filled.
 */
int keys_generate(const char *path, const char *comment,
		  char err[KEYS_ERR_MAX]);
/* Writes a given key pair the same way (tests, conversions). */
int keys_write(const char *path, const struct keys_secret *k,
	       char err[KEYS_ERR_MAX]);
/*
 * Loads an OpenSSH private key file. Refuses encrypted keys ("encrypted
 * keys are not supported; use ssh-agent") and key types other than
 * ed25519. Wipe *k with keys_secret_wipe() when done.
 */
int keys_load_secret(const char *path, struct keys_secret *k,
		     char err[KEYS_ERR_MAX]);
void keys_secret_wipe(struct keys_secret *k);

/* The same from memory (file contents), for tests and the fuzzer. */
int keys_parse_secret(const char *text, size_t len, struct keys_secret *k,
		      const char **why);

/*
 * Parses one public key line "ssh-ed25519 BASE64 [comment]" (n bytes, a
 * trailing newline allowed). comment may be NULL. 0, or -1 with *why set
 * to a static message.
 */
int keys_parse_public(const char *line, size_t n, uint8_t pk[32],
		      char *comment, size_t commentsize, const char **why);
/* Reads the first key line of a .pub file (or an authorized_keys line). */
int keys_load_public(const char *path, uint8_t pk[32],
		     char err[KEYS_ERR_MAX]);
/* "ssh-ed25519 AAAA... comment" (no newline); comment may be NULL/"". */
int keys_format_public(const uint8_t pk[32], const char *comment,
		       char *out, size_t outsize);
/* The SSH wire blob: string "ssh-ed25519", string pk. */
#define KEYS_BLOB_LEN 51
void keys_public_blob(const uint8_t pk[32], uint8_t blob[KEYS_BLOB_LEN]);
/* "SHA256:..." exactly as ssh-keygen -lf prints it. */
void keys_fingerprint(const uint8_t pk[32], char fp[KEYS_FP_MAX]);

/*
 * A signing identity from a secret key (copied into locked, guarded
 * memory and wiped on free) or from a key file.
 */
int keys_identity_from_secret(struct secure_identity *id,
			      const struct keys_secret *k);
int keys_identity_load(struct secure_identity *id, const char *path,
		       char err[KEYS_ERR_MAX]);
/* Releases any identity (key file or ssh-agent) and clears *id. */
void keys_identity_free(struct secure_identity *id);

#endif
