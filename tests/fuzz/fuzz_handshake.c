/*
 * libFuzzer harness for the secure layer. The first input byte picks a
 * target, the rest is what a hostile peer sends:
 *   0  the server handshake (then frames) fed raw bytes
 *   1  the frame decoder of an established server session
 *   2  the client handshake fed a raw "server" reply
 *   3  the server's auth parser fed arbitrary plaintext, encrypted with
 *      the right keys so it gets past the MAC
 *   4  the public key line parser (conf files, .pub files)
 *   5  the OpenSSH private key file parser
 * randombytes is replaced by a seeded ChaCha20 stream, reset for every
 * input, so runs are reproducible and the seed corpus (real sessions
 * recorded with FUZZ_HANDSHAKE_DUMP=dir) stays valid for mutation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "bytes.h"
#include "keys.h"
#include "secure.h"
#include "secure_internal.h"

#define RAW_CAP (SECURE_RAW_MIN + 1024)
#define SERVER_SEED 1000000
#define CLIENT_SEED 2000000

static uint64_t *rng_ctr;
static uint64_t rng_init_ctr = 1;

static void rng_buf(void *const out, const size_t n)
{
	static const uint8_t key[crypto_stream_chacha20_KEYBYTES] = { 42 };
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];

	le64_put(nonce, (*rng_ctr)++);
	crypto_stream_chacha20(out, n, nonce, key);
}

static uint32_t rng_random(void)
{
	uint32_t v;

	rng_buf(&v, sizeof v);
	return v;
}

static const char *rng_name(void)
{
	return "fuzz-deterministic";
}

static struct randombytes_implementation rng = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

struct fixture {
	struct keys_secret srv_k, usr_k;
	struct secure_identity srv_id, usr_id;
	struct secure *ready_server;  /* snapshot after a handshake */
	struct secure *ready_client;
};

static struct fixture fx;
/* FUZZ_HANDSHAKE_VERBOSE=1: say how far each input got (corpus checks). */
static int verbose;

static int lookup(void *ctx, const char *user, uint8_t pk[32])
{
	(void)ctx;
	if (strcmp(user, "alice") != 0)
		return -1;
	memcpy(pk, fx.usr_k.pk, 32);
	return 0;
}

static struct secure *clone(const struct secure *s)
{
	struct secure *c = malloc(sizeof *c);

	if (c)
		memcpy(c, s, sizeof *c);
	return c;
}

/* Moves all of src into dst (both raw buffers of RAW_CAP). */
static void move(struct buf *src, struct buf *dst, struct buf *record)
{
	size_t n = buf_len(src) < buf_room(dst) ? buf_len(src) : buf_room(dst);

	if (record && buf_room(record) >= n)
		buf_append(record, buf_data(src), n);
	buf_append(dst, buf_data(src), n);
	buf_consume(src, n);
}

/*
 * One deterministic session: the server draws randomness from
 * SERVER_SEED, the client from CLIENT_SEED, whatever the interleaving.
 * c2s/s2c record the wire when non-NULL.
 */
static void session(struct secure **cs, struct secure **ss, struct buf *c2s,
		    struct buf *s2c)
{
	uint64_t sctr = SERVER_SEED, cctr = CLIENT_SEED;
	struct buf ci, co, si, so;
	int rc_c = 0, rc_s = 0;

	buf_init(&ci, RAW_CAP);
	buf_init(&co, RAW_CAP);
	buf_init(&si, RAW_CAP);
	buf_init(&so, RAW_CAP);
	rng_ctr = &sctr;
	*ss = secure_server_new(&fx.srv_id, lookup, NULL, 0);
	rng_ctr = &cctr;
	*cs = secure_client_new(&fx.usr_id, "alice", fx.srv_k.pk, 0);
	for (int i = 0; i < 10 && (rc_c != SECURE_READY ||
				   rc_s != SECURE_READY); i++) {
		rng_ctr = &cctr;
		rc_c = secure_handshake(*cs, &ci, &co);
		move(&co, &si, c2s);
		rng_ctr = &sctr;
		rc_s = secure_handshake(*ss, &si, &so);
		move(&so, &ci, s2c);
	}
	rng_ctr = &rng_init_ctr;
	buf_free(&ci);
	buf_free(&co);
	buf_free(&si);
	buf_free(&so);
}

static void dump(const char *dir, const char *name, uint8_t mode,
		 const struct buf *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return;
	fputc(mode, f);
	fwrite(buf_data(b), 1, buf_len(b), f);
	fclose(f);
}

/* Seals text as data frames, then FINAL, from a copy of the client. */
static void seal_from(const struct secure *client, struct buf *out,
		      const char *text)
{
	struct secure *c = clone(client);
	struct buf p;

	buf_init(&p, 1024);
	buf_append(&p, text, strlen(text));
	secure_seal(c, &p, out);
	secure_close(c, out);
	secure_free(c);
	buf_free(&p);
}

static void dump_keys(const char *dir, struct buf *b)
{
	char line[KEYS_PUBLINE_MAX], path[512], err[KEYS_ERR_MAX];
	FILE *f;
	int c;

	buf_clear(b);
	keys_format_public(fx.usr_k.pk, "alice@fuzz", line, sizeof line);
	buf_append(b, line, strlen(line));
	dump(dir, "public_line", 4, b);
	/* a private key file as keys_write makes it */
	buf_clear(b);
	snprintf(path, sizeof path, "%s/.tmp_key", dir);
	strcpy(fx.usr_k.comment, "alice@fuzz");
	if (keys_write(path, &fx.usr_k, err) == 0 && (f = fopen(path, "r"))) {
		while ((c = fgetc(f)) != EOF && buf_room(b))
			buf_append(b, &(uint8_t){ (uint8_t)c }, 1);
		fclose(f);
		dump(dir, "private_key", 5, b);
	}
	remove(path);
	snprintf(path, sizeof path, "%s/.tmp_key.pub", dir);
	remove(path);
}

static void write_corpus(const char *dir)
{
	struct secure *c, *s;
	struct buf c2s, s2c, frames;

	buf_init(&c2s, RAW_CAP);
	buf_init(&s2c, RAW_CAP);
	buf_init(&frames, RAW_CAP);
	session(&c, &s, &c2s, &s2c);
	seal_from(c, &c2s, "hello server");
	seal_from(s, &s2c, "hello client");
	dump(dir, "server_session", 0, &c2s);
	dump(dir, "client_session", 2, &s2c);
	seal_from(fx.ready_client, &frames, "some data\n");
	dump(dir, "frames", 1, &frames);
	buf_clear(&frames);
	buf_append(&frames, "\3\0\0\0\5alice", 10);
	buf_append(&frames, fx.usr_k.pk, 32);
	dump(dir, "auth_plain", 3, &frames);
	dump_keys(dir, &frames);
	secure_free(c);
	secure_free(s);
	buf_free(&c2s);
	buf_free(&s2c);
	buf_free(&frames);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *d = getenv("FUZZ_HANDSHAKE_DUMP");

	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_HANDSHAKE_VERBOSE") != NULL;
	rng_ctr = &rng_init_ctr;
	randombytes_set_implementation(&rng);
	if (sodium_init() < 0)
		abort();
	crypto_sign_keypair(fx.srv_k.pk, fx.srv_k.sk);
	crypto_sign_keypair(fx.usr_k.pk, fx.usr_k.sk);
	keys_identity_from_secret(&fx.srv_id, &fx.srv_k);
	keys_identity_from_secret(&fx.usr_id, &fx.usr_k);
	session(&fx.ready_client, &fx.ready_server, NULL, NULL);
	if (!fx.ready_client || !fx.ready_server)
		abort();
	if (d)
		write_corpus(d);
	return 0;
}

/* Feeds in to a handshaking side, then frames if it got through. */
static void drive(struct secure *s, const uint8_t *p, size_t n)
{
	struct buf in, out, plain;

	buf_init(&in, RAW_CAP);
	buf_init(&out, RAW_CAP);
	buf_init(&plain, SECURE_FRAME_MAX);
	/* in pieces, as a socket would deliver it */
	while (n) {
		size_t k = n < buf_room(&in) ? n : buf_room(&in);
		int rc;

		buf_append(&in, p, k);
		p += k;
		n -= k;
		rc = secure_handshake(s, &in, &out);
		buf_clear(&out);
		if (rc == SECURE_READY)
			rc = secure_open(s, &in, &plain);
		if (verbose)
			fprintf(stderr, "fuzz_handshake: rc %d (%s), %zu "
				"plaintext bytes\n", rc, secure_error(s),
				buf_len(&plain));
		buf_clear(&plain);
		if (rc == SECURE_ERROR || !k)
			break;
	}
	buf_free(&in);
	buf_free(&out);
	buf_free(&plain);
}

/* Arbitrary auth plaintext, encrypted with the session's real keys. */
static void fuzz_auth(const uint8_t *p, size_t n)
{
	uint64_t sctr = SERVER_SEED, cctr = CLIENT_SEED;
	struct secure *c, *s, *k;
	struct buf ci, co, si, so;
	uint8_t m[SEC_AUTH_LEN] = { 0 };

	buf_init(&ci, RAW_CAP);
	buf_init(&co, RAW_CAP);
	buf_init(&si, RAW_CAP);
	buf_init(&so, RAW_CAP);
	rng_ctr = &sctr;
	s = secure_server_new(&fx.srv_id, lookup, NULL, 0);
	rng_ctr = &cctr;
	c = secure_client_new(&fx.usr_id, "alice", fx.srv_k.pk, 0);
	secure_handshake(c, &ci, &co);
	move(&co, &si, NULL);
	rng_ctr = &sctr;
	secure_handshake(s, &si, &so);
	/* the client's keys, derived by hand from the server hello */
	k = clone(c);
	memcpy(k->server_hello, buf_data(&so), SEC_SERVER_HELLO_LEN);
	sec_transcript1(k);
	if (sec_derive_keys(k, k->server_hello + SEC_HDR_LEN + 4) == 0 &&
	    sec_tx_start(k, &si) == 1) {
		memcpy(m, p, n < sizeof m ? n : sizeof m);
		sec_frame_put(k, &si, m, sizeof m, SEC_TAG_MESSAGE);
		secure_handshake(s, &si, &so);
	}
	rng_ctr = &rng_init_ctr;
	secure_free(k);
	secure_free(c);
	secure_free(s);
	buf_free(&ci);
	buf_free(&co);
	buf_free(&si);
	buf_free(&so);
}

static void fuzz_keys(int public, const uint8_t *p, size_t n)
{
	struct keys_secret k;
	char comment[64];
	const char *why;
	uint8_t pk[32];

	if (public)
		keys_parse_public((const char *)p, n, pk, comment,
				  sizeof comment, &why);
	else
		keys_parse_secret((const char *)p, n, &k, &why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t ctr = SERVER_SEED;
	struct secure *s;

	if (size < 1)
		return 0;
	rng_ctr = &ctr;
	switch (data[0] % 6) {
	case 0:
		s = secure_server_new(&fx.srv_id, lookup, NULL, 0);
		drive(s, data + 1, size - 1);
		secure_free(s);
		break;
	case 1:
		s = clone(fx.ready_server);
		drive(s, data + 1, size - 1);
		secure_free(s);
		break;
	case 2:
		ctr = CLIENT_SEED;
		s = secure_client_new(&fx.usr_id, "alice", fx.srv_k.pk, 0);
		drive(s, data + 1, size - 1);
		secure_free(s);
		break;
	case 3:
		fuzz_auth(data + 1, size - 1);
		break;
	default:
		fuzz_keys(data[0] % 6 == 4, data + 1, size - 1);
		break;
	}
	rng_ctr = &rng_init_ctr;
	return 0;
}
