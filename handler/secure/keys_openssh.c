/*
 * The OpenSSH private key file ("openssh-key-v1", PROTOCOL.key in
 * OpenSSH's sources), unencrypted ed25519 only:
 *
 *   "-----BEGIN OPENSSH PRIVATE KEY-----", base64 in 70-column lines, END
 *   blob: "openssh-key-v1\0", string cipher "none", string kdf "none",
 *         string kdfoptions "", be32 nkeys = 1, string public blob,
 *         string private section
 *   private section: be32 check, be32 check (equal), string "ssh-ed25519",
 *         string pk(32), string sk(64 = seed || pk), string comment,
 *         padding 1, 2, 3... up to a multiple of 8
 */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fdutil.h"
#include "wire.h"

#define KEYFILE_MAX 16384
#define BLOB_MAX 4096
#define B64_COLS 70

static const char begin_line[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
static const char end_line[] = "-----END OPENSSH PRIVATE KEY-----";
static const char magic[] = "openssh-key-v1"; /* with its NUL: 15 bytes */
static const char ed25519_name[] = "ssh-ed25519";

static int str_is(const uint8_t *p, uint32_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* Finds the base64 body between the armour lines. */
static int unarmour(const char *text, size_t len, const char **b64,
		    size_t *b64len, const char **why)
{
	const char *b = memmem(text, len, begin_line, sizeof begin_line - 1);
	const char *e;

	if (!b) {
		*why = memmem(text, len, "ENCRYPTED", 9)
			       ? "encrypted keys are not supported; use ssh-agent"
			       : "not an OpenSSH private key (expected an "
				 "ed25519 key from ssh-keygen -t ed25519)";
		return -1;
	}
	b += sizeof begin_line - 1;
	e = memmem(b, len - (size_t)(b - text), end_line, sizeof end_line - 1);
	if (!e) {
		*why = "truncated private key (no END line)";
		return -1;
	}
	*b64 = b;
	*b64len = (size_t)(e - b);
	return 0;
}

/* The private section; checks it against the public key. */
static int parse_private(const uint8_t *p, uint32_t n, const uint8_t pk[32],
			 struct keys_secret *k, const char **why)
{
	const uint8_t *type, *kpk, *ksk, *comment, *pad;
	uint32_t c1, c2, tlen, pklen, sklen, clen;
	uint8_t check_pk[32], check_sk[64];
	struct rd r;
	size_t i, left;

	rd_init(&r, p, n);
	rd_be32(&r, &c1);
	rd_be32(&r, &c2);
	rd_string(&r, &type, &tlen, 64);
	rd_string(&r, &kpk, &pklen, 64);
	rd_string(&r, &ksk, &sklen, 128);
	rd_string(&r, &comment, &clen, KEYS_COMMENT_MAX - 1);
	if (!rd_ok(&r) || !str_is(type, tlen, ed25519_name) || pklen != 32 ||
	    sklen != 64) {
		*why = "malformed private key section";
		return -1;
	}
	if (c1 != c2) {
		*why = "corrupt private key (check words differ)";
		return -1;
	}
	left = rd_left(&r);
	rd_view(&r, &pad, left);
	for (i = 0; i < left; i++)
		if (pad[i] != i + 1 || left >= 8) {
			*why = "corrupt private key (bad padding)";
			return -1;
		}
	crypto_sign_seed_keypair(check_pk, check_sk, ksk);
	if (memcmp(kpk, pk, 32) != 0 || memcmp(ksk + 32, pk, 32) != 0 ||
	    memcmp(check_pk, pk, 32) != 0) {
		sodium_memzero(check_sk, sizeof check_sk);
		*why = "corrupt private key (public and secret parts differ)";
		return -1;
	}
	sodium_memzero(check_sk, sizeof check_sk);
	memcpy(k->sk, ksk, 64);
	memcpy(k->pk, pk, 32);
	memcpy(k->comment, comment, clen);
	k->comment[clen] = 0;
	return 0;
}

static int parse_blob(const uint8_t *blob, size_t n, struct keys_secret *k,
		      const char **why)
{
	const uint8_t *cipher, *kdf, *opts, *pub, *priv, *type, *pk;
	uint32_t cl, kl, ol, nkeys, publen, privlen, tl, pkl;
	struct rd r, pr;

	rd_init(&r, blob, n);
	if (rd_skip(&r, sizeof magic) < 0 ||
	    memcmp(blob, magic, sizeof magic) != 0) {
		*why = "not an openssh-key-v1 private key";
		return -1;
	}
	rd_string(&r, &cipher, &cl, 64);
	rd_string(&r, &kdf, &kl, 64);
	rd_string(&r, &opts, &ol, 1024);
	rd_be32(&r, &nkeys);
	if (rd_ok(&r) && (!str_is(cipher, cl, "none") || !str_is(kdf, kl, "none"))) {
		*why = "encrypted keys are not supported; use ssh-agent";
		return -1;
	}
	rd_string(&r, &pub, &publen, BLOB_MAX);
	rd_string(&r, &priv, &privlen, BLOB_MAX);
	if (!rd_end(&r) || nkeys != 1 || ol != 0) {
		*why = "malformed private key file (expected one key)";
		return -1;
	}
	rd_init(&pr, pub, publen);
	rd_string(&pr, &type, &tl, 64);
	rd_string(&pr, &pk, &pkl, 64);
	if (!rd_ok(&pr) || !str_is(type, tl, ed25519_name)) {
		*why = "unsupported key type (only ssh-ed25519 keys are "
		       "supported; make one with ssh-keygen -t ed25519)";
		return -1;
	}
	if (!rd_end(&pr) || pkl != 32) {
		*why = "malformed ssh-ed25519 public key in the key file";
		return -1;
	}
	return parse_private(priv, privlen, pk, k, why);
}

int keys_parse_secret(const char *text, size_t len, struct keys_secret *k,
		      const char **why)
{
	uint8_t *blob;
	const char *b64;
	size_t b64len, n;
	int rc = -1;

	memset(k, 0, sizeof *k);
	if (sodium_init() < 0) {
		*why = "libsodium failed to initialise";
		return -1;
	}
	if (unarmour(text, len, &b64, &b64len, why) < 0)
		return -1;
	blob = malloc(BLOB_MAX);
	if (!blob) {
		*why = "out of memory";
		return -1;
	}
	if (sodium_base642bin(blob, BLOB_MAX, b64, b64len, " \t\r\n", &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		*why = "bad base64 in private key";
	else
		rc = parse_blob(blob, n, k, why);
	sodium_memzero(blob, BLOB_MAX);
	free(blob);
	if (rc < 0)
		keys_secret_wipe(k);
	return rc;
}

/*
 * A private key others can read or write is refused, as OpenSSH refuses
 * it: no access at all for others; none for the group either when the
 * file is ours (a key another account owns may be shared with us through
 * its group, e.g. root:handler 0640).
 */
static int too_open(int fd, const char *path, char err[KEYS_ERR_MAX])
{
	struct stat st;
	mode_t bad;

	if (fstat(fd, &st) < 0) {
		snprintf(err, KEYS_ERR_MAX, "%s: %s", path, strerror(errno));
		return 1;
	}
	bad = st.st_uid == geteuid() ? 077 : 007;
	if (!(st.st_mode & bad))
		return 0;
	snprintf(err, KEYS_ERR_MAX, "permissions %04o for %s are too open: "
		 "a private key must not be accessible by others (chmod 600)",
		 (unsigned)(st.st_mode & 07777), path);
	return 1;
}

static int read_file(const char *path, char *text, size_t cap, size_t *len,
		     char err[KEYS_ERR_MAX])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(err, KEYS_ERR_MAX, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (too_open(fd, path, err)) {
		close(fd);
		return -1;
	}
	n = fd_read_full(fd, text, cap);
	close(fd);
	if (n < 0) {
		snprintf(err, KEYS_ERR_MAX, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((size_t)n == cap) {
		snprintf(err, KEYS_ERR_MAX, "%s: too large for a key file",
			 path);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

int keys_load_secret(const char *path, struct keys_secret *k,
		     char err[KEYS_ERR_MAX])
{
	char *text = malloc(KEYFILE_MAX);
	const char *why = "";
	size_t len;
	int rc = -1;

	if (!text) {
		snprintf(err, KEYS_ERR_MAX, "%s: out of memory", path);
		return -1;
	}
	if (read_file(path, text, KEYFILE_MAX, &len, err) == 0) {
		rc = keys_parse_secret(text, len, k, &why);
		if (rc < 0)
			snprintf(err, KEYS_ERR_MAX, "%s: %s", path, why);
	}
	sodium_memzero(text, KEYFILE_MAX);
	free(text);
	return rc;
}

/* The binary blob of a private key file; returns its length or 0. */
static size_t build_blob(const struct keys_secret *k, uint8_t *blob,
			 size_t cap)
{
	uint8_t priv[512], pub[KEYS_BLOB_LEN];
	uint32_t check = randombytes_random();
	struct wr w, pw;
	uint8_t i;

	wr_init(&pw, priv, sizeof priv);
	wr_be32(&pw, check);
	wr_be32(&pw, check);
	wr_cstring(&pw, ed25519_name);
	wr_string(&pw, k->pk, 32);
	wr_string(&pw, k->sk, 64);
	wr_cstring(&pw, k->comment);
	for (i = 1; pw.len % 8; i++)
		wr_u8(&pw, i);
	keys_public_blob(k->pk, pub);
	wr_init(&w, blob, cap);
	wr_bytes(&w, magic, sizeof magic);
	wr_cstring(&w, "none");
	wr_cstring(&w, "none");
	wr_cstring(&w, "");
	wr_be32(&w, 1);
	wr_string(&w, pub, sizeof pub);
	wr_string(&w, priv, pw.len);
	sodium_memzero(priv, sizeof priv);
	return wr_ok(&w) && wr_ok(&pw) ? w.len : 0;
}

/* Armoured text of blob (n bytes) into out; returns its length or 0. */
static size_t armour(const uint8_t *blob, size_t n, char *out, size_t cap)
{
	size_t b64cap = sodium_base64_ENCODED_LEN(n,
				sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(b64cap);
	size_t len, o, i;

	if (!b64)
		return 0;
	sodium_bin2base64(b64, b64cap, blob, n, sodium_base64_VARIANT_ORIGINAL);
	len = strlen(b64);
	o = (size_t)snprintf(out, cap, "%s\n", begin_line);
	for (i = 0; i < len && o + B64_COLS + 2 < cap; i += B64_COLS) {
		size_t c = len - i < B64_COLS ? len - i : B64_COLS;

		memcpy(out + o, b64 + i, c);
		o += c;
		out[o++] = '\n';
	}
	sodium_memzero(b64, b64cap);
	free(b64);
	if (i < len || o + sizeof end_line + 1 > cap)
		return 0;
	o += (size_t)snprintf(out + o, cap - o, "%s\n", end_line);
	return o;
}

static int write_new(const char *path, const char *data, size_t n,
		     mode_t mode, char err[KEYS_ERR_MAX])
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC, mode);

	if (fd < 0) {
		snprintf(err, KEYS_ERR_MAX, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fd_write_all(fd, data, n) < 0 || fsync(fd) < 0) {
		snprintf(err, KEYS_ERR_MAX, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0) {
		snprintf(err, KEYS_ERR_MAX, "%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

static int write_pub(const char *path, const struct keys_secret *k,
		     char err[KEYS_ERR_MAX])
{
	char pubpath[4096], line[KEYS_PUBLINE_MAX + 1];
	size_t n;

	if ((size_t)snprintf(pubpath, sizeof pubpath, "%s.pub", path) >=
		    sizeof pubpath ||
	    keys_format_public(k->pk, k->comment, line, sizeof line - 1) < 0) {
		snprintf(err, KEYS_ERR_MAX, "%s: name or comment too long",
			 path);
		return -1;
	}
	n = strlen(line);
	line[n++] = '\n';
	return write_new(pubpath, line, n, 0644, err);
}

int keys_write(const char *path, const struct keys_secret *k,
	       char err[KEYS_ERR_MAX])
{
	uint8_t blob[1024];
	char text[2048];
	size_t n, len = 0;
	int rc = -1;

	n = build_blob(k, blob, sizeof blob);
	if (n)
		len = armour(blob, n, text, sizeof text);
	if (!len)
		snprintf(err, KEYS_ERR_MAX, "%s: comment too long", path);
	else if (write_new(path, text, len, 0600, err) == 0) {
		rc = write_pub(path, k, err);
		if (rc < 0)
			unlink(path);
	}
	sodium_memzero(blob, sizeof blob);
	sodium_memzero(text, sizeof text);
	return rc;
}

int keys_generate(const char *path, const char *comment,
		  char err[KEYS_ERR_MAX])
{
	struct keys_secret k;
	int rc;

	if (sodium_init() < 0) {
		snprintf(err, KEYS_ERR_MAX, "libsodium failed to initialise");
		return -1;
	}
	memset(&k, 0, sizeof k);
	if (comment && strlen(comment) >= sizeof k.comment) {
		snprintf(err, KEYS_ERR_MAX, "%s: comment too long", path);
		return -1;
	}
	crypto_sign_keypair(k.pk, k.sk);
	if (comment)
		strcpy(k.comment, comment);
	rc = keys_write(path, &k, err);
	keys_secret_wipe(&k);
	return rc;
}
