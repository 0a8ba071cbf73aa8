/* Unit tests for lib/: byte packing, the wire cursor, buffers, logging
 * escapes, fd and process helpers. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "bytes.h"
#include "clock.h"
#include "exitcode.h"
#include "fdutil.h"
#include "log.h"
#include "proc.h"
#include "wire.h"

START_TEST(bytes_roundtrip)
{
	uint8_t b[8];

	le16_put(b, 0x1234);
	ck_assert_uint_eq(b[0], 0x34);
	ck_assert_uint_eq(le16_get(b), 0x1234);
	be16_put(b, 0x1234);
	ck_assert_uint_eq(b[0], 0x12);
	ck_assert_uint_eq(be16_get(b), 0x1234);
	le32_put(b, 0xdeadbeefU);
	ck_assert_uint_eq(b[0], 0xef);
	ck_assert_uint_eq(le32_get(b), 0xdeadbeefU);
	be32_put(b, 0xdeadbeefU);
	ck_assert_uint_eq(b[0], 0xde);
	ck_assert_uint_eq(be32_get(b), 0xdeadbeefU);
	le64_put(b, 0x0102030405060708ULL);
	ck_assert_uint_eq(b[0], 0x08);
	ck_assert_uint_eq(le64_get(b), 0x0102030405060708ULL);
	be64_put(b, 0x0102030405060708ULL);
	ck_assert_uint_eq(b[0], 0x01);
	ck_assert_uint_eq(be64_get(b), 0x0102030405060708ULL);
}
END_TEST

START_TEST(reader_getters)
{
	static const uint8_t m[] = { 1, 0, 2, 0, 0, 0, 3, 4, 0, 0, 0, 0 };
	struct rd r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	rd_init(&r, m, sizeof m);
	ck_assert_int_eq(rd_u8(&r, &u8), 0);
	ck_assert_uint_eq(u8, 1);
	ck_assert_int_eq(rd_be16(&r, &u16), 0);
	ck_assert_uint_eq(u16, 2);
	ck_assert_int_eq(rd_be32(&r, &u32), 0);
	ck_assert_uint_eq(u32, 3);
	ck_assert_int_eq(rd_le32(&r, &u32), 0);
	ck_assert_uint_eq(u32, 4);
	ck_assert_uint_eq(rd_left(&r), 1);
	ck_assert(!rd_end(&r));
	ck_assert_int_eq(rd_skip(&r, 1), 0);
	ck_assert(rd_end(&r));
}
END_TEST

START_TEST(reader_failure_consumes_nothing)
{
	static const uint8_t m[] = { 9, 8, 7 };
	struct rd r;
	uint32_t v32;
	uint8_t v8;

	rd_init(&r, m, sizeof m);
	ck_assert_int_eq(rd_be32(&r, &v32), -1);
	ck_assert_uint_eq(r.off, 0);
	ck_assert(!rd_ok(&r));
	/* The error is sticky: later getters fail too. */
	ck_assert_int_eq(rd_u8(&r, &v8), -1);
	ck_assert(!rd_end(&r));
}
END_TEST

START_TEST(reader_strings)
{
	uint8_t m[64];
	struct wr w;
	struct rd r;
	const uint8_t *p;
	uint32_t n;
	char s[8];

	wr_init(&w, m, sizeof m);
	wr_cstring(&w, "hello");
	wr_string(&w, "a\0b", 3);
	wr_be32(&w, 1000); /* a length larger than the message */
	ck_assert(wr_ok(&w));
	rd_init(&r, m, w.len);
	ck_assert_int_eq(rd_string(&r, &p, &n, 5), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert(memcmp(p, "hello", 5) == 0);
	/* Embedded NUL refused, nothing consumed. */
	ck_assert_int_eq(rd_cstring(&r, s, sizeof s), -1);
	ck_assert_uint_eq(r.off, 9);
	r.err = 0;
	ck_assert_int_eq(rd_string(&r, &p, &n, 10), 0);
	ck_assert_int_eq(rd_string(&r, &p, &n, 2000), -1);
	ck_assert_uint_eq(r.off, 16);
	/* Over the caller's maximum. */
	rd_init(&r, m, w.len);
	ck_assert_int_eq(rd_string(&r, &p, &n, 4), -1);
	ck_assert_uint_eq(r.off, 0);
	/* Does not fit the destination. */
	rd_init(&r, m, w.len);
	ck_assert_int_eq(rd_cstring(&r, s, 5), -1);
	rd_init(&r, m, w.len);
	ck_assert_int_eq(rd_cstring(&r, s, 6), 0);
	ck_assert_str_eq(s, "hello");
}
END_TEST

START_TEST(writer_overflow)
{
	uint8_t m[6];
	struct wr w;

	wr_init(&w, m, sizeof m);
	ck_assert_int_eq(wr_be32(&w, 1), 0);
	ck_assert_int_eq(wr_be32(&w, 2), -1);
	ck_assert_uint_eq(w.len, 4);
	ck_assert(!wr_ok(&w));
	ck_assert_int_eq(wr_u8(&w, 1), -1);
	wr_init(&w, m, sizeof m);
	ck_assert_int_eq(wr_string(&w, "abc", 3), -1);
	ck_assert_uint_eq(w.len, 0);
	wr_init(&w, m, sizeof m);
	ck_assert_ptr_nonnull(wr_reserve(&w, 6));
	ck_assert_ptr_null(wr_reserve(&w, 1));
}
END_TEST

START_TEST(buf_queue)
{
	struct buf b;
	uint8_t *p;

	ck_assert_int_eq(buf_init(&b, 8), 0);
	ck_assert_int_eq(buf_append(&b, "abcdef", 6), 0);
	ck_assert_int_eq(buf_append(&b, "xyz", 3), -1);
	buf_consume(&b, 4);
	ck_assert_uint_eq(buf_len(&b), 2);
	ck_assert_uint_eq(buf_room(&b), 6);
	/* Wraps by compacting: the reservation is contiguous. */
	p = buf_reserve(&b, 6);
	ck_assert_ptr_nonnull(p);
	memcpy(p, "123456", 6);
	buf_commit(&b, 6);
	ck_assert(memcmp(buf_data(&b), "ef123456", 8) == 0);
	/* The wipe at free covers everything ever written. */
	ck_assert_uint_eq(b.touched, 8);
	ck_assert_ptr_null(buf_reserve(&b, 1));
	buf_consume(&b, 100);
	ck_assert_uint_eq(buf_len(&b), 0);
	buf_free(&b);
}
END_TEST

START_TEST(buf_fd_io)
{
	struct buf b;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(buf_init(&b, 4), 0);
	ck_assert_int_eq(write(p[1], "hello", 5), 5);
	ck_assert_int_eq(buf_read_fd(&b, p[0]), 4);
	ck_assert_int_eq(buf_read_fd(&b, p[0]), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_int_eq(buf_write_fd(&b, p[1]), 4);
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_int_eq(fd_nonblock(p[0]), 0);
	ck_assert_int_eq(buf_read_fd(&b, p[0]), 4);
	ck_assert(memcmp(buf_data(&b), "ohel", 4) == 0);
	buf_clear(&b);
	ck_assert_int_eq(buf_read_fd(&b, p[0]), 1);
	ck_assert_int_eq(buf_read_fd(&b, p[0]), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(p[1]);
	ck_assert_int_eq(buf_read_fd(&b, p[0]), 0);
	close(p[0]);
	buf_free(&b);
}
END_TEST

START_TEST(escape)
{
	char out[32];

	log_escape(out, sizeof out, "a\nb\\c\x01", 6);
	ck_assert_str_eq(out, "a\\x0ab\\x5cc\\x01");
	/* Truncates on a whole escape, always terminated. */
	log_escape(out, 6, "\n\n\n", 3);
	ck_assert_str_eq(out, "\\x0a");
}
END_TEST

START_TEST(poll_timeouts)
{
	ck_assert_int_eq(clock_poll_timeout(100, 0), -1);
	ck_assert_int_eq(clock_poll_timeout(100, 50), 0);
	/* Rounded up: never wake before the deadline and spin. */
	ck_assert_int_eq(clock_poll_timeout(0, 1), 1);
	ck_assert_int_eq(clock_poll_timeout(0, 2 * NS_PER_MS), 2);
	ck_assert_uint_gt(clock_now(), 0);
}
END_TEST

START_TEST(spawn_and_reap)
{
	struct proc p;
	char *argv[] = { "sh", "-c", "read x <&5; echo \"$x\" >&6; exit 7", NULL };
	int in[2], out[2];
	char got[16] = { 0 };
	struct proc_fdmap map[] = { { 5, -1 }, { 6, -1 } };

	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	map[0].parent_fd = in[0];
	map[1].parent_fd = out[1];
	ck_assert_int_eq(proc_spawn(&p, argv, NULL, map, 2), 0);
	close(in[0]);
	close(out[1]);
	ck_assert_int_eq(fd_write_all(in[1], "hi\n", 3), 0);
	close(in[1]);
	ck_assert_int_eq(fd_read_full(out[0], got, sizeof got - 1), 3);
	ck_assert_str_eq(got, "hi\n");
	ck_assert_int_eq(proc_reap(&p, 1), 1);
	ck_assert_int_eq(proc_exit_code(p.status), 7);
	close(out[0]);
}
END_TEST

START_TEST(spawn_missing_program)
{
	struct proc p;
	char *argv[] = { "/nonexistent/program", NULL };

	ck_assert_int_eq(proc_spawn(&p, argv, NULL, NULL, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(spawn_error_pipe_not_clobbered)
{
	struct proc p;
	char *argv[] = { "/nonexistent/program", NULL };
	struct proc_fdmap map[2];
	int next = dup(0);

	/* The error pipe will take the lowest free fds; make the child's fd
	 * map close exactly those numbers. */
	close(next);
	map[0].child_fd = next;
	map[0].parent_fd = -1;
	map[1].child_fd = next + 1;
	map[1].parent_fd = -1;
	ck_assert_int_eq(proc_spawn(&p, argv, NULL, map, 2), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(signal_is_temporary)
{
	struct proc p;
	char *argv[] = { "sh", "-c", "kill -9 $$", NULL };

	ck_assert_int_eq(proc_spawn(&p, argv, NULL, NULL, 0), 0);
	ck_assert_int_eq(proc_reap(&p, 1), 1);
	ck_assert_int_eq(proc_exit_code(p.status), EXIT_TEMP);
}
END_TEST

/* A background grandchild that holds the pipe open ends with its group. */
START_TEST(session_group_kill)
{
	struct proc p;
	char *argv[] = { "sh", "-c", "sleep 30 & echo $$ $(cut -d' ' -f5 /proc/$$/stat)", NULL };
	struct proc_fdmap map[] = { { 1, -1 } };
	int out[2];
	char got[64] = { 0 };
	unsigned pid = 0, pgid = 1;

	ck_assert_int_eq(pipe(out), 0);
	map[0].parent_fd = out[1];
	ck_assert_int_eq(proc_spawn_session(&p, argv, NULL, map, 1), 0);
	close(out[1]);
	ck_assert_int_eq(proc_reap(&p, 1), 1);
	ck_assert_int_eq(read(out[0], got, sizeof got - 1) > 0, 1);
	ck_assert_int_eq(sscanf(got, "%u %u", &pid, &pgid), 2);
	ck_assert_uint_eq(pid, (unsigned)p.pid);
	ck_assert_uint_eq(pgid, (unsigned)p.pid);
	ck_assert_int_eq(proc_exit_code(p.status), 0);
	/* The leader exited but is kept a zombie, so its pid (the group's
	 * id) is not reused; sleep still holds the pipe until the group is
	 * killed, then the read sees EOF. */
	ck_assert_int_eq(kill(p.pid, 0), 0);
	ck_assert_int_eq(proc_kill_group(&p, SIGKILL), 0);
	ck_assert_int_eq(fd_read_full(out[0], got, sizeof got), 0);
	close(out[0]);
	proc_release(&p);
	ck_assert_int_eq(waitpid(p.pid, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

static Suite *lib_suite(void)
{
	Suite *s = suite_create("lib");
	TCase *wire = tcase_create("wire");
	TCase *io = tcase_create("io");

	tcase_add_test(wire, bytes_roundtrip);
	tcase_add_test(wire, reader_getters);
	tcase_add_test(wire, reader_failure_consumes_nothing);
	tcase_add_test(wire, reader_strings);
	tcase_add_test(wire, writer_overflow);
	tcase_add_test(wire, escape);
	suite_add_tcase(s, wire);
	tcase_add_test(io, buf_queue);
	tcase_add_test(io, buf_fd_io);
	tcase_add_test(io, poll_timeouts);
	tcase_add_test(io, spawn_and_reap);
	tcase_add_test(io, spawn_missing_program);
	tcase_add_test(io, spawn_error_pipe_not_clobbered);
	tcase_add_test(io, signal_is_temporary);
	tcase_add_test(io, session_group_kill);
	suite_add_tcase(s, io);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lib_suite());
	int failed;

	log_init("test_lib");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
