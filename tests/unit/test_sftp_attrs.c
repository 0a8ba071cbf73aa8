/*
 * What attribute changes a client may make (handler/sftp/sftp_policy.c,
 * sftp_setstat.c): modes are masked to 01777 (setuid and setgid only with
 * sftp-allow-setid yes) in OPEN, MKDIR, SETSTAT, FSETSTAT and lsetstat;
 * an owner change is PERMISSION_DENIED, with nothing else applied, unless
 * sftp-allow-chown yes (setting the owner a file already has is allowed).
 */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support_sftp.h"

static mode_t mode_of(const char *rel)
{
	char path[600];
	struct stat sb;

	sftpt_path_in(path, sizeof path, sftpt.root, rel);
	ck_assert_int_eq(lstat(path, &sb), 0);
	return sb.st_mode & 07777;
}

static uid_t owner_of(const char *rel)
{
	char path[600];
	struct stat sb;

	sftpt_path_in(path, sizeof path, sftpt.root, rel);
	ck_assert_int_eq(lstat(path, &sb), 0);
	return sb.st_uid;
}

/* OPEN with CREAT and a mode. */
static uint32_t create_with(uint32_t id, const char *path, uint32_t perm)
{
	struct sftpt_pk p;
	struct sftpt_reply r;

	sftpt_pk_begin(&p, SSH_FXP_OPEN, id);
	wr_cstring(&p.w, path);
	wr_be32(&p.w, SSH_FXF_WRITE | SSH_FXF_CREAT);
	wr_be32(&p.w, SSH_FILEXFER_ATTR_PERMISSIONS);
	wr_be32(&p.w, perm);
	sftpt_pk_send(&p);
	sftpt_get_reply(&r, id);
	return r.type == SSH_FXP_HANDLE ? 0 : SSH_FX_FAILURE;
}

/* SETSTAT, FSETSTAT (handle h) or lsetstat with a mode and maybe an
 * owner; the status. */
static uint32_t set_attrs(uint8_t type, uint32_t id, const char *path,
			  const uint8_t *h, uint32_t perm, int chown,
			  uint32_t uid, uint32_t gid)
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, type == 0 ? SSH_FXP_EXTENDED : type, id);
	if (type == 0)
		wr_cstring(&p.w, "lsetstat@openssh.com");
	if (type == SSH_FXP_FSETSTAT)
		wr_string(&p.w, h, SFTP_HANDLE_LEN);
	else
		wr_cstring(&p.w, path);
	wr_be32(&p.w, SSH_FILEXFER_ATTR_PERMISSIONS |
			      (chown ? SSH_FILEXFER_ATTR_UIDGID : 0));
	if (chown) {
		wr_be32(&p.w, uid);
		wr_be32(&p.w, gid);
	}
	wr_be32(&p.w, perm);
	sftpt_pk_send(&p);
	return sftpt_status_of(id);
}

START_TEST(setid_bits_masked)
{
	uint8_t h[SFTP_HANDLE_LEN];
	struct sftpt_pk p;

	umask(0);
	sftpt_start_rw();
	ck_assert_uint_eq(create_with(1, "suid", 06755), 0);
	ck_assert_uint_eq(mode_of("suid"), 0755);
	sftpt_pk_begin(&p, SSH_FXP_MKDIR, 2);
	wr_cstring(&p.w, "dir");
	wr_be32(&p.w, SSH_FILEXFER_ATTR_PERMISSIONS);
	wr_be32(&p.w, 07777);
	sftpt_pk_send(&p);
	ck_assert_uint_eq(sftpt_status_of(2), SSH_FX_OK);
	ck_assert_uint_eq(mode_of("dir"), 01777); /* sticky is kept */
	ck_assert_uint_eq(set_attrs(SSH_FXP_SETSTAT, 3, "hello.txt", NULL,
				    04755, 0, 0, 0), SSH_FX_OK);
	ck_assert_uint_eq(mode_of("hello.txt"), 0755);
	ck_assert_uint_eq(sftpt_open_file(4, "hello.txt", SSH_FXF_WRITE, h),
			  0);
	ck_assert_uint_eq(set_attrs(SSH_FXP_FSETSTAT, 5, NULL, h, 02711, 0, 0,
				    0), SSH_FX_OK);
	ck_assert_uint_eq(mode_of("hello.txt"), 0711);
	ck_assert_uint_eq(set_attrs(0, 6, "sub/inner.txt", NULL, 06644, 0, 0,
				    0), SSH_FX_OK);
	ck_assert_uint_eq(mode_of("sub/inner.txt"), 0644);
}
END_TEST

START_TEST(setid_bits_allowed_by_conf)
{
	uint8_t h[SFTP_HANDLE_LEN];

	umask(0);
	sftpt.conf.allow_setid = 1;
	sftpt_start_rw();
	ck_assert_uint_eq(create_with(1, "suid", 06755), 0);
	ck_assert_uint_eq(mode_of("suid"), 06755);
	ck_assert_uint_eq(set_attrs(SSH_FXP_SETSTAT, 2, "hello.txt", NULL,
				    04755, 0, 0, 0), SSH_FX_OK);
	ck_assert_uint_eq(mode_of("hello.txt"), 04755);
	ck_assert_uint_eq(sftpt_open_file(3, "hello.txt", SSH_FXF_WRITE, h),
			  0);
	ck_assert_uint_eq(set_attrs(SSH_FXP_FSETSTAT, 4, NULL, h, 02711, 0, 0,
				    0), SSH_FX_OK);
	ck_assert_uint_eq(mode_of("hello.txt"), 02711);
}
END_TEST

START_TEST(owner_change_refused)
{
	uint8_t h[SFTP_HANDLE_LEN];
	uint32_t me = (uint32_t)getuid(), gr = (uint32_t)getgid();

	sftpt_start_rw();
	/* Refused before anything is applied: the mode stays. */
	ck_assert_uint_eq(set_attrs(SSH_FXP_SETSTAT, 1, "hello.txt", NULL,
				    0600, 1, me + 4242, gr),
			  SSH_FX_PERMISSION_DENIED);
	ck_assert_uint_eq(mode_of("hello.txt"), 0644);
	ck_assert_uint_eq(set_attrs(SSH_FXP_SETSTAT, 2, "hello.txt", NULL,
				    0600, 1, me, gr + 4242),
			  SSH_FX_PERMISSION_DENIED);
	ck_assert_uint_eq(sftpt_open_file(3, "hello.txt", SSH_FXF_WRITE, h),
			  0);
	ck_assert_uint_eq(set_attrs(SSH_FXP_FSETSTAT, 4, NULL, h, 0600, 1,
				    me + 4242, gr), SSH_FX_PERMISSION_DENIED);
	ck_assert_uint_eq(set_attrs(0, 5, "hello.txt", NULL, 0600, 1,
				    me + 4242, gr), SSH_FX_PERMISSION_DENIED);
	ck_assert_uint_eq(mode_of("hello.txt"), 0644);
	ck_assert_uint_eq(owner_of("hello.txt"), me);
	/* The owner it already has: no change, allowed. */
	ck_assert_uint_eq(set_attrs(SSH_FXP_SETSTAT, 6, "hello.txt", NULL,
				    0600, 1, me, gr), SSH_FX_OK);
	ck_assert_uint_eq(mode_of("hello.txt"), 0600);
}
END_TEST

START_TEST(owner_change_allowed_by_conf)
{
	uint32_t me = (uint32_t)getuid(), gr = (uint32_t)getgid();
	uint32_t st;

	sftpt.conf.allow_chown = 1;
	sftpt_start_rw();
	st = set_attrs(SSH_FXP_SETSTAT, 1, "hello.txt", NULL, 0644, 1,
		       me + 4242, gr);
	/* As root the kernel allows it; as anyone else the kernel refuses
	 * (EPERM), but the policy no longer does. */
	if (me == 0) {
		ck_assert_uint_eq(st, SSH_FX_OK);
		ck_assert_uint_eq(owner_of("hello.txt"), me + 4242);
	} else {
		ck_assert_uint_eq(st, SSH_FX_PERMISSION_DENIED);
	}
}
END_TEST

static Suite *sftp_attrs_suite(void)
{
	Suite *s = suite_create("sftp_attrs");
	TCase *tc = sftpt_tcase("attrs");

	tcase_add_test(tc, setid_bits_masked);
	tcase_add_test(tc, setid_bits_allowed_by_conf);
	tcase_add_test(tc, owner_change_refused);
	tcase_add_test(tc, owner_change_allowed_by_conf);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sftpt_run(sftp_attrs_suite());
}
