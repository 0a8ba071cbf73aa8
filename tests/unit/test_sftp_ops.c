/*
 * sftp operations beyond plain reads and writes: the extensions,
 * SETSTAT/FSETSTAT, SYMLINK's argument order, copy-data, the -u and -S
 * options, OPEN of non-regular files, and roots and permissions from the
 * configuration. The harness is in support_sftp.c.
 */
#include <check.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "support_sftp.h"

/* copy-data: read handle src from off for len bytes (0: to its end) into
 * handle dst at doff. */
static void copy_data(uint32_t id, const uint8_t *src, uint64_t off,
		      uint64_t len, const uint8_t *dst, uint64_t doff)
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, SSH_FXP_EXTENDED, id);
	wr_cstring(&p.w, "copy-data");
	wr_string(&p.w, src, SFTP_HANDLE_LEN);
	wr_be64(&p.w, off);
	wr_be64(&p.w, len);
	wr_string(&p.w, dst, SFTP_HANDLE_LEN);
	wr_be64(&p.w, doff);
	sftpt_pk_send(&p);
}

START_TEST(extensions_work)
{
	uint8_t a[SFTP_HANDLE_LEN], b[SFTP_HANDLE_LEN];
	struct sftpt_reply r;
	struct sftpt_pk p;
	char out[SFTP_PATH_MAX];
	const uint8_t *d;
	uint32_t n;

	sftpt_start_rw();
	sftpt_req_ext(2, "posix-rename@openssh.com", "hello.txt", "hi.txt");
	ck_assert_uint_eq(sftpt_status_of(2), SSH_FX_OK);
	sftpt_req_two(SSH_FXP_RENAME, 3, "sub/inner.txt", "hi.txt");
	ck_assert_uint_eq(sftpt_status_of(3), SSH_FX_FAILURE); /* exists */
	sftpt_req_ext(4, "statvfs@openssh.com", "/", NULL);
	sftpt_get_reply(&r, 4);
	ck_assert_uint_eq(r.type, SSH_FXP_EXTENDED_REPLY);
	ck_assert_uint_eq(r.len, 5 + 11 * 8);
	ck_assert_uint_eq(sftpt_open_file(5, "hi.txt", SSH_FXF_READ, a), 0);
	ck_assert_uint_eq(sftpt_open_file(6, "copy.txt",
				    SSH_FXF_WRITE | SSH_FXF_CREAT, b), 0);
	copy_data(7, a, 0, 0, b, 0);
	ck_assert_uint_eq(sftpt_status_of(7), SSH_FX_OK);
	sftpt_pk_begin(&p, SSH_FXP_EXTENDED, 8);
	wr_cstring(&p.w, "fsync@openssh.com");
	wr_string(&p.w, b, sizeof b);
	sftpt_pk_send(&p);
	ck_assert_uint_eq(sftpt_status_of(8), SSH_FX_OK);
	sftpt_pk_begin(&p, SSH_FXP_EXTENDED, 9);
	wr_cstring(&p.w, "fstatvfs@openssh.com");
	wr_string(&p.w, b, sizeof b);
	sftpt_pk_send(&p);
	sftpt_get_reply(&r, 9);
	ck_assert_uint_eq(r.type, SSH_FXP_EXTENDED_REPLY);
	sftpt_req_handle(SSH_FXP_CLOSE, 10, b);
	ck_assert_uint_eq(sftpt_status_of(10), SSH_FX_OK);
	ck_assert_uint_eq(sftpt_open_file(11, "copy.txt", SSH_FXF_READ, b), 0);
	sftpt_req_read(12, b, 0, 100);
	sftpt_get_reply(&r, 12);
	ck_assert_int_eq(rd_string(&r.rd, &d, &n, 1000), 0);
	ck_assert_uint_eq(n, 13);
	ck_assert_int_eq(memcmp(d, "hello, world\n", 13), 0);
	sftpt_req_ext(13, "home-directory", "anyone", NULL);
	ck_assert_uint_eq(sftpt_name_of(13, out, sizeof out), 0);
	ck_assert_str_eq(out, "/");
	sftpt_pk_begin(&p, SSH_FXP_EXTENDED, 14);
	wr_cstring(&p.w, "lsetstat@openssh.com");
	wr_cstring(&p.w, "rel");
	wr_be32(&p.w, SSH_FILEXFER_ATTR_ACMODTIME);
	wr_be32(&p.w, 1000);
	wr_be32(&p.w, 2000);
	sftpt_pk_send(&p);
	ck_assert_uint_eq(sftpt_status_of(14), SSH_FX_OK);
	{
		char path[600];
		struct stat sb;

		sftpt_path_in(path, sizeof path, sftpt.root, "rel");
		ck_assert_int_eq(lstat(path, &sb), 0);
		ck_assert_int_eq((int)sb.st_mtime, 2000);
	}
}
END_TEST

START_TEST(setstat_and_fsetstat)
{
	uint8_t h[SFTP_HANDLE_LEN];
	char path[600];
	struct stat sb;
	struct sftpt_pk p;

	sftpt_start_rw();
	sftpt_pk_begin(&p, SSH_FXP_SETSTAT, 2);
	wr_cstring(&p.w, "hello.txt");
	wr_be32(&p.w, SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_PERMISSIONS |
			      SSH_FILEXFER_ATTR_ACMODTIME);
	wr_be64(&p.w, 5);
	wr_be32(&p.w, 0640);
	wr_be32(&p.w, 1111);
	wr_be32(&p.w, 2222);
	sftpt_pk_send(&p);
	ck_assert_uint_eq(sftpt_status_of(2), SSH_FX_OK);
	sftpt_path_in(path, sizeof path, sftpt.root, "hello.txt");
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq((int)sb.st_size, 5);
	ck_assert_uint_eq(sb.st_mode & 07777, 0640);
	ck_assert_int_eq((int)sb.st_mtime, 2222);
	ck_assert_uint_eq(sftpt_open_file(3, "hello.txt", SSH_FXF_WRITE, h), 0);
	sftpt_pk_begin(&p, SSH_FXP_FSETSTAT, 4);
	wr_string(&p.w, h, sizeof h);
	wr_be32(&p.w, SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_PERMISSIONS);
	wr_be64(&p.w, 2);
	wr_be32(&p.w, 0600);
	sftpt_pk_send(&p);
	ck_assert_uint_eq(sftpt_status_of(4), SSH_FX_OK);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq((int)sb.st_size, 2);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	/* Offsets past what off_t holds are refused, not wrapped. */
	sftpt_req_write(5, h, UINT64_MAX - 1, "x", 1);
	ck_assert_uint_eq(sftpt_status_of(5), SSH_FX_BAD_MESSAGE);
	sftpt_req_read(6, h, UINT64_MAX, 1);
	ck_assert_uint_eq(sftpt_status_of(6), SSH_FX_BAD_MESSAGE);
}
END_TEST

START_TEST(symlink_argument_order)
{
	char out[SFTP_PATH_MAX], path[600];
	ssize_t n;

	sftpt_start_rw();
	/* OpenSSH order: target first, then the link to create. */
	sftpt_req_two(SSH_FXP_SYMLINK, 2, "hello.txt", "sub/mylink");
	ck_assert_uint_eq(sftpt_status_of(2), SSH_FX_OK);
	sftpt_path_in(path, sizeof path, sftpt.root, "sub/mylink");
	n = readlink(path, out, sizeof out - 1);
	ck_assert_int_eq(n, 9);
	out[n] = 0;
	ck_assert_str_eq(out, "hello.txt");
	sftpt_req_path(SSH_FXP_READLINK, 3, "hello.txt");
	ck_assert_uint_eq(sftpt_status_of(3), SSH_FX_BAD_MESSAGE); /* EINVAL */
	sftpt_req_two(SSH_FXP_SYMLINK, 4, "x", "sub/mylink");
	ck_assert_uint_eq(sftpt_status_of(4), SSH_FX_FAILURE); /* EEXIST */
}
END_TEST

START_TEST(copy_data_overlap_refused)
{
	uint8_t a[SFTP_HANDLE_LEN];

	sftpt_start_rw();
	ck_assert_uint_eq(sftpt_open_file(2, "hello.txt",
				    SSH_FXF_READ | SSH_FXF_WRITE, a), 0);
	copy_data(3, a, 0, 10, a, 5);
	ck_assert_uint_eq(sftpt_status_of(3), SSH_FX_FAILURE);
	copy_data(4, a, 0, 5, a, 100);
	ck_assert_uint_eq(sftpt_status_of(4), SSH_FX_OK);
}
END_TEST

START_TEST(umask_and_sync_options)
{
	uint8_t h[SFTP_HANDLE_LEN];
	char path[600];
	struct stat sb;

	sftpt_start_init("-Su", "077", sftpt.root);
	ck_assert_uint_eq(sftpt_open_file(2, "private",
				    SSH_FXF_WRITE | SSH_FXF_CREAT, h), 0);
	sftpt_req_write(3, h, 0, "abc", 3);
	ck_assert_uint_eq(sftpt_status_of(3), SSH_FX_OK);
	sftpt_req_handle(SSH_FXP_CLOSE, 4, h);
	ck_assert_uint_eq(sftpt_status_of(4), SSH_FX_OK);
	sftpt_path_in(path, sizeof path, sftpt.root, "private");
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	sftpt_req_path(SSH_FXP_MKDIR, 5, "pdir");
	ck_assert_uint_eq(sftpt_status_of(5), SSH_FX_OK);
	sftpt_path_in(path, sizeof path, sftpt.root, "pdir");
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);
}
END_TEST

START_TEST(open_refuses_non_regular)
{
	uint8_t h[SFTP_HANDLE_LEN];
	char path[600];

	sftpt_start_rw();
	sftpt_path_in(path, sizeof path, sftpt.root, "fifo");
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	ck_assert_uint_eq(sftpt_open_file(2, "fifo", SSH_FXF_READ, h),
			  SSH_FX_FAILURE);
	ck_assert_uint_eq(sftpt_open_file(3, "sub", SSH_FXF_READ, h),
			  SSH_FX_FAILURE);
	ck_assert_uint_eq(sftpt_open_file(4, "missing", SSH_FXF_READ, h),
			  SSH_FX_NO_SUCH_FILE);
	ck_assert_uint_eq(sftpt_open_file(5, "hello.txt",
				    SSH_FXF_WRITE | SSH_FXF_CREAT |
					    SSH_FXF_EXCL,
				    h),
			  SSH_FX_FAILURE);
}
END_TEST

START_TEST(conf_roots_and_permissions)
{
	static char *ro[] = { "sftp:ro" }, *none[] = { "admin" };
	static struct conf_user u;
	uint8_t h[SFTP_HANDLE_LEN];

	sftpt.conf.root = sftpt.root;
	sftpt.conf.rw = 1;
	memset(&u, 0, sizeof u);
	strcpy(u.name, "alice");
	u.perms = none;
	u.nperms = 1;
	sftpt.s.user = &u;
	ck_assert_int_eq(sftpt_start(NULL, NULL, NULL), EXIT_PERM);
	u.perms = ro;
	{
		char dir[600];

		sftpt_path_in(dir, sizeof dir, sftpt.root, "alice");
		ck_assert_int_eq(mkdir(dir, 0755), 0);
	}
	sftpt_start_init("-d", "/%u", NULL);
	ck_assert_uint_eq(sftpt_open_file(2, "x",
					  SSH_FXF_WRITE | SSH_FXF_CREAT, h),
			  SSH_FX_PERMISSION_DENIED);
	ck_assert_uint_eq(sftpt_open_file(3, "/hello.txt", SSH_FXF_READ, h), 0);
	{
		char out[SFTP_PATH_MAX];

		sftpt_req_path(SSH_FXP_REALPATH, 4, ".");
		ck_assert_uint_eq(sftpt_name_of(4, out, sizeof out), 0);
		ck_assert_str_eq(out, "/alice");
	}
}
END_TEST

/* A user's own root (user-sftp-root) wins over sftp-root. */
START_TEST(conf_user_root)
{
	static char *ro[] = { "sftp:ro" };
	static struct conf_user u;
	struct sftp_user_root ur;
	uint8_t h[SFTP_HANDLE_LEN];

	memset(&u, 0, sizeof u);
	strcpy(u.name, "alice");
	u.perms = ro;
	u.nperms = 1;
	memset(&ur, 0, sizeof ur);
	strcpy(ur.user, "alice");
	ur.root = sftpt.root;
	sftpt.conf.root = sftpt.outside;
	sftpt.conf.rw = 1;
	sftpt.conf.user_roots = &ur;
	sftpt.conf.nuser_roots = 1;
	sftpt.s.user = &u;
	sftpt_start_init(NULL, NULL, NULL);
	ck_assert_uint_eq(sftpt_open_file(2, "/hello.txt", SSH_FXF_READ, h), 0);
	ck_assert_uint_eq(sftpt_open_file(3, "/secret", SSH_FXF_READ, h),
			  SSH_FX_NO_SUCH_FILE);
	ck_assert_uint_eq(sftpt_open_file(4, "x",
					  SSH_FXF_WRITE | SSH_FXF_CREAT, h),
			  SSH_FX_PERMISSION_DENIED);
}
END_TEST

static Suite *sftp_ops_suite(void)
{
	Suite *s = suite_create("sftp_ops");
	TCase *tc;

	tc = sftpt_tcase("operations");
	tcase_add_test(tc, extensions_work);
	tcase_add_test(tc, setstat_and_fsetstat);
	tcase_add_test(tc, symlink_argument_order);
	tcase_add_test(tc, copy_data_overlap_refused);
	tcase_add_test(tc, umask_and_sync_options);
	tcase_add_test(tc, open_refuses_non_regular);
	tcase_add_test(tc, conf_roots_and_permissions);
	tcase_add_test(tc, conf_user_root);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sftpt_run(sftp_ops_suite());
}
