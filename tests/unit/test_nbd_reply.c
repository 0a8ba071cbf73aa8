/*
 * Replies: the encoders byte by byte, then READ answered as a simple
 * reply (header then data, streamed through a buffer smaller than the
 * data), as structured chunks (data pieces and holes, reassembled), with
 * DF (one chunk), of length 0, and the error chunks. The harness is in
 * support_nbd.c.
 */
#include <check.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "exitcode.h"
#include "support_nbd.h"

static struct buf out;

static void out_setup(void)
{
	ck_assert_int_eq(buf_init(&out, 256), 0);
}

static void out_teardown(void)
{
	buf_free(&out);
}

START_TEST(option_reply_bytes)
{
	const uint8_t *p;
	struct wr w;

	ck_assert_int_eq(nbd_put_opt_reply(&out, 7, NBD_REP_ACK, NULL, 0), 0);
	p = buf_data(&out);
	ck_assert_uint_eq(buf_len(&out), 20);
	ck_assert_uint_eq(be64_get(p), 0x3e889045565a9ull);
	ck_assert_uint_eq(be32_get(p + 8), 7);
	ck_assert_uint_eq(be32_get(p + 12), 1);
	ck_assert_uint_eq(be32_get(p + 16), 0);
	buf_clear(&out);
	ck_assert_int_eq(nbd_put_opt_error(&out, 5, NBD_REP_ERR_POLICY, "no"),
			 0);
	ck_assert_uint_eq(buf_len(&out), 22);
	ck_assert_uint_eq(be32_get(buf_data(&out) + 12), 0x80000002u);
	buf_clear(&out);
	/* The length written must be the length announced. */
	ck_assert_int_eq(nbd_opt_begin(&out, &w, 3, NBD_REP_SERVER, 6), 0);
	wr_be32(&w, 1);
	ck_assert_int_eq(nbd_opt_end(&out, &w), -1);
	ck_assert_uint_eq(buf_len(&out), 0);
	/* No room: nothing at all. */
	ck_assert_int_eq(nbd_put_opt_reply(&out, 3, NBD_REP_SERVER, "x", 300),
			 -1);
	ck_assert_uint_eq(buf_len(&out), 0);
}
END_TEST

START_TEST(simple_and_chunk_bytes)
{
	static const struct nbd_extent e[2] = { { 4096, 3 }, { 512, 0 } };
	const uint8_t *p;

	ck_assert_int_eq(nbd_put_simple(&out, 0x1122334455667788ull, 22), 0);
	p = buf_data(&out);
	ck_assert_uint_eq(buf_len(&out), 16);
	ck_assert_uint_eq(be32_get(p), 0x67446698u);
	ck_assert_uint_eq(be32_get(p + 4), 22);
	ck_assert_uint_eq(be64_get(p + 8), 0x1122334455667788ull);
	buf_clear(&out);
	ck_assert_int_eq(nbd_put_none(&out, 9), 0);
	p = buf_data(&out);
	ck_assert_uint_eq(buf_len(&out), 20);
	ck_assert_uint_eq(be32_get(p), 0x668e33efu);
	ck_assert_uint_eq(be16_get(p + 4), NBD_REPLY_FLAG_DONE);
	ck_assert_uint_eq(be16_get(p + 6), NBD_REPLY_TYPE_NONE);
	ck_assert_uint_eq(be64_get(p + 8), 9);
	ck_assert_uint_eq(be32_get(p + 16), 0);
	buf_clear(&out);
	ck_assert_int_eq(nbd_put_hole(&out, 0, 9, 1000, 24), 0);
	p = buf_data(&out);
	ck_assert_uint_eq(be16_get(p + 6), NBD_REPLY_TYPE_OFFSET_HOLE);
	ck_assert_uint_eq(be32_get(p + 16), 12);
	ck_assert_uint_eq(be64_get(p + 20), 1000);
	ck_assert_uint_eq(be32_get(p + 28), 24);
	buf_clear(&out);
	ck_assert_int_eq(nbd_put_block_status(&out, 9, 1, e, 2), 0);
	p = buf_data(&out);
	ck_assert_uint_eq(buf_len(&out), 20 + 4 + 16);
	ck_assert_uint_eq(be16_get(p + 6), NBD_REPLY_TYPE_BLOCK_STATUS);
	ck_assert_uint_eq(be32_get(p + 20), 1);
	ck_assert_uint_eq(be32_get(p + 24), 4096);
	ck_assert_uint_eq(be32_get(p + 28), 3);
	ck_assert_uint_eq(be32_get(p + 32), 512);
	ck_assert_uint_eq(be32_get(p + 36), 0);
	buf_clear(&out);
	ck_assert_int_eq(nbd_put_block_status(&out, 9, 1, e, 0), -1);
}
END_TEST

START_TEST(error_chunk_bytes)
{
	char longmsg[400];
	const uint8_t *p;

	ck_assert_int_eq(nbd_put_error_chunk(&out, 5, NBD_EIO, "bad", 1, 77),
			 0);
	p = buf_data(&out);
	ck_assert_uint_eq(buf_len(&out), 20 + 4 + 2 + 3 + 8);
	ck_assert_uint_eq(be16_get(p + 4), NBD_REPLY_FLAG_DONE);
	ck_assert_uint_eq(be16_get(p + 6), NBD_REPLY_TYPE_ERROR_OFFSET);
	ck_assert_uint_eq(be32_get(p + 16), 4 + 2 + 3 + 8);
	ck_assert_uint_eq(be32_get(p + 20), NBD_EIO);
	ck_assert_uint_eq(be16_get(p + 24), 3);
	ck_assert_int_eq(memcmp(p + 26, "bad", 3), 0);
	ck_assert_uint_eq(be64_get(p + 29), 77);
	buf_clear(&out);
	/* Messages are capped. */
	memset(longmsg, 'm', sizeof longmsg - 1);
	longmsg[sizeof longmsg - 1] = 0;
	ck_assert_int_eq(nbd_put_error_chunk(&out, 5, NBD_EINVAL, longmsg, 0,
					     0), 0);
	p = buf_data(&out);
	ck_assert_uint_eq(be16_get(p + 6), NBD_REPLY_TYPE_ERROR);
	ck_assert_uint_eq(be16_get(p + 24), NBD_MSG_MAX);
	ck_assert_uint_eq(buf_len(&out), 20 + 6 + NBD_MSG_MAX);
}
END_TEST

START_TEST(errno_mapping)
{
	static const struct { int e; uint32_t nbd; } map[] = {
		{ EPERM, NBD_EPERM }, { EACCES, NBD_EPERM },
		{ EROFS, NBD_EPERM }, { EIO, NBD_EIO },
		{ ENOMEM, NBD_ENOMEM }, { EINVAL, NBD_EINVAL },
		{ ENOSPC, NBD_ENOSPC }, { EDQUOT, NBD_ENOSPC },
		{ EFBIG, NBD_ENOSPC }, { EOVERFLOW, NBD_EOVERFLOW },
		{ ENOTSUP, NBD_ENOTSUP }, { ESHUTDOWN, NBD_ESHUTDOWN },
		{ EBADF, NBD_EIO }, { ENXIO, NBD_EIO }, { 0, 0 }
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		ck_assert_uint_eq(nbd_errno_map(map[i].e), map[i].nbd);
	ck_assert_str_eq(nbd_err_name(NBD_ENOSPC), "ENOSPC");
	ck_assert_str_eq(nbd_err_name(4242), "E?");
}
END_TEST

/* ---- READ through the module ---- */

#define BIG (4u << 20)

/* An image with a pattern in [0, 1 MiB) and [3 MiB, 4 MiB), holes
 * between; returns what a read of it must give. */
static uint8_t *patterned(void)
{
	uint8_t *want = calloc(1, BIG);

	ck_assert_ptr_nonnull(want);
	nbdt_image(BIG);
	for (size_t i = 0; i < BIG; i++)
		if (i < (1u << 20) || i >= (3u << 20))
			want[i] = (uint8_t)(i * 7 + (i >> 12));
	nbdt_image_put(0, want, 1u << 20);
	nbdt_image_put(3u << 20, want + (3u << 20), 1u << 20);
	return want;
}

START_TEST(simple_read_streams)
{
	uint8_t *want = patterned();
	struct nbdt_reply r;

	nbdt_go(NULL, 0, 0);
	nbdt_send_req(0, NBD_CMD_READ, 11, 100, BIG - 200);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, BIG - 200));
	ck_assert(r.simple);
	ck_assert_uint_eq(r.err, 0);
	ck_assert_uint_eq(r.handle, 11);
	ck_assert_int_eq(memcmp(r.data, want + 100, BIG - 200), 0);
	ck_assert(!nbdt_next_reply(&r, 0));
	free(want);
}
END_TEST

/* Chunks must cover the request exactly once, the last one DONE. */
static void reassemble(uint64_t handle, uint64_t off, uint32_t len,
		       uint8_t *got, unsigned *data, unsigned *holes)
{
	uint8_t *seen = calloc(1, len);
	struct nbdt_reply r;
	int done = 0, twice = 0, missed = 0;

	ck_assert_ptr_nonnull(seen);
	*data = *holes = 0;
	while (!done) {
		uint64_t at, n;

		ck_assert(nbdt_next_reply(&r, 0));
		ck_assert(!r.simple);
		ck_assert_uint_eq(r.handle, handle);
		done = r.flags & NBD_REPLY_FLAG_DONE;
		if (r.type == NBD_REPLY_TYPE_NONE)
			continue;
		ck_assert(r.type == NBD_REPLY_TYPE_OFFSET_DATA ||
			  r.type == NBD_REPLY_TYPE_OFFSET_HOLE);
		at = be64_get(r.data);
		n = r.type == NBD_REPLY_TYPE_OFFSET_HOLE ? be32_get(r.data + 8) :
							   r.len - 8;
		ck_assert_uint_gt(n, 0);
		ck_assert(at >= off && at + n <= off + len);
		/* Plain loops: a check assertion per byte costs a write. */
		for (uint64_t i = at - off; i < at - off + n; i++)
			twice |= seen[i]++;
		if (r.type == NBD_REPLY_TYPE_OFFSET_HOLE) {
			memset(got + (at - off), 0, n);
			(*holes)++;
		} else {
			memcpy(got + (at - off), r.data + 8, n);
			(*data)++;
		}
	}
	for (uint32_t i = 0; i < len; i++)
		missed |= !seen[i];
	ck_assert(!twice && !missed);
	free(seen);
}

START_TEST(structured_read_holes)
{
	uint8_t *want = patterned(), *got = malloc(BIG);
	unsigned data, holes;

	nbdt_go(NULL, 1, 0);
	nbdt_send_req(0, NBD_CMD_READ, 12, 0, BIG);
	ck_assert_int_eq(nbdt_input(), 0);
	reassemble(12, 0, BIG, got, &data, &holes);
	ck_assert_int_eq(memcmp(got, want, BIG), 0);
	/* The 2 MiB between is one hole; the data took several pieces. */
	ck_assert_uint_eq(holes, 1);
	ck_assert_uint_ge(data, 2);
	free(want);
	free(got);
}
END_TEST

START_TEST(structured_read_unaligned)
{
	uint8_t *want = patterned(), *got = malloc(BIG);
	unsigned data, holes;

	nbdt_go(NULL, 1, 0);
	nbdt_send_req(0, NBD_CMD_READ, 13, 12345, (3u << 20) + 1);
	ck_assert_int_eq(nbdt_input(), 0);
	reassemble(13, 12345, (3u << 20) + 1, got, &data, &holes);
	ck_assert_int_eq(memcmp(got, want + 12345, (3u << 20) + 1), 0);
	free(want);
	free(got);
}
END_TEST

START_TEST(df_read_one_chunk)
{
	uint8_t *want = patterned();
	struct nbdt_reply r;

	nbdt_go(NULL, 1, 0);
	nbdt_send_req(NBD_CMD_FLAG_DF, NBD_CMD_READ, 14, 512, BIG - 1024);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert_uint_eq(r.type, NBD_REPLY_TYPE_OFFSET_DATA);
	/* Bigger than the buffer: streamed, so not final; NONE follows. */
	ck_assert_uint_eq(r.flags & NBD_REPLY_FLAG_DONE, 0);
	ck_assert_uint_eq(r.len, 8 + BIG - 1024);
	ck_assert_uint_eq(be64_get(r.data), 512);
	ck_assert_int_eq(memcmp(r.data + 8, want + 512, BIG - 1024), 0);
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert_uint_eq(r.type, NBD_REPLY_TYPE_NONE);
	ck_assert_uint_eq(r.flags, NBD_REPLY_FLAG_DONE);
	/* A small one is a single final chunk. */
	nbdt_send_req(NBD_CMD_FLAG_DF, NBD_CMD_READ, 15, (1u << 20) - 8, 16);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert_uint_eq(r.flags, NBD_REPLY_FLAG_DONE);
	ck_assert_uint_eq(r.len, 8 + 16);
	ck_assert_int_eq(memcmp(r.data + 8, want + (1u << 20) - 8, 16), 0);
	ck_assert(!nbdt_next_reply(&r, 0));
	free(want);
}
END_TEST

START_TEST(zero_length_read)
{
	struct nbdt_reply r;

	nbdt_go(NULL, 1, 0);
	nbdt_send_req(0, NBD_CMD_READ, 16, 0, 0);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert_uint_eq(r.type, NBD_REPLY_TYPE_NONE);
	ck_assert_uint_eq(r.flags, NBD_REPLY_FLAG_DONE);
}
END_TEST

/* Errors to a READ: an error chunk with a message when structured, a
 * simple reply without data otherwise. */
START_TEST(read_errors)
{
	struct nbdt_reply r;

	nbdt_go(NULL, 1, 0);
	nbdt_send_req(0, NBD_CMD_READ, 17, NBDT_SIZE - 1, 2);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert_uint_eq(r.type, NBD_REPLY_TYPE_ERROR);
	ck_assert_uint_eq(r.flags, NBD_REPLY_FLAG_DONE);
	ck_assert_uint_eq(nbdt_chunk_err(&r), NBD_EINVAL);
	ck_assert_uint_gt(be16_get(r.data + 4), 0);
	ck_assert_uint_eq(r.len, 6 + be16_get(r.data + 4));
}
END_TEST

START_TEST(simple_read_error_no_data)
{
	struct nbdt_reply r;

	nbdt_go(NULL, 0, 0);
	nbdt_send_req(0, NBD_CMD_READ, 18, NBDT_SIZE, 4096);
	nbdt_send_req(0, NBD_CMD_READ, 19, 0, 4);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, 4096));
	ck_assert_uint_eq(r.err, NBD_EINVAL);
	ck_assert_uint_eq(r.handle, 18);
	ck_assert(nbdt_next_reply(&r, 4));
	ck_assert_uint_eq(r.err, 0);
	ck_assert_uint_eq(r.handle, 19);
}
END_TEST

/* Many requests queued at once: every one answered (READs may overtake
 * each other, see slow_read_overtaken), memory bounded by the session
 * buffers (the harness never grows them). */
START_TEST(pipelined_reads)
{
	uint8_t *want = patterned();
	struct nbdt_reply r;
	uint64_t seen = 0;

	nbdt_go(NULL, 0, 0);
	for (uint64_t h = 0; h < 64; h++)
		nbdt_send_req(0, NBD_CMD_READ, h, h * 65536, 65536);
	ck_assert_int_eq(nbdt_input(), 0);
	for (uint64_t i = 0; i < 64; i++) {
		ck_assert(nbdt_next_reply(&r, 65536));
		ck_assert_uint_lt(r.handle, 64);
		ck_assert(!(seen & (1ull << r.handle)));
		seen |= 1ull << r.handle;
		ck_assert_int_eq(memcmp(r.data, want + r.handle * 65536,
					65536), 0);
	}
	free(want);
}
END_TEST

/* Hooks standing in for a slow disk: the READ with handle 1 is not in
 * the page cache, and stays parked while *held. */
static int slow_handle_1(void *arg, const struct nbd_request *rq)
{
	(void)arg;
	return rq->handle == 1;
}

static int hold_handle_1(void *arg, const struct nbd_request *rq)
{
	const int *held = arg;

	return rq->handle == 1 && *held;
}

/* Without io_uring: the same requests answered in arrival order. */
static void in_order_fallback(const uint8_t *want)
{
	static const uint64_t off[] = { 0, 3u << 20, 4096 };
	static const uint32_t len[] = { 65536, 65536, 4096 };
	struct nbdt_reply r;

	for (uint64_t h = 1; h <= 3; h++)
		nbdt_send_req(0, NBD_CMD_READ, h, off[h - 1], len[h - 1]);
	nbdt_send_req(0, NBD_CMD_FLUSH, 4, 0, 0);
	ck_assert_int_eq(nbdt_input(), 0);
	for (uint64_t h = 1; h <= 3; h++) {
		ck_assert(nbdt_next_reply(&r, len[h - 1]));
		ck_assert_uint_eq(r.handle, h);
		ck_assert_int_eq(memcmp(r.data, want + off[h - 1],
					len[h - 1]), 0);
	}
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert_uint_eq(r.handle, 4);
	ck_assert(nbdt_idle());
}

/* A READ that has to wait for the disk is parked: the READs behind it
 * are answered at once, a FLUSH waits for it, and it comes back with its
 * data once its read completed. */
START_TEST(slow_read_overtaken)
{
	uint8_t *want = patterned();
	struct nbd_state *st;
	struct nbdt_reply r;
	int held = 1;

	nbdt_go(NULL, 0, 0);
	st = nbdt.st;
	if (!st->aio.on) {
		/* io_uring refused here (a seccomp profile, an old kernel):
		 * the module must then serve in order, as it says it does. */
		fprintf(stderr, "slow_read_overtaken: no io_uring here, "
			"checking the in-order fallback\n");
		in_order_fallback(want);
		free(want);
		return;
	}
	st->aio.hook_slow = slow_handle_1;
	st->aio.hook_hold = hold_handle_1;
	st->aio.hook_arg = &held;
	nbdt_send_req(0, NBD_CMD_READ, 1, 0, 65536);
	nbdt_send_req(0, NBD_CMD_READ, 2, 3u << 20, 65536);
	nbdt_send_req(0, NBD_CMD_READ, 3, 4096, 4096);
	nbdt_send_req(0, NBD_CMD_FLUSH, 4, 0, 0);
	ck_assert_int_eq(nbdt_input_once(), 0);
	ck_assert(nbdt_next_reply(&r, 65536));
	ck_assert_uint_eq(r.handle, 2);
	ck_assert_int_eq(memcmp(r.data, want + (3u << 20), 65536), 0);
	ck_assert(nbdt_next_reply(&r, 4096));
	ck_assert_uint_eq(r.handle, 3);
	ck_assert_int_eq(memcmp(r.data, want + 4096, 4096), 0);
	/* READ 1 is held even once its read completed; FLUSH 4 waits
	 * behind it, its header still in the input. */
	ck_assert_int_eq(nbdt_wait_module(2000), 1);
	ck_assert_int_eq(nbdt_input_once(), 0);
	ck_assert(!nbdt_next_reply(&r, 65536));
	ck_assert(!nbdt_idle());
	ck_assert_uint_eq(st->aio.parked, 1);
	ck_assert_uint_eq(buf_len(&nbdt.s.in), NBD_REQUEST_LEN);
	held = 0;
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, 65536));
	ck_assert_uint_eq(r.handle, 1);
	ck_assert_uint_eq(r.err, 0);
	ck_assert_int_eq(memcmp(r.data, want, 65536), 0);
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert_uint_eq(r.handle, 4);
	ck_assert_uint_eq(r.err, 0);
	ck_assert(nbdt_idle());
	free(want);
}
END_TEST

static Suite *nbd_reply_suite(void)
{
	Suite *s = suite_create("nbd_reply");
	TCase *tc;

	tc = tcase_create("encoders");
	tcase_add_checked_fixture(tc, out_setup, out_teardown);
	tcase_add_test(tc, option_reply_bytes);
	tcase_add_test(tc, simple_and_chunk_bytes);
	tcase_add_test(tc, error_chunk_bytes);
	tcase_add_test(tc, errno_mapping);
	suite_add_tcase(s, tc);

	tc = nbdt_tcase("read");
	tcase_add_test(tc, simple_read_streams);
	tcase_add_test(tc, structured_read_holes);
	tcase_add_test(tc, structured_read_unaligned);
	tcase_add_test(tc, df_read_one_chunk);
	tcase_add_test(tc, zero_length_read);
	tcase_add_test(tc, read_errors);
	tcase_add_test(tc, simple_read_error_no_data);
	tcase_add_test(tc, pipelined_reads);
	tcase_add_test(tc, slow_read_overtaken);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nbdt_run(nbd_reply_suite());
}
