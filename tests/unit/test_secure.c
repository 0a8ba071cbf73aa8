/*
 * The secure layer driven entirely through buffers: a "wire" moves bytes
 * between a client and a server and can flip, drop, record or replay them.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "keys.h"
#include "secure.h"

#define RAW_CAP (SECURE_RAW_MIN + 1024)
#define PLAIN_CAP SECURE_FRAME_MAX
#define REC_CAP (1 << 20)

struct user {
	const char *name;
	uint8_t pk[32];
};

struct side {
	struct secure *s;
	struct buf in, out;     /* raw */
	struct buf pin, pout;   /* plaintext */
	int rc;                 /* last handshake result */
};

struct wire {
	struct keys_secret srv_key, usr_key;
	struct secure_identity srv_id, usr_id;
	struct user users[2];
	size_t nusers;
	struct side c, s;
	/* direction 0 is client to server, 1 server to client */
	size_t moved[2];
	long flip_at[2];        /* byte index to flip, or -1 */
	struct buf rec[2];      /* everything that went over the wire */
	int drop[2];            /* discard instead of delivering */
};

static int lookup(void *ctx, const char *user, uint8_t pk[32])
{
	struct wire *w = ctx;

	for (size_t i = 0; i < w->nusers; i++)
		if (strcmp(w->users[i].name, user) == 0) {
			memcpy(pk, w->users[i].pk, 32);
			return 0;
		}
	return -1;
}

static void make_key(struct keys_secret *k, struct secure_identity *id)
{
	memset(k, 0, sizeof *k);
	crypto_sign_keypair(k->pk, k->sk);
	ck_assert_int_eq(keys_identity_from_secret(id, k), 0);
}

static void side_init(struct side *d)
{
	ck_assert_int_eq(buf_init(&d->in, RAW_CAP), 0);
	ck_assert_int_eq(buf_init(&d->out, RAW_CAP), 0);
	ck_assert_int_eq(buf_init(&d->pin, PLAIN_CAP), 0);
	ck_assert_int_eq(buf_init(&d->pout, PLAIN_CAP), 0);
	d->rc = SECURE_AGAIN;
}

static void side_free(struct side *d)
{
	secure_free(d->s);
	buf_free(&d->in);
	buf_free(&d->out);
	buf_free_secret(&d->pin);
	buf_free_secret(&d->pout);
}

/* A fresh pair: the client "alice" pins the right server key. */
static struct wire *wire_new(void)
{
	struct wire *w = calloc(1, sizeof *w);

	ck_assert_ptr_nonnull(w);
	ck_assert_int_ge(sodium_init(), 0);
	make_key(&w->srv_key, &w->srv_id);
	make_key(&w->usr_key, &w->usr_id);
	w->users[0].name = "alice";
	memcpy(w->users[0].pk, w->usr_key.pk, 32);
	w->users[1].name = "bob";
	randombytes_buf(w->users[1].pk, 32);
	w->nusers = 2;
	side_init(&w->c);
	side_init(&w->s);
	w->flip_at[0] = w->flip_at[1] = -1;
	ck_assert_int_eq(buf_init(&w->rec[0], REC_CAP), 0);
	ck_assert_int_eq(buf_init(&w->rec[1], REC_CAP), 0);
	w->s.s = secure_server_new(&w->srv_id, lookup, w, 0);
	w->c.s = secure_client_new(&w->usr_id, "alice", w->srv_key.pk, 0);
	ck_assert_ptr_nonnull(w->s.s);
	ck_assert_ptr_nonnull(w->c.s);
	return w;
}

static void wire_free(struct wire *w)
{
	side_free(&w->c);
	side_free(&w->s);
	keys_identity_free(&w->srv_id);
	keys_identity_free(&w->usr_id);
	keys_secret_wipe(&w->srv_key);
	keys_secret_wipe(&w->usr_key);
	buf_free(&w->rec[0]);
	buf_free(&w->rec[1]);
	free(w);
}

/* Moves raw bytes one way; returns how many. */
static size_t wire_move(struct wire *w, int dir)
{
	struct buf *src = dir ? &w->s.out : &w->c.out;
	struct buf *dst = dir ? &w->c.in : &w->s.in;
	size_t n = buf_len(src), room = buf_room(dst);
	uint8_t *p;

	if (n > room)
		n = room;
	if (!n)
		return 0;
	if (buf_room(&w->rec[dir]) >= n)
		buf_append(&w->rec[dir], buf_data(src), n);
	if (w->drop[dir]) {
		buf_consume(src, n);
		return n;
	}
	p = buf_reserve(dst, n);
	memcpy(p, buf_data(src), n);
	if (w->flip_at[dir] >= 0 && (size_t)w->flip_at[dir] >= w->moved[dir] &&
	    (size_t)w->flip_at[dir] < w->moved[dir] + n)
		p[w->flip_at[dir] - (long)w->moved[dir]] ^= 0x01;
	buf_commit(dst, n);
	buf_consume(src, n);
	w->moved[dir] += n;
	return n;
}

static int done(int rc)
{
	return rc == SECURE_READY || rc == SECURE_ERROR;
}

/* Runs both handshakes until both finish or nothing moves. */
static void wire_handshake(struct wire *w)
{
	for (int i = 0; i < 50; i++) {
		size_t moved;

		if (!done(w->c.rc))
			w->c.rc = secure_handshake(w->c.s, &w->c.in, &w->c.out);
		if (!done(w->s.rc))
			w->s.rc = secure_handshake(w->s.s, &w->s.in, &w->s.out);
		moved = wire_move(w, 0) + wire_move(w, 1);
		if (done(w->c.rc) && done(w->s.rc) && !moved)
			return;
		if (!moved && i > 0)
			return;
	}
}

static int both_ready(const struct wire *w)
{
	return w->c.rc == SECURE_READY && w->s.rc == SECURE_READY;
}

/*
 * Sends n bytes from one side to the other through seal/open, then a
 * FINAL when close is set. Returns the receiver's last open() result;
 * *got is how many plaintext bytes arrived (and matched).
 */
static int wire_send(struct wire *w, int dir, const uint8_t *data, size_t n,
		     int close, size_t *got)
{
	struct side *from = dir ? &w->s : &w->c, *to = dir ? &w->c : &w->s;
	size_t sent = 0;
	int rc = SECURE_AGAIN, closed = 0;

	*got = 0;
	for (int i = 0; i < 100000; i++) {
		size_t k = n - sent, moved;

		if (k > buf_room(&from->pout))
			k = buf_room(&from->pout);
		buf_append(&from->pout, data + sent, k);
		sent += k;
		if (secure_seal(from->s, &from->pout, &from->out) < 0)
			return SECURE_ERROR;
		if (close && sent == n && !buf_len(&from->pout) && !closed) {
			secure_close(from->s, &from->out);
			closed = secure_closed_out(from->s);
		}
		moved = wire_move(w, dir);
		rc = secure_open(to->s, &to->in, &to->pin);
		if (buf_len(&to->pin)) {
			if (*got + buf_len(&to->pin) > n ||
			    memcmp(buf_data(&to->pin), data + *got,
				   buf_len(&to->pin)) != 0)
				ck_abort_msg("delivered bytes differ");
			*got += buf_len(&to->pin);
			buf_clear(&to->pin);
		}
		if (rc != SECURE_AGAIN)
			return rc;
		if (!moved && sent == n && !buf_len(&from->pout) &&
		    (!close || closed))
			return rc;
	}
	return rc;
}

START_TEST(test_handshake_and_data)
{
	struct wire *w = wire_new();
	size_t n = 1 << 20, got;
	uint8_t *data = malloc(n), pk[32];

	randombytes_buf(data, n);
	wire_handshake(w);
	ck_assert_msg(both_ready(w), "client: %s / server: %s",
		      secure_error(w->c.s), secure_error(w->s.s));
	ck_assert_str_eq(secure_peer_user(w->s.s), "alice");
	secure_peer_pk(w->s.s, pk);
	ck_assert_mem_eq(pk, w->usr_key.pk, 32);
	secure_peer_pk(w->c.s, pk);
	ck_assert_mem_eq(pk, w->srv_key.pk, 32);
	/* both ways, then FINAL both ways */
	ck_assert_int_eq(wire_send(w, 0, data, n, 0, &got), SECURE_AGAIN);
	ck_assert_uint_eq(got, n);
	ck_assert_int_eq(wire_send(w, 1, data, n, 1, &got), SECURE_READY);
	ck_assert_uint_eq(got, n);
	ck_assert(secure_closed_in(w->c.s));
	ck_assert(secure_closed_out(w->s.s));
	ck_assert_int_eq(wire_send(w, 0, data, 1000, 1, &got), SECURE_READY);
	ck_assert_uint_eq(got, 1000);
	ck_assert(secure_closed_in(w->s.s));
	/* nothing may follow FINAL */
	buf_append(&w->c.pout, "x", 1);
	ck_assert_int_eq(secure_seal(w->c.s, &w->c.pout, &w->c.out),
			 SECURE_ERROR);
	free(data);
	wire_free(w);
}
END_TEST

START_TEST(test_small_frame_limit)
{
	struct wire *w = wire_new();
	size_t n = 100000, got;
	uint8_t *data = malloc(n);

	/* the server accepts 2000-byte frames only: the client must obey */
	secure_free(w->s.s);
	w->s.s = secure_server_new(&w->srv_id, lookup, w, 2000);
	randombytes_buf(data, n);
	wire_handshake(w);
	ck_assert(both_ready(w));
	ck_assert_int_eq(wire_send(w, 0, data, n, 1, &got), SECURE_READY);
	ck_assert_uint_eq(got, n);
	free(data);
	wire_free(w);
}
END_TEST

static void expect_refused(struct wire *w, const char *client_err,
			   const char *server_err)
{
	size_t got;

	wire_handshake(w);
	ck_assert_int_eq(w->c.rc, SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(w->c.s), client_err),
		      "client error: %s", secure_error(w->c.s));
	if (server_err) {
		ck_assert_int_eq(w->s.rc, SECURE_ERROR);
		ck_assert_msg(strstr(secure_error(w->s.s), server_err),
			      "server error: %s", secure_error(w->s.s));
	}
	ck_assert_ptr_null(secure_peer_user(w->s.s));
	/* and no data can flow either way */
	ck_assert_int_eq(wire_send(w, 0, (const uint8_t *)"hi", 2, 0, &got),
			 SECURE_ERROR);
	ck_assert_uint_eq(got, 0);
}

START_TEST(test_unknown_user)
{
	struct wire *w = wire_new();

	secure_free(w->c.s);
	w->c.s = secure_client_new(&w->usr_id, "mallory", w->srv_key.pk, 0);
	expect_refused(w, "server refused: authentication failed",
		       "unknown user \"mallory\"");
	wire_free(w);
}
END_TEST

START_TEST(test_wrong_user_key)
{
	struct wire *w = wire_new();

	/* bob exists, but alice's key is not his */
	secure_free(w->c.s);
	w->c.s = secure_client_new(&w->usr_id, "bob", w->srv_key.pk, 0);
	expect_refused(w, "server refused: authentication failed",
		       "user \"bob\" offered key SHA256:");
	wire_free(w);
}
END_TEST

/* Unknown user and wrong key look exactly alike to the client. */
START_TEST(test_same_refusal)
{
	struct wire *a = wire_new(), *b = wire_new();

	secure_free(a->c.s);
	a->c.s = secure_client_new(&a->usr_id, "nobody", a->srv_key.pk, 0);
	secure_free(b->c.s);
	b->c.s = secure_client_new(&b->usr_id, "bob", b->srv_key.pk, 0);
	wire_handshake(a);
	wire_handshake(b);
	ck_assert_str_eq(secure_error(a->c.s), secure_error(b->c.s));
	ck_assert_str_ne(secure_error(a->s.s), secure_error(b->s.s));
	/* and the same number of bytes on the wire */
	ck_assert_uint_eq(a->moved[1], b->moved[1]);
	ck_assert_uint_eq(a->moved[0], b->moved[0]);
	wire_free(a);
	wire_free(b);
}
END_TEST

/* An auth frame the server cannot decrypt: the client hears why. */
START_TEST(test_undecryptable_auth)
{
	struct wire *w = wire_new();

	w->flip_at[0] = 74 + 30; /* inside the auth frame's ciphertext */
	expect_refused(w, "server refused: handshake failed",
		       "failed authentication");
	wire_free(w);
}
END_TEST

START_TEST(test_wrong_server_key)
{
	struct wire *w = wire_new();
	uint8_t other[32];

	randombytes_buf(other, sizeof other);
	secure_free(w->c.s);
	w->c.s = secure_client_new(&w->usr_id, "alice", other, 0);
	expect_refused(w, "server key mismatch", NULL);
	/* the user's name never left the client */
	ck_assert_int_ne(w->s.rc, SECURE_READY);
	wire_free(w);
}
END_TEST

START_TEST(test_garbage_hello)
{
	struct wire *w = wire_new();
	const char junk[] = "SSH-2.0-OpenSSH_9.2\r\n";

	buf_append(&w->s.in, junk, sizeof junk - 1);
	ck_assert_int_eq(secure_handshake(w->s.s, &w->s.in, &w->s.out),
			 SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(w->s.s), "does not speak"), "%s",
		      secure_error(w->s.s));
	ck_assert_uint_eq(buf_len(&w->s.out), 0);
	/* and the client facing a plain server */
	ck_assert_int_eq(secure_handshake(w->c.s, &w->c.in, &w->c.out),
			 SECURE_AGAIN);
	buf_append(&w->c.in, "hello\n", 6);
	ck_assert_int_eq(secure_handshake(w->c.s, &w->c.in, &w->c.out),
			 SECURE_ERROR);
	wire_free(w);
}
END_TEST

START_TEST(test_bad_version)
{
	struct wire *w = wire_new();
	uint8_t hello[6] = { 'h', 'S', 'e', 'C', 9, 1 };

	buf_append(&w->s.in, hello, sizeof hello);
	ck_assert_int_eq(secure_handshake(w->s.s, &w->s.in, &w->s.out),
			 SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(w->s.s), "version 9"), "%s",
		      secure_error(w->s.s));
	wire_free(w);
}
END_TEST

/* A flipped bit anywhere in the handshake, either way, is refused. */
START_TEST(test_flip_every_handshake_byte)
{
	struct wire *w = wire_new();
	size_t len[2];

	wire_handshake(w);
	ck_assert(both_ready(w));
	len[0] = w->moved[0];
	len[1] = w->moved[1];
	wire_free(w);
	for (int dir = 0; dir < 2; dir++)
		for (size_t i = 0; i < len[dir]; i++) {
			size_t got;

			w = wire_new();
			w->flip_at[dir] = (long)i;
			wire_handshake(w);
			ck_assert_msg(!both_ready(w), "dir %d byte %zu", dir, i);
			ck_assert_msg(w->c.rc == SECURE_ERROR ||
					      w->s.rc == SECURE_ERROR,
				      "dir %d byte %zu: no clear error", dir, i);
			wire_send(w, 0, (const uint8_t *)"x", 1, 1, &got);
			ck_assert_uint_eq(got, 0);
			wire_free(w);
		}
}
END_TEST

/* Flipped bytes in data frames, either way: an error, never altered data. */
START_TEST(test_flip_frames)
{
	uint8_t data[3000];

	randombytes_buf(data, sizeof data);
	for (int dir = 0; dir < 2; dir++)
		for (size_t i = 0; i < sizeof data + 3 * SECURE_FRAME_OVERHEAD;
		     i += 5) {
			struct wire *w = wire_new();
			struct secure *to;
			size_t got;
			int rc;

			wire_handshake(w);
			ck_assert(both_ready(w));
			to = dir ? w->c.s : w->s.s;
			w->flip_at[dir] = (long)(w->moved[dir] + i);
			/* three frames of 1000 bytes, then FINAL */
			rc = wire_send(w, dir, data, 1000, 0, &got);
			if (rc != SECURE_ERROR)
				rc = wire_send(w, dir, data + 1000, 1000, 0,
					       &got);
			if (rc != SECURE_ERROR)
				rc = wire_send(w, dir, data + 2000, 1000, 1,
					       &got);
			ck_assert_msg(rc != SECURE_READY,
				      "dir %d flip at %zu unnoticed", dir, i);
			ck_assert(!secure_closed_in(to));
			wire_free(w);
		}
}
END_TEST

START_TEST(test_replay_server_hello)
{
	struct wire *a = wire_new(), *b;

	wire_handshake(a);
	ck_assert(both_ready(a));
	b = wire_new();
	/* same server key, so the pin matches: only freshness can save b */
	secure_free(b->c.s);
	b->c.s = secure_client_new(&b->usr_id, "alice", a->srv_key.pk, 0);
	ck_assert_int_eq(secure_handshake(b->c.s, &b->c.in, &b->c.out),
			 SECURE_AGAIN);
	buf_append(&b->c.in, buf_data(&a->rec[1]), buf_len(&a->rec[1]));
	ck_assert_int_eq(secure_handshake(b->c.s, &b->c.in, &b->c.out),
			 SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(b->c.s), "signature"), "%s",
		      secure_error(b->c.s));
	wire_free(a);
	wire_free(b);
}
END_TEST

START_TEST(test_replay_client)
{
	struct wire *a = wire_new();
	struct secure *srv;
	struct buf in, out;
	uint8_t data[100];
	size_t got;

	randombytes_buf(data, sizeof data);
	wire_handshake(a);
	ck_assert(both_ready(a));
	wire_send(a, 0, data, sizeof data, 1, &got);
	ck_assert_uint_eq(got, sizeof data);
	/* the whole recorded client side, to a new server with the same key */
	srv = secure_server_new(&a->srv_id, lookup, a, 0);
	buf_init(&in, RAW_CAP);
	buf_init(&out, RAW_CAP);
	buf_append(&in, buf_data(&a->rec[0]), buf_len(&a->rec[0]));
	ck_assert_int_eq(secure_handshake(srv, &in, &out), SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(srv), "failed authentication"), "%s",
		      secure_error(srv));
	ck_assert_ptr_null(secure_peer_user(srv));
	secure_free(srv);
	buf_free(&in);
	buf_free(&out);
	wire_free(a);
}
END_TEST

/* A server's frames sent back to it do not decrypt (one key per way). */
START_TEST(test_reflection)
{
	struct wire *w = wire_new();

	wire_handshake(w);
	ck_assert(both_ready(w));
	buf_append(&w->s.pout, "reflect me", 10);
	secure_seal(w->s.s, &w->s.pout, &w->s.out);
	buf_append(&w->s.in, buf_data(&w->s.out), buf_len(&w->s.out));
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	ck_assert_uint_eq(buf_len(&w->s.pin), 0);
	wire_free(w);
}
END_TEST

static void seal_two(struct wire *w, uint8_t *f, size_t *n1, size_t *n2)
{
	buf_append(&w->c.pout, "first", 5);
	secure_seal(w->c.s, &w->c.pout, &w->c.out);
	*n1 = buf_len(&w->c.out);
	buf_append(&w->c.pout, "second", 6);
	secure_seal(w->c.s, &w->c.pout, &w->c.out);
	*n2 = buf_len(&w->c.out) - *n1;
	memcpy(f, buf_data(&w->c.out), *n1 + *n2);
	buf_clear(&w->c.out);
}

START_TEST(test_reorder_and_replay_frames)
{
	struct wire *w = wire_new();
	uint8_t f[256];
	size_t n1, n2;

	wire_handshake(w);
	ck_assert(both_ready(w));
	seal_two(w, f, &n1, &n2);
	buf_append(&w->s.in, f + n1, n2); /* second first */
	buf_append(&w->s.in, f, n1);
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	ck_assert_uint_eq(buf_len(&w->s.pin), 0);
	wire_free(w);

	w = wire_new();
	wire_handshake(w);
	seal_two(w, f, &n1, &n2);
	buf_append(&w->s.in, f, n1);
	buf_append(&w->s.in, f, n1); /* replayed */
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	ck_assert_uint_eq(buf_len(&w->s.pin), 5);
	wire_free(w);
}
END_TEST

START_TEST(test_truncation)
{
	struct wire *w = wire_new();
	uint8_t data[5000];
	size_t got;

	randombytes_buf(data, sizeof data);
	wire_handshake(w);
	ck_assert(both_ready(w));
	/* everything but FINAL: open() never says READY */
	ck_assert_int_eq(wire_send(w, 0, data, sizeof data, 0, &got),
			 SECURE_AGAIN);
	ck_assert_uint_eq(got, sizeof data);
	ck_assert(!secure_closed_in(w->s.s));
	/* FINAL cut short by one byte: still not closed */
	secure_close(w->c.s, &w->c.out);
	ck_assert(secure_closed_out(w->c.s));
	buf_append(&w->s.in, buf_data(&w->c.out), buf_len(&w->c.out) - 1);
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_AGAIN);
	ck_assert(!secure_closed_in(w->s.s));
	wire_free(w);
}
END_TEST

START_TEST(test_oversized_frame)
{
	struct wire *w = wire_new();
	/* only the length: refused before any body arrives */
	uint8_t len[4] = { 0, 1, 0, 0x12 }; /* 65536 + 17 + 1 */

	wire_handshake(w);
	ck_assert(both_ready(w));
	buf_append(&w->s.in, len, sizeof len);
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(w->s.s), "oversized"), "%s",
		      secure_error(w->s.s));
	wire_free(w);

	/* a server configured for 4096-byte frames refuses 4097 */
	w = wire_new();
	secure_free(w->s.s);
	w->s.s = secure_server_new(&w->srv_id, lookup, w, 4096);
	wire_handshake(w);
	ck_assert(both_ready(w));
	len[0] = 0;
	len[1] = 0;
	len[2] = 0x10;
	len[3] = 0x12;
	buf_append(&w->s.in, len, sizeof len);
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	/* and a frame shorter than its tag */
	wire_free(w);
	w = wire_new();
	wire_handshake(w);
	memset(len, 0, sizeof len);
	buf_append(&w->c.in, len, sizeof len);
	ck_assert_int_eq(secure_open(w->c.s, &w->c.in, &w->c.pin),
			 SECURE_ERROR);
	wire_free(w);
}
END_TEST

START_TEST(test_data_after_final)
{
	struct wire *w = wire_new();
	size_t got;

	wire_handshake(w);
	ck_assert_int_eq(wire_send(w, 0, (const uint8_t *)"ab", 2, 1, &got),
			 SECURE_READY);
	buf_append(&w->s.in, "more", 4);
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	wire_free(w);
}
END_TEST

START_TEST(test_bad_args)
{
	struct keys_secret k;
	struct secure_identity id;
	uint8_t pk[32] = { 0 };
	char longname[SECURE_USER_MAX + 2];

	make_key(&k, &id);
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	ck_assert_ptr_null(secure_client_new(&id, "", pk, 0));
	ck_assert_ptr_null(secure_client_new(&id, longname, pk, 0));
	ck_assert_ptr_null(secure_server_new(&id, NULL, NULL, 0));
	longname[SECURE_USER_MAX] = 0;
	secure_free(secure_client_new(&id, longname, pk, 0));
	keys_identity_free(&id);
}
END_TEST

static Suite *secure_suite(void)
{
	Suite *s = suite_create("secure");
	TCase *core = tcase_create("core");
	TCase *refuse = tcase_create("refusals");
	TCase *frames = tcase_create("frames");

	tcase_set_timeout(refuse, 120);
	tcase_set_timeout(frames, 60);
	tcase_add_test(core, test_handshake_and_data);
	tcase_add_test(core, test_small_frame_limit);
	tcase_add_test(core, test_bad_args);
	tcase_add_test(refuse, test_unknown_user);
	tcase_add_test(refuse, test_wrong_user_key);
	tcase_add_test(refuse, test_wrong_server_key);
	tcase_add_test(refuse, test_same_refusal);
	tcase_add_test(refuse, test_undecryptable_auth);
	tcase_add_test(refuse, test_garbage_hello);
	tcase_add_test(refuse, test_bad_version);
	tcase_add_test(refuse, test_flip_every_handshake_byte);
	tcase_add_test(refuse, test_replay_server_hello);
	tcase_add_test(refuse, test_replay_client);
	tcase_add_test(frames, test_flip_frames);
	tcase_add_test(frames, test_reflection);
	tcase_add_test(frames, test_reorder_and_replay_frames);
	tcase_add_test(frames, test_truncation);
	tcase_add_test(frames, test_oversized_frame);
	tcase_add_test(frames, test_data_after_final);
	suite_add_tcase(s, core);
	suite_add_tcase(s, refuse);
	suite_add_tcase(s, frames);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(secure_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
