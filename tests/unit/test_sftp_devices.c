/*
 * OPEN and SETSTAT(size) on what is not a regular file (sftp_ops.c,
 * sftp_setstat.c, sftp_policy.c): FIFOs and devices other than the memory
 * ones are refused without ever being opened (inotify sees every real
 * open; an O_PATH look does not count); /dev/zero and /dev/null reached
 * through a link inside a root that holds them work as with OpenSSH.
 * Device nodes need root: those cases are skipped otherwise.
 */
#include <check.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "support_sftp.h"

/* An inotify watch for opens of rel in the root. */
static int watch_opens(const char *rel)
{
	char p[600];
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	sftpt_path_in(p, sizeof p, sftpt.root, rel);
	ck_assert_int_ge(inotify_add_watch(fd, p, IN_OPEN), 0);
	return fd;
}

/* Whether the watched file was opened since (drains the events). */
static int was_opened(int fd)
{
	char ev[4096];
	ssize_t n = read(fd, ev, sizeof ev);

	close(fd);
	return n > 0;
}

static void make_node(const char *rel, mode_t type, unsigned maj,
		      unsigned min)
{
	char p[600];

	sftpt_path_in(p, sizeof p, sftpt.root, rel);
	ck_assert_int_eq(mknod(p, type | 0666, makedev(maj, min)), 0);
}

static uint32_t setstat_size(uint32_t id, const char *path, uint64_t size)
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, SSH_FXP_SETSTAT, id);
	wr_cstring(&p.w, path);
	wr_be32(&p.w, SSH_FILEXFER_ATTR_SIZE);
	wr_be64(&p.w, size);
	sftpt_pk_send(&p);
	return sftpt_status_of(id);
}

START_TEST(fifo_never_opened)
{
	uint8_t h[SFTP_HANDLE_LEN];
	char p[600];
	int w;

	sftpt_path_in(p, sizeof p, sftpt.root, "fifo");
	ck_assert_int_eq(mkfifo(p, 0666), 0);
	sftpt_start_rw();
	w = watch_opens("fifo");
	ck_assert_uint_eq(sftpt_open_file(1, "fifo", SSH_FXF_READ, h),
			  SSH_FX_FAILURE);
	ck_assert_uint_eq(sftpt_open_file(2, "fifo", SSH_FXF_WRITE, h),
			  SSH_FX_FAILURE);
	ck_assert_uint_ne(setstat_size(3, "fifo", 0), SSH_FX_OK);
	ck_assert_msg(!was_opened(w), "the FIFO was opened");
}
END_TEST

START_TEST(other_devices_never_opened)
{
	uint8_t h[SFTP_HANDLE_LEN];
	int w;

	if (geteuid() != 0)
		return;
	make_node("tty", S_IFCHR, 5, 0);   /* /dev/tty */
	make_node("mem", S_IFCHR, 1, 1);   /* /dev/mem */
	make_node("loop", S_IFBLK, 7, 0);  /* /dev/loop0 */
	sftpt_start_rw();
	w = watch_opens("tty");
	ck_assert_uint_eq(sftpt_open_file(1, "tty", SSH_FXF_READ, h),
			  SSH_FX_FAILURE);
	ck_assert_uint_ne(setstat_size(2, "tty", 0), SSH_FX_OK);
	ck_assert_msg(!was_opened(w), "the tty was opened");
	w = watch_opens("mem");
	ck_assert_uint_eq(sftpt_open_file(3, "mem", SSH_FXF_READ, h),
			  SSH_FX_FAILURE);
	ck_assert_msg(!was_opened(w), "/dev/mem was opened");
	w = watch_opens("loop");
	ck_assert_uint_eq(sftpt_open_file(4, "loop", SSH_FXF_READ, h),
			  SSH_FX_FAILURE);
	ck_assert_msg(!was_opened(w), "the block device was opened");
}
END_TEST

/* A root holding /dev: a link to /dev/zero is ROOT/dev/zero. */
START_TEST(dev_zero_and_null_through_a_link)
{
	uint8_t h[SFTP_HANDLE_LEN];
	struct sftpt_reply r;
	const uint8_t *d;
	uint32_t n;
	char p[600];

	if (geteuid() != 0)
		return;
	sftpt_path_in(p, sizeof p, sftpt.root, "dev");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	make_node("dev/zero", S_IFCHR, 1, 5);
	make_node("dev/null", S_IFCHR, 1, 3);
	sftpt_path_in(p, sizeof p, sftpt.root, "z");
	ck_assert_int_eq(symlink("/dev/zero", p), 0);
	sftpt_start_rw();
	ck_assert_uint_eq(sftpt_open_file(1, "z", SSH_FXF_READ, h), 0);
	sftpt_req_read(2, h, 4096, 100);
	sftpt_get_reply(&r, 2);
	ck_assert_uint_eq(r.type, SSH_FXP_DATA);
	ck_assert_int_eq(rd_string(&r.rd, &d, &n, SFTP_MAX_PACKET), 0);
	ck_assert_uint_eq(n, 100);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_uint_eq(d[i], 0);
	ck_assert_uint_eq(sftpt_open_file(3, "/dev/null", SSH_FXF_WRITE |
					  SSH_FXF_TRUNC, h), 0);
	sftpt_req_write(4, h, 0, "gone", 4);
	ck_assert_uint_eq(sftpt_status_of(4), SSH_FX_OK);
	sftpt_req_handle(SSH_FXP_CLOSE, 5, h);
	ck_assert_uint_eq(sftpt_status_of(5), SSH_FX_OK);
	/* Truncating a device means nothing: refused, as truncate(2) does. */
	ck_assert_uint_ne(setstat_size(6, "/dev/null", 0), SSH_FX_OK);
}
END_TEST

static Suite *sftp_devices_suite(void)
{
	Suite *s = suite_create("sftp_devices");
	TCase *tc = sftpt_tcase("devices");

	tcase_add_test(tc, fifo_never_opened);
	tcase_add_test(tc, other_devices_never_opened);
	tcase_add_test(tc, dev_zero_and_null_through_a_link);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sftpt_run(sftp_devices_suite());
}
