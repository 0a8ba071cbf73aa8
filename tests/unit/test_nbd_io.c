/*
 * The file side: BLOCK_STATUS on a sparse file made here (holes and data
 * as SEEK_DATA/SEEK_HOLE see them, REQ_ONE, the extent cap), WRITE with
 * FUA, TRIM punching holes, WRITE_ZEROES with and without NO_HOLE and
 * FAST_ZERO, CACHE, and a file that shrinks under the export. The
 * harness is in support_nbd.c.
 */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "exitcode.h"
#include "support_nbd.h"

#define K4 4096u

/* These tests need a file system with holes (/tmp is ext4 here): say
 * so plainly rather than pass without testing anything. */
static void need_holes(void)
{
	int fd = open(nbdt.img, O_RDONLY);
	off_t d;

	ck_assert_int_ge(fd, 0);
	d = lseek(fd, 0, SEEK_DATA);
	close(fd);
	ck_assert_msg(d != 0, "%s has no holes: SEEK_DATA cannot be tested",
		      nbdt.img);
}

static int allocated(uint64_t off)
{
	int fd = open(nbdt.img, O_RDONLY);
	off_t d;

	ck_assert_int_ge(fd, 0);
	d = lseek(fd, (off_t)off, SEEK_DATA);
	close(fd);
	return d == (off_t)off;
}

/* The extents of one BLOCK_STATUS reply, as (length, flags) pairs. */
static size_t block_status(uint16_t flags, uint64_t off, uint32_t len,
			   uint32_t *ext, size_t max)
{
	struct nbdt_reply r;
	size_t n;

	nbdt_send_req(flags, NBD_CMD_BLOCK_STATUS, 5, off, len);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert_uint_eq(r.type, NBD_REPLY_TYPE_BLOCK_STATUS);
	ck_assert_uint_eq(r.flags, NBD_REPLY_FLAG_DONE);
	ck_assert_uint_eq(r.handle, 5);
	ck_assert_uint_eq((r.len - 4) % 8, 0);
	ck_assert_uint_eq(be32_get(r.data), NBD_META_ID_BASE_ALLOCATION);
	n = (r.len - 4) / 8;
	ck_assert_uint_le(n, max);
	for (size_t i = 0; i < 2 * n; i++)
		ext[i] = be32_get(r.data + 4 + 4 * i);
	return n;
}

static const uint8_t data4k[K4] = { 1, 2, 3 };

/* data at [64K, 68K) and [200K, 204K), the rest holes */
static void sparse_image(void)
{
	nbdt_image(NBDT_SIZE);
	nbdt_image_put(64 * 1024, data4k, K4);
	nbdt_image_put(200 * 1024, data4k, K4);
}

START_TEST(block_status_sparse)
{
	uint32_t e[2 * 8];
	size_t n;

	sparse_image();
	need_holes();
	nbdt_go(NULL, 1, 1);
	n = block_status(0, 0, NBDT_SIZE, e, 8);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(e[0], 64 * 1024);
	ck_assert_uint_eq(e[1], NBD_STATE_HOLE | NBD_STATE_ZERO);
	ck_assert_uint_eq(e[2], K4);
	ck_assert_uint_eq(e[3], 0);
	ck_assert_uint_eq(e[4], 200 * 1024 - 68 * 1024);
	ck_assert_uint_eq(e[5], NBD_STATE_HOLE | NBD_STATE_ZERO);
	ck_assert_uint_eq(e[6], K4);
	ck_assert_uint_eq(e[7], 0);
	ck_assert_uint_eq(e[8], NBDT_SIZE - 204 * 1024);
	ck_assert_uint_eq(e[9], NBD_STATE_HOLE | NBD_STATE_ZERO);
	/* From inside the data, unaligned, ending inside a hole. */
	n = block_status(0, 66 * 1024 + 1, 10000, e, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(e[0], 2 * 1024 - 1);
	ck_assert_uint_eq(e[1], 0);
	ck_assert_uint_eq(e[0] + e[2], 10000);
}
END_TEST

START_TEST(block_status_req_one)
{
	uint32_t e[2];

	sparse_image();
	need_holes();
	nbdt_go(NULL, 1, 1);
	ck_assert_uint_eq(block_status(NBD_CMD_FLAG_REQ_ONE, 0, NBDT_SIZE, e,
				       1), 1);
	ck_assert_uint_eq(e[0], 64 * 1024);
	ck_assert_uint_eq(block_status(NBD_CMD_FLAG_REQ_ONE, 64 * 1024, 100, e,
				       1), 1);
	ck_assert_uint_eq(e[0], 100);
	ck_assert_uint_eq(e[1], 0);
}
END_TEST

/* More alternations than NBD_EXTENTS_MAX: a shorter answer, which a
 * client continues from where it stops. */
START_TEST(block_status_extent_cap)
{
	static uint32_t e[2 * NBD_EXTENTS_MAX];
	uint64_t size = (uint64_t)(NBD_EXTENTS_MAX + 8) * 2 * K4, sum = 0;
	size_t n;

	nbdt_image(size);
	for (uint64_t off = 0; off < size; off += 2 * K4)
		nbdt_image_put(off, data4k, K4);
	ck_assert(!allocated(K4));
	nbdt_go(NULL, 1, 1);
	n = block_status(0, 0, (uint32_t)size, e, NBD_EXTENTS_MAX);
	ck_assert_uint_eq(n, NBD_EXTENTS_MAX);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(e[2 * i], K4);
		sum += e[2 * i];
	}
	ck_assert_uint_lt(sum, size);
}
END_TEST

START_TEST(block_status_needs_context)
{
	nbdt_go(NULL, 1, 0);
	nbdt_send_req(0, NBD_CMD_BLOCK_STATUS, 1, 0, 4096);
	ck_assert_uint_eq(nbdt_status(1), NBD_EINVAL);
}
END_TEST

START_TEST(write_fua_and_read_back)
{
	static uint8_t data[300000];
	uint8_t back[sizeof data];
	struct nbdt_reply r;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 13);
	nbdt_go(NULL, 0, 0);
	nbdt_send_req(NBD_CMD_FLAG_FUA, NBD_CMD_WRITE, 1, 1000, sizeof data);
	/* The payload arrives in pieces, written as it comes. */
	nbdt_send(data, 1000);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert_uint_eq(buf_len(&nbdt.s.in), 0);
	nbdt_send(data + 1000, sizeof data - 1000);
	ck_assert_uint_eq(nbdt_status(1), 0);
	nbdt_image_get(1000, back, sizeof back);
	ck_assert_int_eq(memcmp(back, data, sizeof data), 0);
	nbdt_send_req(0, NBD_CMD_READ, 2, 1000, sizeof data);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, sizeof data));
	ck_assert_int_eq(memcmp(r.data, data, sizeof data), 0);
}
END_TEST

START_TEST(trim_punches)
{
	uint8_t back[K4];

	nbdt_image(NBDT_SIZE);
	memset(back, 9, sizeof back);
	for (uint64_t off = 0; off < 64 * 1024; off += K4)
		nbdt_image_put(off, back, K4);
	nbdt_go(NULL, 0, 0);
	nbdt_send_req(NBD_CMD_FLAG_FUA, NBD_CMD_TRIM, 1, 16 * 1024, 32 * 1024);
	ck_assert_uint_eq(nbdt_status(1), 0);
	ck_assert(allocated(0));
	ck_assert(!allocated(16 * 1024));
	ck_assert(allocated(48 * 1024));
	nbdt_image_get(16 * 1024, back, sizeof back);
	ck_assert_uint_eq(back[0], 0);
}
END_TEST

static void zero_case(uint16_t flags, int expect_hole)
{
	uint8_t ones[64 * 1024], back[sizeof ones];
	struct stat sb;

	memset(ones, 0xff, sizeof ones);
	nbdt_image(NBDT_SIZE);
	nbdt_image_put(0, ones, sizeof ones);
	nbdt_send_req(flags, NBD_CMD_WRITE_ZEROES, 1, 100, 60000);
	ck_assert_uint_eq(nbdt_status(1), 0);
	nbdt_image_get(0, back, sizeof back);
	ck_assert_uint_eq(back[99], 0xff);
	for (size_t i = 100; i < 60100; i++)
		if (back[i])
			ck_abort_msg("byte %zu not zeroed", i);
	ck_assert_uint_eq(back[60100], 0xff);
	ck_assert_int_eq(stat(nbdt.img, &sb), 0);
	ck_assert_uint_eq(sb.st_size, NBDT_SIZE);
	/* 8K..56K are whole 4K blocks: a hole unless NO_HOLE. */
	ck_assert_int_eq(!allocated(16 * 1024), expect_hole);
}

START_TEST(write_zeroes_hole)
{
	nbdt_go(NULL, 0, 0);
	zero_case(0, 1);
}
END_TEST

START_TEST(write_zeroes_no_hole)
{
	nbdt_go(NULL, 0, 0);
	zero_case(NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FUA, 0);
}
END_TEST

/* ext4 (where the tests run) zeroes fast either way. */
START_TEST(write_zeroes_fast)
{
	nbdt_go(NULL, 1, 0);
	zero_case(NBD_CMD_FLAG_FAST_ZERO, 1);
	zero_case(NBD_CMD_FLAG_FAST_ZERO | NBD_CMD_FLAG_NO_HOLE, 0);
}
END_TEST

/* Without any fallocate mode: zeroes are written, and a fast zero fails
 * with ENOTSUP leaving the data alone. */
START_TEST(write_zeroes_without_fallocate)
{
	struct nbd_state *st;
	uint8_t ones[K4], back[K4];

	nbdt_go(NULL, 1, 0);
	st = nbdt.st;
	st->disk.no_punch = st->disk.no_zero_range = st->disk.no_alloc = 1;
	memset(ones, 0xff, sizeof ones);
	nbdt_image_put(0, ones, sizeof ones);
	nbdt_send_req(NBD_CMD_FLAG_FAST_ZERO, NBD_CMD_WRITE_ZEROES, 1, 0, K4);
	ck_assert_uint_eq(nbdt_status(1), NBD_ENOTSUP);
	nbdt_image_get(0, back, sizeof back);
	ck_assert_uint_eq(back[0], 0xff);
	nbdt_send_req(0, NBD_CMD_WRITE_ZEROES, 2, 0, K4);
	ck_assert_uint_eq(nbdt_status(2), 0);
	nbdt_image_get(0, back, sizeof back);
	ck_assert_uint_eq(back[0], 0);
	ck_assert_uint_eq(back[K4 - 1], 0);
	/* A trim is only a hint: without holes it is ignored, not failed. */
	nbdt_send_req(0, NBD_CMD_TRIM, 3, 0, K4);
	ck_assert_uint_eq(nbdt_status(3), 0);
}
END_TEST

START_TEST(flush_and_cache)
{
	nbdt_go(NULL, 0, 0);
	nbdt_send_req(0, NBD_CMD_FLUSH, 1, 0, 0);
	ck_assert_uint_eq(nbdt_status(1), 0);
	nbdt_send_req(0, NBD_CMD_CACHE, 2, 4096, 65536);
	ck_assert_uint_eq(nbdt_status(2), 0);
	nbdt_send_req(0, NBD_CMD_CACHE, 3, 0, 0);
	ck_assert_uint_eq(nbdt_status(3), 0);
}
END_TEST

/* The export's size is fixed at GO; if the file shrinks, the lost tail
 * reads as zeroes and is a hole, like a truncated then extended file. */
START_TEST(file_shrinks)
{
	uint8_t ones[K4];
	uint32_t e[4];
	struct nbdt_reply r;

	memset(ones, 0xff, sizeof ones);
	nbdt_image_put(NBDT_SIZE - K4, ones, K4);
	nbdt_go(NULL, 1, 1);
	ck_assert_int_eq(truncate(nbdt.img, NBDT_SIZE / 2), 0);
	nbdt_send_req(0, NBD_CMD_READ, 1, NBDT_SIZE - K4, K4);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert_uint_eq(r.flags, NBD_REPLY_FLAG_DONE);
	ck_assert(r.type == NBD_REPLY_TYPE_OFFSET_HOLE ||
		  (r.type == NBD_REPLY_TYPE_OFFSET_DATA && r.data[8] == 0));
	ck_assert_uint_eq(block_status(0, NBDT_SIZE - K4, K4, e, 2), 1);
	ck_assert_uint_eq(e[1], NBD_STATE_HOLE | NBD_STATE_ZERO);
}
END_TEST

static Suite *nbd_io_suite(void)
{
	Suite *s = suite_create("nbd_io");
	TCase *tc;

	tc = nbdt_tcase("block_status");
	tcase_add_test(tc, block_status_sparse);
	tcase_add_test(tc, block_status_req_one);
	tcase_add_test(tc, block_status_extent_cap);
	tcase_add_test(tc, block_status_needs_context);
	suite_add_tcase(s, tc);

	tc = nbdt_tcase("writes");
	tcase_add_test(tc, write_fua_and_read_back);
	tcase_add_test(tc, trim_punches);
	tcase_add_test(tc, write_zeroes_hole);
	tcase_add_test(tc, write_zeroes_no_hole);
	tcase_add_test(tc, write_zeroes_fast);
	tcase_add_test(tc, write_zeroes_without_fallocate);
	tcase_add_test(tc, flush_and_cache);
	tcase_add_test(tc, file_shrinks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nbdt_run(nbd_io_suite());
}
