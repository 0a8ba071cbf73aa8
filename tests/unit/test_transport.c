/*
 * The transport (handler/secure/transport.c) over real fds: plain bytes
 * straight between the fds and the caller's buffers; a client and a server
 * transport over a socketpair for the handshake, data, FINAL each way,
 * truncation (at a frame boundary, mid-frame, and the room rule with the
 * frame bound given at init), and a dead writer.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "fdutil.h"
#include "keys.h"
#include "secure.h"
#include "transport.h"

#define PLAIN_CAP (1u << 20)
#define BIG (200u * 1024u)

struct end {
	struct transport t;
	struct buf in, out;
	int opened[3];              /* transport_open(): READY and CUT seen */
	int closing;                /* transport_close() on every pass */
};

/* A client ("alice") and a server transport joined by a socketpair. */
struct pair {
	struct keys_secret srv_key, usr_key;
	struct secure_identity srv_id, usr_id;
	struct secure *csec, *ssec;
	struct end c, s;
	int fd[2];                  /* the client's end, the server's end */
};

static uint8_t pat(size_t i)
{
	return (uint8_t)((i * 131u) ^ (i >> 9));
}

static int lookup(void *ctx, const char *user, uint8_t pk[32])
{
	struct pair *p = ctx;

	if (strcmp(user, "alice") != 0)
		return -1;
	memcpy(pk, p->usr_key.pk, 32);
	return 0;
}

static void make_key(struct keys_secret *k, struct secure_identity *id)
{
	memset(k, 0, sizeof *k);
	crypto_sign_keypair(k->pk, k->sk);
	ck_assert_int_eq(keys_identity_from_secret(id, k), 0);
}

static void end_init(struct end *e, int fd_in, int fd_out,
		     struct secure *sec, size_t in_cap, uint32_t frame_max)
{
	memset(e, 0, sizeof *e);
	ck_assert_int_eq(buf_init(&e->in, in_cap), 0);
	ck_assert_int_eq(buf_init(&e->out, PLAIN_CAP), 0);
	ck_assert_int_eq(transport_init(&e->t, fd_in, fd_out, sec, &e->in,
					&e->out, frame_max), 0);
}

static void end_free(struct end *e)
{
	transport_free(&e->t);
	buf_free(&e->in);
	buf_free(&e->out);
}

/* srv_max is the server's frame limit and truncation bound alike. */
static struct pair *pair_new(uint32_t srv_max, size_t srv_in_cap)
{
	struct pair *p = calloc(1, sizeof *p);

	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(sodium_init(), 0);
	make_key(&p->srv_key, &p->srv_id);
	make_key(&p->usr_key, &p->usr_id);
	p->ssec = secure_server_new(&p->srv_id, lookup, p, srv_max);
	p->csec = secure_client_new(&p->usr_id, "alice", p->srv_key.pk, 0);
	ck_assert_ptr_nonnull(p->ssec);
	ck_assert_ptr_nonnull(p->csec);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	ck_assert_int_eq(fd_nonblock(p->fd[0]), 0);
	ck_assert_int_eq(fd_nonblock(p->fd[1]), 0);
	end_init(&p->c, p->fd[0], p->fd[0], p->csec, PLAIN_CAP,
		 SECURE_FRAME_MAX);
	end_init(&p->s, p->fd[1], p->fd[1], p->ssec, srv_in_cap, srv_max);
	return p;
}

static void pair_free(struct pair *p)
{
	end_free(&p->c);
	end_free(&p->s);
	secure_free(p->csec);
	secure_free(p->ssec);
	keys_identity_free(&p->srv_id);
	keys_identity_free(&p->usr_id);
	keys_secret_wipe(&p->srv_key);
	keys_secret_wipe(&p->usr_key);
	fd_close(&p->fd[0]);
	fd_close(&p->fd[1]);
	free(p);
}

static void frames(struct end *e)
{
	int r = transport_open(&e->t);

	if (r == TRANSPORT_READY || r == TRANSPORT_CUT)
		e->opened[r]++;
	transport_seal(&e->t);
	if (e->closing)
		transport_close(&e->t);
}

/* One pass of a loop on one end, without poll: the fds never block. */
static void pass(struct end *e)
{
	if (transport_want_in(&e->t))
		transport_read(&e->t);
	if (transport_handshake(&e->t) == TRANSPORT_READY)
		frames(e);
	if (transport_want_out(&e->t))
		transport_write(&e->t);
}

/* Passes on both ends until done() holds or 2000 passes went by. */
static int pump(struct pair *p, int (*done)(const struct pair *))
{
	for (int i = 0; i < 2000; i++) {
		if (done(p))
			return 1;
		pass(&p->c);
		pass(&p->s);
	}
	return done(p);
}

static int handshaken(const struct pair *p)
{
	return p->c.t.handshaken && p->s.t.handshaken;
}

static void handshake(struct pair *p)
{
	ck_assert(pump(p, handshaken));
	ck_assert_str_eq(secure_peer_user(p->s.t.sec), "alice");
}

static int server_eof(const struct pair *p)
{
	return p->s.t.raw_eof && !transport_want_in(&p->s.t);
}

/* ---- plain ---- */

START_TEST(plain_passthrough)
{
	struct end e;
	int a[2], b[2];
	char got[16] = "";

	ck_assert_int_eq(pipe(a), 0);
	ck_assert_int_eq(pipe(b), 0);
	ck_assert_int_eq(fd_nonblock(a[0]), 0);
	ck_assert_int_eq(fd_nonblock(b[1]), 0);
	end_init(&e, a[0], b[1], NULL, 64, 0);
	ck_assert(e.t.handshaken);
	ck_assert_int_eq(transport_handshake(&e.t), TRANSPORT_READY);
	ck_assert_int_eq(transport_read(&e.t), 0);
	ck_assert_int_eq(fd_write_all(a[1], "hello", 5), 0);
	ck_assert_int_eq(transport_read(&e.t), 5);
	/* No copy: the bytes are in the caller's buffer, no raw buffers. */
	ck_assert_ptr_null(e.t.raw_in.data);
	ck_assert_ptr_null(e.t.raw_out.data);
	ck_assert_mem_eq(buf_data(&e.in), "hello", 5);
	ck_assert_uint_eq(e.t.bytes_in, 5);
	ck_assert_uint_eq(e.t.raw_bytes_in, 5);
	ck_assert_int_eq(transport_open(&e.t), TRANSPORT_AGAIN);

	ck_assert(!transport_want_out(&e.t));
	ck_assert_int_eq(buf_append(&e.out, "world", 5), 0);
	ck_assert_int_eq(transport_seal(&e.t), TRANSPORT_AGAIN);
	ck_assert_uint_eq(transport_pending(&e.t), 5);
	ck_assert(transport_want_out(&e.t));
	ck_assert(!transport_flushed(&e.t));
	ck_assert_int_eq(transport_write(&e.t), 5);
	ck_assert_uint_eq(buf_len(&e.out), 0);
	ck_assert_uint_eq(e.t.bytes_out, 5);
	ck_assert(transport_flushed(&e.t));
	ck_assert(transport_closed_out(&e.t));
	ck_assert_int_eq(read(b[0], got, sizeof got), 5);
	ck_assert_mem_eq(got, "world", 5);

	/* EOF is the plain peer's clean end, reported once. */
	close(a[1]);
	ck_assert_int_eq(transport_read(&e.t), TRANSPORT_IO_EOF);
	ck_assert(e.t.raw_eof);
	ck_assert(!transport_want_in(&e.t));
	ck_assert_int_eq(transport_open(&e.t), TRANSPORT_READY);
	ck_assert(e.t.peer_final);
	ck_assert_int_eq(transport_open(&e.t), TRANSPORT_AGAIN);
	ck_assert(!transport_cut(&e.t));
	end_free(&e);
	close(a[0]);
	close(b[0]);
	close(b[1]);
}
END_TEST

/* ---- secure ---- */

static int server_has_hello(const struct pair *p)
{
	return buf_len(&p->s.in) == 5;
}

static int client_has_big(const struct pair *p)
{
	return buf_len(&p->c.in) == BIG;
}

START_TEST(secure_data_both_ways)
{
	struct pair *p = pair_new(0, PLAIN_CAP);
	uint8_t *big = buf_reserve(&p->s.out, BIG);

	ck_assert_int_eq(transport_handshake(&p->s.t), TRANSPORT_AGAIN);
	handshake(p);
	ck_assert_int_eq(buf_append(&p->c.out, "hello", 5), 0);
	ck_assert(pump(p, server_has_hello));
	ck_assert_mem_eq(buf_data(&p->s.in), "hello", 5);
	ck_assert_uint_eq(p->s.t.bytes_in, 5);
	ck_assert_uint_eq(p->c.t.bytes_out, 5);
	/* Frames cost bytes on the wire: the counts are of raw bytes. */
	ck_assert_uint_gt(p->c.t.raw_bytes_out, 5 + SECURE_FRAME_OVERHEAD);
	ck_assert_uint_eq(p->c.t.raw_bytes_out, p->s.t.raw_bytes_in);

	/* More than a frame and more than the socket holds at once. */
	for (size_t i = 0; i < BIG; i++)
		big[i] = pat(i);
	buf_commit(&p->s.out, BIG);
	ck_assert(pump(p, client_has_big));
	for (size_t i = 0; i < BIG; i++)
		ck_assert_uint_eq(buf_data(&p->c.in)[i], pat(i));
	ck_assert_uint_eq(p->s.t.bytes_out, BIG);
	ck_assert_uint_eq(p->c.t.bytes_in, BIG);
	pair_free(p);
}
END_TEST

static int server_saw_final(const struct pair *p)
{
	return p->s.opened[TRANSPORT_READY] > 0;
}

static int both_done(const struct pair *p)
{
	return p->c.opened[TRANSPORT_READY] > 0 && transport_flushed(&p->s.t);
}

START_TEST(final_both_ways)
{
	struct pair *p = pair_new(0, PLAIN_CAP);

	handshake(p);
	/* Data queued before the FINAL is sealed ahead of it. */
	ck_assert_int_eq(buf_append(&p->c.out, "bye", 3), 0);
	ck_assert(!transport_flushed(&p->c.t));
	p->c.closing = 1;
	ck_assert(pump(p, server_saw_final));
	ck_assert(transport_closed_out(&p->c.t));
	ck_assert(transport_flushed(&p->c.t));
	ck_assert_mem_eq(buf_data(&p->s.in), "bye", 3);
	ck_assert(p->s.t.peer_final);
	ck_assert(!p->c.t.peer_final);

	/* The half close: the server still sends, then its own FINAL. */
	ck_assert_int_eq(buf_append(&p->s.out, "ok", 2), 0);
	p->s.closing = 1;
	ck_assert(pump(p, both_done));
	ck_assert_mem_eq(buf_data(&p->c.in), "ok", 2);
	ck_assert(p->c.t.peer_final);
	ck_assert_int_eq(p->s.opened[TRANSPORT_READY], 1);
	ck_assert_int_eq(p->c.opened[TRANSPORT_READY], 1);

	/* EOF after a FINAL is a clean end, not a cut. */
	shutdown(p->fd[0], SHUT_WR);
	ck_assert(pump(p, server_eof));
	ck_assert(!transport_cut(&p->s.t));
	ck_assert_int_eq(p->s.opened[TRANSPORT_CUT], 0);
	ck_assert(!p->c.t.failed && !p->s.t.failed);
	pair_free(p);
}
END_TEST

/* The client's next frame is sealed; only `part` bytes of it reach the
 * server (all when part is 0), then the client's side is shut. */
static void client_cut(struct pair *p, const char *text, size_t part)
{
	struct end *c = &p->c;

	ck_assert_int_eq(buf_append(&c->out, text, strlen(text)), 0);
	ck_assert_int_eq(transport_seal(&c->t), TRANSPORT_AGAIN);
	ck_assert_uint_eq(transport_pending(&c->t),
			  strlen(text) + SECURE_FRAME_OVERHEAD);
	if (!part)
		part = transport_pending(&c->t);
	ck_assert_int_eq(fd_write_all(p->fd[0], buf_data(&c->t.raw_out), part),
			 0);
	buf_clear(&c->t.raw_out);
	ck_assert_int_eq(shutdown(p->fd[0], SHUT_WR), 0);
	ck_assert(pump(p, server_eof));
}

START_TEST(cut_at_frame_boundary)
{
	struct pair *p = pair_new(0, PLAIN_CAP);

	handshake(p);
	client_cut(p, "whole", 0);
	/* The whole frame was delivered; then EOF without FINAL. */
	ck_assert_mem_eq(buf_data(&p->s.in), "whole", 5);
	ck_assert_int_eq(p->s.opened[TRANSPORT_CUT], 1);
	ck_assert_int_eq(p->s.opened[TRANSPORT_READY], 0);
	ck_assert(p->s.t.truncated);
	ck_assert(!p->s.t.peer_final);
	ck_assert(transport_cut(&p->s.t));
	ck_assert_int_eq(transport_open(&p->s.t), TRANSPORT_AGAIN);
	pair_free(p);
}
END_TEST

START_TEST(cut_mid_frame)
{
	struct pair *p = pair_new(0, PLAIN_CAP);

	handshake(p);
	client_cut(p, "never whole", 10);
	ck_assert_uint_eq(buf_len(&p->s.in), 0);
	ck_assert_uint_eq(buf_len(&p->s.t.raw_in), 10);
	ck_assert_int_eq(p->s.opened[TRANSPORT_CUT], 1);
	ck_assert(p->s.t.truncated);
	ck_assert(!p->s.t.failed);
	pair_free(p);
}
END_TEST

/*
 * A partial frame at EOF while `in` has less room than the largest frame
 * the peer may send: it may yet be whole, so it is not judged until the
 * reader makes room. The bound is the one given at init: with a 2048-byte
 * frame limit the same room is plenty (_i == 1).
 */
START_TEST(cut_waits_for_room)
{
	uint32_t max = _i ? 2048 : 0;
	struct pair *p = pair_new(max, SECURE_FRAME_MAX + 4096);
	uint8_t *junk = buf_reserve(&p->s.in, 8192);

	memset(junk, 'j', 8192);
	buf_commit(&p->s.in, 8192);
	ck_assert_uint_lt(buf_room(&p->s.in), SECURE_FRAME_MAX);
	ck_assert_uint_ge(buf_room(&p->s.in), 2048);
	handshake(p);
	client_cut(p, "partial frame", 12);
	if (_i) {
		ck_assert_int_eq(p->s.opened[TRANSPORT_CUT], 1);
		ck_assert(p->s.t.truncated);
	} else {
		ck_assert_int_eq(p->s.opened[TRANSPORT_CUT], 0);
		ck_assert(!transport_cut(&p->s.t));
		buf_clear(&p->s.in);
		ck_assert(transport_cut(&p->s.t));
		ck_assert(p->s.t.truncated);
		ck_assert_int_eq(transport_open(&p->s.t), TRANSPORT_AGAIN);
	}
	pair_free(p);
}
END_TEST

/* ---- a dead writer ---- */

START_TEST(plain_write_fails)
{
	struct end e;
	int a[2];

	ck_assert_int_eq(pipe(a), 0);
	ck_assert_int_eq(fd_nonblock(a[1]), 0);
	close(a[0]);
	end_init(&e, -1, a[1], NULL, 64, 0);
	ck_assert_int_eq(buf_append(&e.out, "lost", 4), 0);
	ck_assert(!transport_flushed(&e.t));
	ck_assert_int_eq(transport_write(&e.t), TRANSPORT_IO_FAILED);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert(e.t.out_dead);
	ck_assert(!transport_want_out(&e.t));
	/* Nothing more can go out, so there is nothing to wait for. */
	ck_assert(transport_flushed(&e.t));
	ck_assert_uint_eq(e.t.bytes_out, 0);
	end_free(&e);
	close(a[1]);
}
END_TEST

START_TEST(secure_peer_vanishes)
{
	struct pair *p = pair_new(0, PLAIN_CAP);

	handshake(p);
	fd_close(&p->fd[0]);
	ck_assert_int_eq(buf_append(&p->s.out, "anyone?", 7), 0);
	ck_assert_int_eq(transport_seal(&p->s.t), TRANSPORT_AGAIN);
	ck_assert(transport_want_out(&p->s.t));
	ck_assert_int_eq(transport_write(&p->s.t), TRANSPORT_IO_FAILED);
	ck_assert(errno == EPIPE || errno == ECONNRESET);
	ck_assert(p->s.t.out_dead);
	/* No FINAL is queued for a peer that is gone. */
	ck_assert_int_eq(transport_close(&p->s.t), TRANSPORT_AGAIN);
	ck_assert(!transport_closed_out(&p->s.t));
	ck_assert(transport_flushed(&p->s.t));
	ck_assert(!transport_want_out(&p->s.t));
	pair_free(p);
}
END_TEST

static int server_failed(const struct pair *p)
{
	return p->s.t.failed;
}

/* A flipped bit in a frame: the stream fails, and stays failed. */
START_TEST(bad_frame_fails)
{
	struct pair *p = pair_new(0, PLAIN_CAP);
	struct end *c = &p->c;
	uint8_t *f;

	handshake(p);
	ck_assert_int_eq(buf_append(&c->out, "tampered", 8), 0);
	ck_assert_int_eq(transport_seal(&c->t), TRANSPORT_AGAIN);
	ck_assert_uint_eq(transport_pending(&c->t), 8 + SECURE_FRAME_OVERHEAD);
	f = c->t.raw_out.data + c->t.raw_out.start;
	f[6] ^= 0x01;
	ck_assert(pump(p, server_failed));
	ck_assert_ptr_nonnull(strstr(transport_error(&p->s.t),
				     "failed authentication"));
	ck_assert_uint_eq(buf_len(&p->s.in), 0);
	ck_assert_int_eq(transport_open(&p->s.t), TRANSPORT_AGAIN);
	ck_assert_int_eq(transport_close(&p->s.t), TRANSPORT_AGAIN);
	ck_assert(!transport_closed_out(&p->s.t));
	ck_assert(!transport_cut(&p->s.t));
	pair_free(p);
}
END_TEST

static Suite *transport_suite(void)
{
	Suite *s = suite_create("transport");
	TCase *sec = tcase_create("streams");
	TCase *cut = tcase_create("truncation");
	TCase *dead = tcase_create("failures");

	tcase_set_timeout(sec, 30);
	tcase_add_test(sec, plain_passthrough);
	tcase_add_test(sec, secure_data_both_ways);
	tcase_add_test(sec, final_both_ways);
	suite_add_tcase(s, sec);
	tcase_add_test(cut, cut_at_frame_boundary);
	tcase_add_test(cut, cut_mid_frame);
	tcase_add_loop_test(cut, cut_waits_for_room, 0, 2);
	suite_add_tcase(s, cut);
	tcase_add_test(dead, plain_write_fails);
	tcase_add_test(dead, secure_peer_vanishes);
	tcase_add_test(dead, bad_frame_fails);
	suite_add_tcase(s, dead);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(transport_suite());
	int failures;

	/* As handler and handler-client run: a gone peer is EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
