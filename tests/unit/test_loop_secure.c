/*
 * handler's loop over the secure layer: how the client's end of the
 * stream is judged. A client that stops without its FINAL frame (at a
 * frame boundary or inside a frame) has cut the stream: the session ends
 * 111 although the module ended 0, with why "truncated", and the module
 * sees s->in_truncated (cmd uses it to kill the commands of a client that
 * is gone). A client that sends FINAL has ended cleanly: exit 0, not
 * truncated. The
 * client is a forked child speaking the real secure layer over a
 * socketpair; the harness is support_loop.c.
 */
#include <check.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "exitcode.h"
#include "fdutil.h"
#include "keys.h"
#include "secure.h"
#include "support_loop.h"

#define PROG "test_loop_secure"

struct keypair {
	struct keys_secret srv, usr;
	struct secure_identity srv_id, usr_id;
};

static struct keypair kp;

enum cut { CUT_AT_FRAME, CUT_IN_FRAME, CLEAN_FINAL };

static int lookup(void *ctx, const char *user, uint8_t pk[32])
{
	(void)ctx;
	if (strcmp(user, "alice") != 0)
		return -1;
	memcpy(pk, kp.usr.pk, 32);
	return 0;
}

static void keys_make(struct keys_secret *k, struct secure_identity *id)
{
	memset(k, 0, sizeof *k);
	crypto_sign_keypair(k->pk, k->sk);
	ck_assert_int_eq(keys_identity_from_secret(id, k), 0);
}

/* Blocking writes of everything in out. */
static int flush(int fd, struct buf *out)
{
	if (buf_len(out) &&
	    fd_write_all(fd, buf_data(out), buf_len(out)) < 0)
		return -1;
	buf_clear(out);
	return 0;
}

/* The forked client: handshake, one data frame, then the given end. */
static int client(struct loopt_ends *e, const void *arg)
{
	enum cut how = *(const enum cut *)arg;
	struct secure *c = secure_client_new(&kp.usr_id, "alice", kp.srv.pk,
					     0);
	struct buf in, out, pout;
	char sink[4096];
	int r;

	if (!c || buf_init(&in, SECURE_RAW_MIN) < 0 ||
	    buf_init(&out, SECURE_RAW_MIN) < 0 ||
	    buf_init(&pout, 4096) < 0)
		return 10;
	while ((r = secure_handshake(c, &in, &out)) == SECURE_AGAIN) {
		ssize_t n;

		if (flush(e->w, &out) < 0)
			return 11;
		n = read(e->r, buf_reserve(&in, buf_room(&in)), buf_room(&in));
		if (n <= 0)
			return 12;
		buf_commit(&in, (size_t)n);
	}
	if (r != SECURE_READY || flush(e->w, &out) < 0)
		return 13;
	buf_append(&pout, "no bang here", 12);
	if (secure_seal(c, &pout, &out) < 0 || flush(e->w, &out) < 0)
		return 14;
	if (how == CUT_IN_FRAME) {
		/* half of a second frame: its length says more follows */
		buf_append(&pout, "more data", 9);
		if (secure_seal(c, &pout, &out) < 0 ||
		    fd_write_all(e->w, buf_data(&out), buf_len(&out) / 2) < 0)
			return 15;
	}
	if (how == CLEAN_FINAL) {
		if (secure_close(c, &out) < 0 || flush(e->w, &out) < 0)
			return 16;
		shutdown(e->w, SHUT_WR);
		/* read to the server's end, so it never writes to nobody */
		while (read(e->r, sink, sizeof sink) > 0)
			;
	}
	secure_free(c);
	buf_free(&in);
	buf_free(&out);
	buf_free(&pout);
	return 0;
}

/* One session against the client ending as `how`; the loop's code. */
static int session(enum cut how, pid_t *pid)
{
	struct loopt_ends e;
	struct secure *sec;
	int code;

	ck_assert_int_ge(sodium_init(), 0);
	keys_make(&kp.srv, &kp.srv_id);
	keys_make(&kp.usr, &kp.usr_id);
	loopt_fix_init("");
	/* The module ends 0 at the client's end: a cut turns that into
	 * 111, a FINAL leaves it. */
	loopt_fk.code = EXIT_OK;
	sec = secure_server_new(&kp.srv_id, lookup, NULL,
				loopt_fx.conf.limits.max_frame);
	ck_assert_ptr_nonnull(sec);
	loopt_ends_open(&e, LOOPT_ONE_SOCKET);
	*pid = loopt_client_fork(&e, client, &how);
	code = loopt_run_secure(&loopt_tail_proto, e.in, e.out, sec);
	loopt_fix_free();
	secure_free(sec);
	loopt_close_two(&e.in, &e.out);
	keys_identity_free(&kp.srv_id);
	keys_identity_free(&kp.usr_id);
	return code;
}

static void expect_truncated(enum cut how)
{
	pid_t pid;

	ck_assert_int_eq(session(how, &pid), EXIT_TEMP);
	ck_assert_int_eq(loopt_client_wait(pid), 0);
	ck_assert(loopt_fx.s.in_truncated);
	ck_assert(loopt_fk.saw_truncated);
	ck_assert(loopt_fk.saw_eof);
	ck_assert_ptr_nonnull(loopt_fx.l.why);
	ck_assert_str_eq(loopt_fx.l.why, "truncated");
	ck_assert_ptr_nonnull(strstr(loopt_logged, PROG ": error: secure: "
				     "truncated"));
	/* the data frame before the cut was delivered, nothing after */
	ck_assert_uint_eq(loopt_fk.consumed, 12);
}

START_TEST(cut_at_frame_boundary)
{
	expect_truncated(CUT_AT_FRAME);
}
END_TEST

START_TEST(cut_inside_a_frame)
{
	expect_truncated(CUT_IN_FRAME);
}
END_TEST

START_TEST(final_is_a_clean_end)
{
	pid_t pid;

	ck_assert_int_eq(session(CLEAN_FINAL, &pid), EXIT_OK);
	ck_assert_int_eq(loopt_client_wait(pid), 0);
	ck_assert(!loopt_fx.s.in_truncated);
	ck_assert(!loopt_fk.saw_truncated);
	ck_assert(loopt_fk.saw_eof);
	ck_assert_ptr_null(loopt_fx.l.why);
	ck_assert_uint_eq(loopt_fk.consumed, 12);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loop_secure");
	TCase *tc = tcase_create("end");

	tcase_add_test(tc, cut_at_frame_boundary);
	tcase_add_test(tc, cut_inside_a_frame);
	tcase_add_test(tc, final_is_a_clean_end);
	suite_add_tcase(s, tc);
	return loopt_main(s, PROG);
}
