/*
 * Unit tests for handler's poll loop (handler/core/loop.c): bytes flowing
 * through a fake module, back-pressure, half-close, and how the module's
 * return values end a session. The harness is support_loop.c.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "exitcode.h"
#include "fdutil.h"
#include "support_loop.h"

static int pat_check(const uint8_t *b, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != loopt_pat(off + i))
			return -1;
	return 0;
}

/* ---- the clients ---- */

struct stream_arg {
	size_t total;
	int notify;           /* read end of the notify pipe */
};

/* One non-blocking step of writing the pattern; -1 on error. */
static int stream_write(int fd, size_t *sent, size_t total)
{
	uint8_t b[64 * 1024];
	size_t n = total - *sent < sizeof b ? total - *sent : sizeof b;
	ssize_t w;

	loopt_pat_fill(b, *sent, n);
	w = write(fd, b, n);
	if (w < 0)
		return errno == EAGAIN ? 0 : -1;
	*sent += (size_t)w;
	return 0;
}

/* One small read that must continue the pattern: 1 EOF, 0 on, -1 bad. */
static int stream_read(int fd, size_t *got, size_t total)
{
	uint8_t b[4096];
	ssize_t r = read(fd, b, sizeof b);

	if (r < 0)
		return errno == EAGAIN ? 0 : -1;
	if (r == 0)
		return 1;
	if (*got + (size_t)r > total || pat_check(b, *got, (size_t)r) < 0)
		return -1;
	*got += (size_t)r;
	return 0;
}

/*
 * Sends a->total pattern bytes in large writes and reads the echo back in
 * small reads, so the reader is the bottleneck. Nothing is read until the
 * module reports both queues full: back-pressure must then hold the writer
 * rather than grow anything. Exit 0 when the whole echo came back in order
 * followed by EOF.
 */
static int client_stream(struct loopt_ends *e, const void *arg)
{
	const struct stream_arg *a = arg;
	size_t sent = 0, got = 0;
	int writing = 1, reading = a->notify < 0;

	fd_nonblock(e->w);
	fd_nonblock(e->r);
	for (;;) {
		struct pollfd p[2];
		nfds_t n = 0;
		int r = 0;

		if (writing && sent == a->total) {
			if (!reading)
				return 2;  /* never saw both queues full */
			loopt_half_close(e);
			writing = 0;
		}
		if (writing)
			p[n++] = (struct pollfd){ e->w, POLLOUT, 0 };
		p[n++] = (struct pollfd){ reading ? e->r : a->notify, POLLIN,
					  0 };
		if (poll(p, n, -1) < 0 && errno != EINTR)
			return 3;
		if (writing && p[0].revents &&
		    stream_write(e->w, &sent, a->total) < 0)
			return 4;
		if (!p[n - 1].revents)
			continue;
		if (!reading) {
			char c;

			reading = read(a->notify, &c, 1) == 1;
			if (!reading)
				return 5;
			continue;
		}
		r = stream_read(e->r, &got, a->total);
		if (r < 0)
			return 6;
		if (r > 0)
			return got == a->total && !writing ? 0 : 7;
	}
}

struct tail_arg {
	const char *msg;      /* sent first, in one write */
	int half_close;       /* then EOF */
	size_t tail;          /* expected pattern bytes, then EOF */
};

static int client_tail(struct loopt_ends *e, const void *arg)
{
	const struct tail_arg *a = arg;
	size_t got = 0;
	int r;

	if (fd_write_all(e->w, a->msg, strlen(a->msg)) < 0)
		return 2;
	if (a->half_close)
		loopt_half_close(e);
	while ((r = stream_read(e->r, &got, a->tail)) == 0)
		;
	return r > 0 && got == a->tail ? 0 : 3;
}

/* ---- tests ---- */

/*
 * 8 MiB through the echo module, far more than both 1 MiB queues and the
 * socket buffers hold, with a client that reads slowly: everything comes
 * back in order, the loop stops reading while s->in is full, and a clean
 * EOF ends the session with 0.
 */
START_TEST(echo_large_with_backpressure)
{
	struct stream_arg a = { 8 * LOOPT_MIB, -1 };
	int notify[2];
	struct loopt_ends e;
	pid_t pid;

	loopt_fix_init("");
	loopt_ends_open(&e, _i);
	ck_assert_int_eq(pipe(notify), 0);
	loopt_fk.notify_fd = notify[1];
	a.notify = notify[0];
	pid = loopt_client_fork(&e, client_stream, &a);
	close(notify[0]);
	ck_assert_int_eq(loopt_run(&loopt_echo_proto, e.in, e.out), EXIT_OK);
	ck_assert_int_eq(loopt_fk.notify_failed, 0);
	ck_assert(loopt_fk.saw_full);
	ck_assert(loopt_fk.saw_eof);
	ck_assert_uint_eq(loopt_fk.consumed, a.total);
	ck_assert_uint_eq(loopt_fx.s.bytes_in, a.total);
	ck_assert_uint_eq(loopt_fx.s.bytes_out, a.total);
	ck_assert_int_eq(loopt_fk.starts, 1);
	ck_assert_int_eq(loopt_fk.finishes, 1);
	ck_assert_int_eq(loopt_fx.l.same_socket, _i != LOOPT_PIPES);
	/* Only a socket can be shut down for writing. */
	ck_assert_int_eq(loopt_fx.l.out_shut, _i != LOOPT_PIPES);
	ck_assert_ptr_null(loopt_fx.l.why);
	ck_assert_str_eq(loopt_logged, "");
	loopt_fix_free();
	/* The fds go back as they came: blocking. */
	ck_assert(!loopt_is_nonblocking(e.in));
	ck_assert(!loopt_is_nonblocking(e.out));
	loopt_close_two(&e.in, &e.out);
	close(notify[1]);
	ck_assert_int_eq(loopt_client_wait(pid), 0);
}
END_TEST

/*
 * The client sends a little and closes its sending side; the module
 * answers only at EOF, with 1 MiB (many times s->out), so input() must be
 * called again as the output drains although nothing new arrives. The
 * session ends with the module's code once all of it is delivered.
 */
START_TEST(half_close_flushes_then_module_code)
{
	struct tail_arg a = { "hello", 1, LOOPT_MIB + 123 };
	struct loopt_ends e;
	pid_t pid;

	loopt_fix_init("");
	loopt_fk.tail = a.tail;
	loopt_fk.code = 42;
	loopt_ends_open(&e, _i);
	pid = loopt_client_fork(&e, client_tail, &a);
	ck_assert_int_eq(loopt_run(&loopt_tail_proto, e.in, e.out), 42);
	ck_assert(loopt_fk.saw_eof);
	ck_assert_uint_eq(loopt_fk.consumed, 5);
	ck_assert_uint_eq(loopt_fx.s.bytes_out, a.tail);
	ck_assert_int_eq(loopt_fk.late_inputs, 0);
	ck_assert_int_eq(loopt_fk.finishes, 1);
	ck_assert_ptr_null(loopt_fx.l.why);
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	ck_assert_int_eq(loopt_client_wait(pid), 0);
}
END_TEST

/* At EOF the module returns 0 throughout; idle() says when it is done. */
START_TEST(half_close_idle_decides)
{
	struct tail_arg a = { "hello", 1, 300000 };
	struct loopt_ends e;
	pid_t pid;

	loopt_fix_init("");
	loopt_fk.tail = a.tail;
	loopt_ends_open(&e, LOOPT_ONE_SOCKET);
	pid = loopt_client_fork(&e, client_tail, &a);
	ck_assert_int_eq(loopt_run(&loopt_tail_proto, e.in, e.out), EXIT_OK);
	ck_assert_uint_eq(loopt_fx.s.bytes_out, a.tail);
	ck_assert_int_eq(loopt_fk.finishes, 1);
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	ck_assert_int_eq(loopt_client_wait(pid), 0);
}
END_TEST

/*
 * EOF with nothing queued is not the end while idle() reports work
 * pending (a child still running): the module's late reply goes out.
 */
START_TEST(eof_waits_for_busy_module)
{
	struct loopt_ends e;

	loopt_fix_init("");
	loopt_fk.period = 200 * NS_PER_MS;
	loopt_fk.max_ticks = 1;
	loopt_fk.busy = 1;
	loopt_ends_open(&e, LOOPT_ONE_SOCKET);
	loopt_half_close(&e);
	ck_assert_int_eq(loopt_run(&loopt_tick_proto, e.in, e.out), EXIT_OK);
	ck_assert_int_eq(loopt_fk.ticks, 1);
	ck_assert_uint_ge(loopt_fx.ms, 200);
	ck_assert_int_eq(loopt_fk.finishes, 1);
	loopt_expect_output(e.r, "tick\n");
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	loopt_close_two(&e.w, &e.r);
}
END_TEST

/*
 * No EOF from the client: input() returns 100 after queueing a reply
 * bigger than s->out. The reply is delivered whole, input() is not called
 * again, and what followed the request stays unread by the module.
 */
START_TEST(module_code_ends_after_flush)
{
	struct tail_arg a = { "ab!cd", 0, 700000 };
	struct loopt_ends e;
	pid_t pid;

	loopt_fix_init("");
	loopt_fk.tail = a.tail;
	loopt_fk.code = EXIT_PERM;
	loopt_ends_open(&e, _i);
	pid = loopt_client_fork(&e, client_tail, &a);
	ck_assert_int_eq(loopt_run(&loopt_tail_proto, e.in, e.out), EXIT_PERM);
	ck_assert(!loopt_fk.saw_eof);
	ck_assert_uint_eq(loopt_fk.consumed, 3);
	ck_assert_uint_eq(loopt_fx.s.bytes_out, a.tail);
	ck_assert_int_eq(loopt_fk.late_inputs, 0);
	ck_assert_int_eq(loopt_fk.finishes, 1);
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	ck_assert_int_eq(loopt_client_wait(pid), 0);
}
END_TEST

/* A failed start() cleaned up itself: no input(), no finish(). */
START_TEST(start_failure)
{
	struct loopt_ends e;

	loopt_fix_init("");
	loopt_fk.start_code = EXIT_PERM;
	loopt_ends_open(&e, LOOPT_ONE_SOCKET);
	ck_assert_int_eq(loopt_run(&loopt_echo_proto, e.in, e.out), EXIT_PERM);
	ck_assert_int_eq(loopt_fk.starts, 1);
	ck_assert_int_eq(loopt_fk.inputs, 0);
	ck_assert_int_eq(loopt_fk.finishes, 0);
	loopt_expect_output(e.r, "");
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	loopt_close_two(&e.w, &e.r);
}
END_TEST

/* Neither a negative value nor one above 255 is an exit code. */
START_TEST(module_bug_is_temporary)
{
	static const int bad[] = { -5, 256 };
	char want[64];
	struct loopt_ends e;

	loopt_fix_init("");
	loopt_fk.code = bad[_i];
	loopt_ends_open(&e, LOOPT_ONE_SOCKET);
	ck_assert_int_eq(loopt_run(&loopt_bad_proto, e.in, e.out), EXIT_TEMP);
	snprintf(want, sizeof want, "error: module returned %d, not an exit "
		 "code", bad[_i]);
	ck_assert_ptr_nonnull(strstr(loopt_logged, want));
	ck_assert_int_eq(loopt_fk.inputs, 1);
	ck_assert_int_eq(loopt_fk.finishes, 1);
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	loopt_close_two(&e.w, &e.r);
}
END_TEST

static Suite *loop_flow_suite(void)
{
	Suite *s = suite_create("loop_flow");
	TCase *flow = tcase_create("flow");
	TCase *codes = tcase_create("codes");

	tcase_set_timeout(flow, 60);
	tcase_add_loop_test(flow, echo_large_with_backpressure, 0,
			    LOOPT_NKINDS);
	tcase_add_loop_test(flow, half_close_flushes_then_module_code, 0,
			    LOOPT_NKINDS);
	tcase_add_test(flow, half_close_idle_decides);
	tcase_add_test(flow, eof_waits_for_busy_module);
	tcase_add_loop_test(flow, module_code_ends_after_flush,
			    LOOPT_ONE_SOCKET, LOOPT_NKINDS);
	suite_add_tcase(s, flow);
	tcase_set_timeout(codes, 30);
	tcase_add_test(codes, start_failure);
	tcase_add_loop_test(codes, module_bug_is_temporary, 0, 2);
	suite_add_tcase(s, codes);
	return s;
}

int main(void)
{
	return loopt_main(loop_flow_suite(), "test_loop_flow");
}
