/*
 * The sftp session: replies in request order, back-pressure on a full
 * output queue, idleness, and file and directory handles (data round
 * trips, stale generations, the handle limit, READDIR to EOF). The
 * harness is in support_sftp.c.
 */
#include <check.h>
#include <string.h>

#include "support_sftp.h"

/* ---- ordering, back-pressure, idle ---- */

START_TEST(pipelined_replies_in_order)
{
	uint8_t h[SFTP_HANDLE_LEN];
	struct sftpt_pk p;
	struct sftpt_reply r;

	sftpt_start_rw();
	ck_assert_uint_eq(sftpt_open_file(1, "hello.txt", SSH_FXF_READ, h), 0);
	for (uint32_t id = 10; id < 60; id++) {
		if (id % 3 == 0) {
			sftpt_pk_begin(&p, SSH_FXP_READ, id);
			wr_string(&p.w, h, sizeof h);
			wr_be64(&p.w, id % 5);
			wr_be32(&p.w, 4);
		} else {
			sftpt_pk_begin(&p, id % 3 == 1 ? SSH_FXP_STAT
						       : SSH_FXP_LSTAT,
				       id);
			wr_cstring(&p.w, id % 2 ? "hello.txt" : "missing");
		}
		sftpt_pk_queue(&p);
	}
	ck_assert_int_eq(sftpt_run_input(), 0);
	for (uint32_t id = 10; id < 60; id++) {
		sftpt_get_reply(&r, id);
		if (id % 3 == 0)
			ck_assert_uint_eq(r.type, SSH_FXP_DATA);
	}
	ck_assert_uint_eq(buf_len(&sftpt.s.out), 0);
}
END_TEST

START_TEST(backpressure_and_idle)
{
	static uint8_t fill[SESSION_BUF_BASE + 65536 - 1000];
	struct sftpt_pk p;

	sftpt_start_rw();
	/* s->out nearly full: the request waits in s->in. */
	memset(fill, 'x', sizeof fill);
	ck_assert_int_eq(buf_append(&sftpt.s.out, fill, sizeof fill), 0);
	sftpt_pk_begin(&p, SSH_FXP_STAT, 5);
	wr_cstring(&p.w, "hello.txt");
	sftpt_pk_queue(&p);
	ck_assert_int_eq(sftpt_run_input(), 0);
	ck_assert_uint_gt(buf_len(&sftpt.s.in), 0);
	ck_assert(!sftpt_idle());
	buf_clear(&sftpt.s.out);
	ck_assert_int_eq(sftpt_run_input(), 0);
	ck_assert_uint_eq(buf_len(&sftpt.s.in), 0);
	ck_assert(sftpt_idle());
	/* Output past the high-water mark: the next read waits until the
	 * core wrote some, so reading and sending overlap. */
	{
		uint8_t h[SFTP_HANDLE_LEN];
		struct sftpt_reply r;

		buf_clear(&sftpt.s.out);
		ck_assert_uint_eq(sftpt_open_file(6, "hello.txt",
						  SSH_FXF_READ, h), 0);
		ck_assert_int_eq(buf_append(&sftpt.s.out, fill,
					    SFTP_OUT_HIGH), 0);
		sftpt_pk_begin(&p, SSH_FXP_READ, 7);
		wr_string(&p.w, h, sizeof h);
		wr_be64(&p.w, 0);
		wr_be32(&p.w, 5);
		sftpt_pk_queue(&p);
		ck_assert_int_eq(sftpt_run_input(), 0);
		ck_assert_uint_eq(buf_len(&sftpt.s.out), SFTP_OUT_HIGH);
		ck_assert(!sftpt_idle());
		buf_clear(&sftpt.s.out);
		ck_assert_int_eq(sftpt_run_input(), 0);
		sftpt_get_reply(&r, 7);
		ck_assert_uint_eq(r.type, SSH_FXP_DATA);
	}
	/* A partial packet can never complete: idle. */
	ck_assert_int_eq(buf_append(&sftpt.s.in, "\0\0\0\x20\x11", 5), 0);
	ck_assert(sftpt_idle());
}
END_TEST

/* ---- files and handles ---- */

START_TEST(write_read_round_trip)
{
	uint8_t h[SFTP_HANDLE_LEN];
	static uint8_t big[SFTP_MAX_DATA];
	struct sftpt_reply r;
	const uint8_t *d;
	uint32_t n;

	sftpt_start_rw();
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7);
	ck_assert_uint_eq(sftpt_open_file(1, "new.bin",
				    SSH_FXF_WRITE | SSH_FXF_CREAT |
					    SSH_FXF_TRUNC,
				    h), 0);
	sftpt_req_write(2, h, 0, big, sizeof big);
	ck_assert_uint_eq(sftpt_status_of(2), SSH_FX_OK);
	sftpt_req_write(3, h, sizeof big, "tail", 4);
	ck_assert_uint_eq(sftpt_status_of(3), SSH_FX_OK);
	sftpt_req_handle(SSH_FXP_CLOSE, 4, h);
	ck_assert_uint_eq(sftpt_status_of(4), SSH_FX_OK);
	ck_assert_uint_eq(sftpt_open_file(5, "/new.bin", SSH_FXF_READ, h), 0);
	sftpt_req_read(6, h, 0, 300000); /* clipped to max-read-length */
	sftpt_get_reply(&r, 6);
	ck_assert_uint_eq(r.type, SSH_FXP_DATA);
	ck_assert_int_eq(rd_string(&r.rd, &d, &n, SFTP_MAX_PACKET), 0);
	ck_assert_uint_eq(n, sizeof big);
	ck_assert_int_eq(memcmp(d, big, n), 0);
	sftpt_req_read(7, h, sizeof big, 100);
	sftpt_get_reply(&r, 7);
	ck_assert_int_eq(rd_string(&r.rd, &d, &n, SFTP_MAX_PACKET), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(memcmp(d, "tail", 4), 0);
	sftpt_req_read(8, h, sizeof big + 4, 100);
	ck_assert_uint_eq(sftpt_status_of(8), SSH_FX_EOF);
	sftpt_req_handle(SSH_FXP_FSTAT, 9, h);
	sftpt_get_reply(&r, 9);
	ck_assert_uint_eq(r.type, SSH_FXP_ATTRS);
}
END_TEST

START_TEST(stale_handle_generation)
{
	uint8_t h1[SFTP_HANDLE_LEN], h2[SFTP_HANDLE_LEN];
	struct sftpt_reply r;

	sftpt_start_rw();
	ck_assert_uint_eq(sftpt_open_file(1, "hello.txt", SSH_FXF_READ, h1), 0);
	sftpt_req_handle(SSH_FXP_CLOSE, 2, h1);
	ck_assert_uint_eq(sftpt_status_of(2), SSH_FX_OK);
	ck_assert_uint_eq(sftpt_open_file(3, "sub/inner.txt", SSH_FXF_READ,
					  h2), 0);
	/* Same slot, new generation. */
	ck_assert_int_eq(memcmp(h1, h2, 4), 0);
	ck_assert_int_ne(memcmp(h1, h2, SFTP_HANDLE_LEN), 0);
	sftpt_req_read(4, h1, 0, 10);
	ck_assert_uint_eq(sftpt_status_of(4), SSH_FX_FAILURE);
	sftpt_req_handle(SSH_FXP_CLOSE, 5, h1);
	ck_assert_uint_eq(sftpt_status_of(5), SSH_FX_FAILURE);
	sftpt_req_read(6, h2, 0, 10);
	sftpt_get_reply(&r, 6);
	ck_assert_uint_eq(r.type, SSH_FXP_DATA);
	/* Garbage and wrong-kind handles. */
	sftpt_req_handle(SSH_FXP_READDIR, 7, h2);
	ck_assert_uint_eq(sftpt_status_of(7), SSH_FX_FAILURE);
	{
		struct sftpt_pk p;

		sftpt_pk_begin(&p, SSH_FXP_CLOSE, 8);
		wr_cstring(&p.w, "\xff\xff\xff\xff\0\0\0\1");
		sftpt_pk_send(&p);
		ck_assert_uint_eq(sftpt_status_of(8), SSH_FX_FAILURE);
	}
}
END_TEST

START_TEST(handle_limit)
{
	uint8_t h[SFTP_HANDLE_LEN];

	sftpt_start_rw();
	for (uint32_t i = 0; i < 8; i++)
		ck_assert_uint_eq(sftpt_open_file(i + 1, "hello.txt",
						  SSH_FXF_READ, h), 0);
	ck_assert_uint_eq(sftpt_open_file(20, "hello.txt", SSH_FXF_READ, h),
			  SSH_FX_FAILURE);
	sftpt_req_handle(SSH_FXP_CLOSE, 21, h);
	ck_assert_uint_eq(sftpt_status_of(21), SSH_FX_OK);
	ck_assert_uint_eq(sftpt_open_file(22, "hello.txt", SSH_FXF_READ, h), 0);
}
END_TEST

START_TEST(readdir_eof_repeats)
{
	uint8_t h[SFTP_HANDLE_LEN];
	struct sftpt_reply r;
	uint32_t count, total = 0;
	char name[300], lname[600];
	int saw_dotdot = 0;

	sftpt_start_rw();
	ck_assert_uint_eq(sftpt_opendir(1, "/", h), 0);
	for (uint32_t id = 2;; id++) {
		sftpt_req_handle(SSH_FXP_READDIR, id, h);
		sftpt_get_reply(&r, id);
		if (r.type == SSH_FXP_STATUS)
			break;
		ck_assert_uint_eq(r.type, SSH_FXP_NAME);
		ck_assert_int_eq(rd_be32(&r.rd, &count), 0);
		for (uint32_t i = 0; i < count; i++) {
			struct sftp_attrs a;

			ck_assert_int_eq(rd_cstring(&r.rd, name, sizeof name),
					 0);
			ck_assert_int_eq(rd_cstring(&r.rd, lname,
						    sizeof lname), 0);
			ck_assert_int_eq(sftp_attrs_get(&r.rd, &a), 0);
			if (strcmp(name, "..") == 0)
				saw_dotdot = 1;
			ck_assert_ptr_nonnull(strstr(lname, name));
		}
		ck_assert(rd_end(&r.rd));
		total += count;
	}
	ck_assert_uint_eq(total, 10); /* . .. and 8 entries */
	ck_assert(saw_dotdot);
	sftpt_req_handle(SSH_FXP_READDIR, 50, h);
	ck_assert_uint_eq(sftpt_status_of(50), SSH_FX_EOF);
	sftpt_req_handle(SSH_FXP_READDIR, 51, h);
	ck_assert_uint_eq(sftpt_status_of(51), SSH_FX_EOF);
}
END_TEST

static Suite *sftp_session_suite(void)
{
	Suite *s = suite_create("sftp_session");
	TCase *tc;

	tc = sftpt_tcase("session");
	tcase_add_test(tc, pipelined_replies_in_order);
	tcase_add_test(tc, backpressure_and_idle);
	suite_add_tcase(s, tc);

	tc = sftpt_tcase("handles");
	tcase_add_test(tc, write_read_round_trip);
	tcase_add_test(tc, stale_handle_generation);
	tcase_add_test(tc, handle_limit);
	tcase_add_test(tc, readdir_eof_repeats);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sftpt_run(sftp_session_suite());
}
