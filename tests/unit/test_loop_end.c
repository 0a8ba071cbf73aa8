/*
 * Unit tests for handler's poll loop (handler/core/loop.c): how a session ends
 * other than by the module's own word. The idle timeout and what holds it
 * off, a client that is gone, and the module's timer and extra pollfds.
 * The harness is support_loop.c.
 */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "exitcode.h"
#include "fdutil.h"
#include "support_loop.h"

/* The name the log lines carry. */
#define PROG "test_loop_end"

/* Nothing either way for limit idle: 111, "idle", and the log line. */
START_TEST(idle_timeout)
{
	struct loopt_ends e;

	loopt_fix_init("limit idle 1\n");
	loopt_fk.period = 30 * NS_PER_SEC;
	loopt_fk.max_ticks = 1;
	loopt_ends_open(&e, LOOPT_ONE_SOCKET);
	ck_assert_int_eq(loopt_run(&loopt_tick_proto, e.in, e.out), EXIT_TEMP);
	ck_assert_uint_ge(loopt_fx.ms, 1000);
	ck_assert_uint_lt(loopt_fx.ms, 10000);
	ck_assert_str_eq(loopt_fx.l.why, "idle");
	ck_assert_ptr_nonnull(strstr(loopt_logged, PROG ": error: idle "
				     "timeout: no bytes either way for 1 s\n"));
	ck_assert_int_eq(loopt_fk.ticks, 0);
	ck_assert_int_eq(loopt_fk.finishes, 1);
	loopt_expect_output(e.r, "");
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	loopt_close_two(&e.w, &e.r);
}
END_TEST

/* Silence while the module says it is busy (idle() false) is not idle. */
START_TEST(idle_not_while_module_busy)
{
	struct loopt_ends e;

	loopt_fix_init("limit idle 1\n");
	loopt_fk.period = 1500 * NS_PER_MS;
	loopt_fk.max_ticks = 1;
	loopt_fk.busy = 1;
	loopt_fk.code = 5;
	loopt_ends_open(&e, LOOPT_ONE_SOCKET);
	ck_assert_int_eq(loopt_run(&loopt_tick_proto, e.in, e.out), 5);
	ck_assert_uint_ge(loopt_fx.ms, 1500);
	ck_assert_ptr_null(loopt_fx.l.why);
	ck_assert_int_eq(loopt_fk.early, 0);
	ck_assert_str_eq(loopt_logged, "");
	loopt_expect_output(e.r, "tick\n");
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	loopt_close_two(&e.w, &e.r);
}
END_TEST

/*
 * A client that stops reading: output stays queued, so a busy module does
 * not hold the idle timeout off.
 */
START_TEST(idle_when_output_stuck)
{
	struct loopt_ends e;

	loopt_fix_init("limit idle 1\n");
	loopt_fk.triggered = 1;
	loopt_fk.tail = loopt_fk.tail_left = 64 * LOOPT_MIB;
	loopt_fk.busy = 1;
	loopt_ends_open(&e, LOOPT_ONE_SOCKET);
	ck_assert_int_eq(loopt_run(&loopt_tail_proto, e.in, e.out), EXIT_TEMP);
	ck_assert_str_eq(loopt_fx.l.why, "idle");
	ck_assert_uint_gt(loopt_fx.s.bytes_out, 0);
	ck_assert_uint_lt(loopt_fx.s.bytes_out, loopt_fk.tail);
	ck_assert_ptr_nonnull(strstr(loopt_logged, "error: idle timeout"));
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	loopt_close_two(&e.w, &e.r);
}
END_TEST

/*
 * The module's timer: timeout() runs at (never before) each deadline and
 * with no I/O at all; its code ends the session after the ticks are out.
 */
START_TEST(module_timer)
{
	struct loopt_ends e;

	loopt_fix_init("");
	loopt_fk.period = 100 * NS_PER_MS;
	loopt_fk.max_ticks = 3;
	loopt_fk.busy = 1;
	loopt_fk.code = 9;
	loopt_ends_open(&e, _i == 0 ? LOOPT_ONE_SOCKET : LOOPT_PIPES);
	ck_assert_int_eq(loopt_run(&loopt_tick_proto, e.in, e.out), 9);
	ck_assert_int_eq(loopt_fk.ticks, 3);
	ck_assert_int_eq(loopt_fk.early, 0);
	ck_assert_uint_ge(loopt_fx.ms, 300);
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	if (e.w != e.r)
		fd_close(&e.w);
	loopt_expect_output(e.r, "tick\ntick\ntick\n");
	loopt_close_two(&e.w, &e.r);
}
END_TEST

/* The module's own fd joins the poll set; its events reach events(). */
START_TEST(module_pollfds)
{
	struct loopt_ends e;
	int x[2];

	loopt_fix_init("");
	ck_assert_int_eq(pipe(x), 0);
	ck_assert_int_eq(fd_write_all(x[1], "abc", 3), 0);
	close(x[1]);
	loopt_fk.extra_fd = x[0];
	loopt_fk.code = 3;
	loopt_ends_open(&e, LOOPT_ONE_SOCKET);
	ck_assert_int_eq(loopt_run(&loopt_ev_proto, e.in, e.out), 3);
	ck_assert_int_ge(loopt_fk.events_calls, 2);
	ck_assert_int_eq(loopt_fk.finishes, 1);
	loopt_expect_output(e.r, "ev:abc");
	loopt_fix_free();
	close(x[0]);
	loopt_close_two(&e.in, &e.out);
	loopt_close_two(&e.w, &e.r);
}
END_TEST

/* fd_out's reader is gone: EPIPE is logged and ends with 111. */
START_TEST(reader_gone_pipe)
{
	struct loopt_ends e;

	loopt_fix_init("");
	loopt_ends_open(&e, LOOPT_PIPES);
	fd_close(&e.r);
	ck_assert_int_eq(fd_write_all(e.w, "hello", 5), 0);
	ck_assert_int_eq(loopt_run(&loopt_echo_proto, e.in, e.out), EXIT_TEMP);
	ck_assert_str_eq(loopt_fx.l.why, "peer-gone");
	ck_assert(loopt_fx.l.t.out_dead);
	ck_assert_ptr_nonnull(strstr(loopt_logged,
				     "error: write: Broken pipe\n"));
	ck_assert_int_eq(loopt_fk.finishes, 1);
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
	fd_close(&e.w);
}
END_TEST

/*
 * The client sent a request and vanished. Even a module that ends cleanly
 * (SESSION_DONE) gets 111 when its reply cannot be delivered.
 */
START_TEST(client_gone_socket)
{
	const struct protocol *p = _i == 0 ? &loopt_echo_proto :
				   &loopt_tail_proto;
	struct loopt_ends e;

	loopt_fix_init("");
	loopt_fk.tail = 1000;
	loopt_fk.code = SESSION_DONE;
	loopt_ends_open(&e, LOOPT_ONE_SOCKET);
	ck_assert_int_eq(fd_write_all(e.w, "hi!", 3), 0);
	loopt_close_two(&e.w, &e.r);
	ck_assert_int_eq(loopt_run(p, e.in, e.out), EXIT_TEMP);
	ck_assert_str_eq(loopt_fx.l.why, "peer-gone");
	ck_assert_ptr_nonnull(strstr(loopt_logged, "error: write: "));
	ck_assert_int_eq(loopt_fk.finishes, 1);
	loopt_fix_free();
	loopt_close_two(&e.in, &e.out);
}
END_TEST

static Suite *loop_end_suite(void)
{
	Suite *s = suite_create("loop_end");
	TCase *timers = tcase_create("timers");
	TCase *gone = tcase_create("gone");
	TCase *fds = tcase_create("fds");

	tcase_set_timeout(timers, 30);
	tcase_add_test(timers, idle_timeout);
	tcase_add_test(timers, idle_not_while_module_busy);
	tcase_add_test(timers, idle_when_output_stuck);
	tcase_add_loop_test(timers, module_timer, 0, 2);
	suite_add_tcase(s, timers);
	tcase_set_timeout(gone, 30);
	tcase_add_test(gone, reader_gone_pipe);
	tcase_add_loop_test(gone, client_gone_socket, 0, 2);
	suite_add_tcase(s, gone);
	tcase_set_timeout(fds, 60);
	tcase_add_test(fds, module_pollfds);
	suite_add_tcase(s, fds);
	return s;
}

int main(void)
{
	return loopt_main(loop_end_suite(), PROG);
}
