/*
 * copy-data in bounded steps (handler/sftp/sftp_copy.c): a sparse source
 * keeps its holes, holes read as zeros where the destination had data, a
 * STAT sent behind a long copy is answered before it, a second copy waits
 * for the first, and a copy stops when the client's input ends. The
 * module is driven as the core drives it: input(), then timeout() while
 * deadline() asks for it.
 */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support_sftp.h"

#define GIB (1024ull * 1024 * 1024)

static void queue_copy(uint32_t id, const uint8_t *src, uint64_t len,
		       const uint8_t *dst)
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, SSH_FXP_EXTENDED, id);
	wr_cstring(&p.w, "copy-data");
	wr_string(&p.w, src, SFTP_HANDLE_LEN);
	wr_be64(&p.w, 0);
	wr_be64(&p.w, len);
	wr_string(&p.w, dst, SFTP_HANDLE_LEN);
	wr_be64(&p.w, 0);
	sftpt_pk_queue(&p);
}

static void queue_stat(uint32_t id, const char *path)
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, SSH_FXP_STAT, id);
	wr_cstring(&p.w, path);
	sftpt_pk_queue(&p);
}

/* The core's passes until the copy is no longer pending (bounded). */
static void drive(void)
{
	for (int i = 0; i < 100000; i++) {
		uint64_t d = proto_sftp.deadline(&sftpt.s, sftpt.st);

		if (!d)
			return;
		ck_assert_int_eq(proto_sftp.timeout(&sftpt.s, sftpt.st, d), 0);
	}
	ck_abort_msg("copy did not end");
}

static int make_file(const char *rel, uint64_t size)
{
	char p[600];
	int fd;

	sftpt_path_in(p, sizeof p, sftpt.root, rel);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void put_at(int fd, uint64_t off, const char *s)
{
	ck_assert_int_eq(pwrite(fd, s, strlen(s), (off_t)off),
			 (ssize_t)strlen(s));
}

static int byte_at(const char *rel, uint64_t off)
{
	char p[600];
	unsigned char c;
	int fd;

	sftpt_path_in(p, sizeof p, sftpt.root, rel);
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, (off_t)off), 1);
	close(fd);
	return c;
}

static void stat_in(const char *rel, struct stat *sb)
{
	char p[600];

	sftpt_path_in(p, sizeof p, sftpt.root, rel);
	ck_assert_int_eq(stat(p, sb), 0);
}

START_TEST(sparse_source_keeps_holes)
{
	uint8_t a[SFTP_HANDLE_LEN], b[SFTP_HANDLE_LEN];
	int fd = make_file("sparse", GIB);
	struct stat sb;

	put_at(fd, 0, "head");
	put_at(fd, GIB / 2, "mid");
	put_at(fd, GIB - 4, "tail");
	close(fd);
	sftpt_start_rw();
	ck_assert_uint_eq(sftpt_open_file(1, "sparse", SSH_FXF_READ, a), 0);
	ck_assert_uint_eq(sftpt_open_file(2, "copy", SSH_FXF_WRITE |
					  SSH_FXF_CREAT, b), 0);
	queue_copy(3, a, 0, b);
	ck_assert_int_eq(sftpt_run_input(), 0);
	drive();
	ck_assert_uint_eq(sftpt_status_of(3), SSH_FX_OK);
	stat_in("copy", &sb);
	ck_assert_uint_eq((uint64_t)sb.st_size, GIB);
	/* A few blocks, not a gigabyte of them. */
	ck_assert_msg((uint64_t)sb.st_blocks * 512 < (1u << 20),
		      "%llu blocks", (unsigned long long)sb.st_blocks);
	ck_assert_int_eq(byte_at("copy", 0), 'h');
	ck_assert_int_eq(byte_at("copy", GIB / 2 + 2), 'd');
	ck_assert_int_eq(byte_at("copy", GIB - 1), 'l');
	ck_assert_int_eq(byte_at("copy", GIB / 4), 0);
}
END_TEST

START_TEST(holes_zero_the_destination)
{
	uint8_t a[SFTP_HANDLE_LEN], b[SFTP_HANDLE_LEN];
	static char x[1 << 20];
	int fd = make_file("src", 1 << 20);
	struct stat sb;

	put_at(fd, 0, "abc");
	close(fd);
	memset(x, 'x', sizeof x - 1);
	fd = make_file("dst", 0);
	put_at(fd, 0, x);
	close(fd);
	sftpt_start_rw();
	ck_assert_uint_eq(sftpt_open_file(1, "src", SSH_FXF_READ, a), 0);
	ck_assert_uint_eq(sftpt_open_file(2, "dst", SSH_FXF_WRITE, b), 0);
	queue_copy(3, a, 0, b);
	ck_assert_int_eq(sftpt_run_input(), 0);
	drive();
	ck_assert_uint_eq(sftpt_status_of(3), SSH_FX_OK);
	stat_in("dst", &sb);
	ck_assert_uint_eq((uint64_t)sb.st_size, 1 << 20);
	ck_assert_int_eq(byte_at("dst", 2), 'c');
	ck_assert_int_eq(byte_at("dst", 3), 0);
	ck_assert_int_eq(byte_at("dst", 500000), 0);
	ck_assert_int_eq(byte_at("dst", (1 << 20) - 1), 0);
}
END_TEST

/* A source of real data, larger than one step. */
static void dense_source(const char *rel, size_t size)
{
	static char chunk[65536];
	int fd = make_file(rel, 0);

	for (size_t off = 0; off < size; off += sizeof chunk) {
		memset(chunk, 'a' + (int)(off / sizeof chunk % 26),
		       sizeof chunk);
		ck_assert_int_eq(pwrite(fd, chunk, sizeof chunk, (off_t)off),
				 (ssize_t)sizeof chunk);
	}
	close(fd);
}

START_TEST(stat_behind_a_copy_answered_first)
{
	uint8_t a[SFTP_HANDLE_LEN], b[SFTP_HANDLE_LEN];
	struct sftpt_reply r;
	struct stat sb;

	dense_source("big", 4 << 20);
	sftpt_start_rw();
	((struct sftp_state *)sftpt.st)->copy_step = 65536;
	ck_assert_uint_eq(sftpt_open_file(1, "big", SSH_FXF_READ, a), 0);
	ck_assert_uint_eq(sftpt_open_file(2, "copy", SSH_FXF_WRITE |
					  SSH_FXF_CREAT, b), 0);
	queue_copy(3, a, 0, b);
	queue_stat(4, "hello.txt");
	ck_assert_int_eq(sftpt_run_input(), 0);
	/* The STAT's reply comes first; the copy's is not there yet. */
	sftpt_get_reply(&r, 4);
	ck_assert_uint_eq(r.type, SSH_FXP_ATTRS);
	ck_assert(!sftpt_next_reply(&r));
	ck_assert(!sftpt_idle());
	stat_in("copy", &sb);
	ck_assert_uint_lt((uint64_t)sb.st_size, 4 << 20);
	drive();
	ck_assert_uint_eq(sftpt_status_of(3), SSH_FX_OK);
	stat_in("copy", &sb);
	ck_assert_uint_eq((uint64_t)sb.st_size, 4 << 20);
	ck_assert_int_eq(byte_at("copy", (4 << 20) - 1), 'a' + 63 % 26);
	ck_assert(sftpt_idle());
}
END_TEST

START_TEST(second_copy_waits_for_the_first)
{
	uint8_t a[SFTP_HANDLE_LEN], b[SFTP_HANDLE_LEN], c[SFTP_HANDLE_LEN];
	struct sftpt_reply r;

	dense_source("big", 1 << 20);
	sftpt_start_rw();
	((struct sftp_state *)sftpt.st)->copy_step = 65536;
	ck_assert_uint_eq(sftpt_open_file(1, "big", SSH_FXF_READ, a), 0);
	ck_assert_uint_eq(sftpt_open_file(2, "c1", SSH_FXF_WRITE |
					  SSH_FXF_CREAT, b), 0);
	ck_assert_uint_eq(sftpt_open_file(3, "c2", SSH_FXF_WRITE |
					  SSH_FXF_CREAT, c), 0);
	queue_copy(4, a, 0, b);
	queue_copy(5, a, 0, c);
	queue_stat(6, "hello.txt");
	ck_assert_int_eq(sftpt_run_input(), 0);
	ck_assert(!sftpt_next_reply(&r));
	drive();
	ck_assert_uint_eq(sftpt_status_of(4), SSH_FX_OK);
	ck_assert_int_eq(sftpt_run_input(), 0);
	sftpt_get_reply(&r, 6);
	drive();
	ck_assert_uint_eq(sftpt_status_of(5), SSH_FX_OK);
	ck_assert_int_eq(byte_at("c2", (1 << 20) - 1), 'a' + 15);
}
END_TEST

START_TEST(copy_stops_when_the_client_goes)
{
	uint8_t a[SFTP_HANDLE_LEN], b[SFTP_HANDLE_LEN];
	struct stat sb;

	dense_source("big", 2 << 20);
	sftpt_start_rw();
	((struct sftp_state *)sftpt.st)->copy_step = 65536;
	ck_assert_uint_eq(sftpt_open_file(1, "big", SSH_FXF_READ, a), 0);
	ck_assert_uint_eq(sftpt_open_file(2, "copy", SSH_FXF_WRITE |
					  SSH_FXF_CREAT, b), 0);
	queue_copy(3, a, 0, b);
	ck_assert_int_eq(sftpt_run_input(), 0);
	ck_assert_uint_ne(proto_sftp.deadline(&sftpt.s, sftpt.st), 0);
	sftpt.s.in_eof = 1;
	ck_assert_int_eq(sftpt_run_input(), 0);
	ck_assert_uint_eq(sftpt_status_of(3), SSH_FX_FAILURE);
	ck_assert_uint_eq(proto_sftp.deadline(&sftpt.s, sftpt.st), 0);
	ck_assert(sftpt_idle());
	stat_in("copy", &sb);
	ck_assert_uint_lt((uint64_t)sb.st_size, 2 << 20);
}
END_TEST

static Suite *sftp_copy_suite(void)
{
	Suite *s = suite_create("sftp_copy");
	TCase *tc = sftpt_tcase("copy");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sparse_source_keeps_holes);
	tcase_add_test(tc, holes_zero_the_destination);
	tcase_add_test(tc, stat_behind_a_copy_answered_first);
	tcase_add_test(tc, second_copy_waits_for_the_first);
	tcase_add_test(tc, copy_stops_when_the_client_goes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sftpt_run(sftp_copy_suite());
}
