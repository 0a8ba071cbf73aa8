/*
 * sftp confinement: no lookup or change reaches outside the root through
 * "..", symlinks (the fixture's or the client's) or magic links; REALPATH
 * answers in the client's view; -d sets the start directory; -R refuses
 * every change. The harness is in support_sftp.c.
 */
#include <check.h>
#include <stdio.h>
#include <sys/stat.h>

#include "support_sftp.h"

/* ---- confinement ---- */

START_TEST(confined_lookups)
{
	static const char *const escapes[] = {
		"../outside/secret", "/../outside/secret",
		"../../../../../../outside/secret", "abs", "rel", "chain1",
		"dirlink/secret", "updir/outside/secret",
		"sub/../../outside/secret", "/sub/../../../outside/secret",
	};
	uint8_t h[SFTP_HANDLE_LEN];
	uint32_t id = 1;

	sftpt_start_rw();
	for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
		sftpt_req_path(SSH_FXP_STAT, ++id, escapes[i]);
		ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_NO_SUCH_FILE);
		ck_assert_uint_eq(sftpt_open_file(++id, escapes[i],
						  SSH_FXF_READ, h),
				  SSH_FX_NO_SUCH_FILE);
	}
	/* "..": the root itself, as in a chroot. */
	sftpt_req_path(SSH_FXP_STAT, ++id, "../../hello.txt");
	{
		struct sftpt_reply r;

		sftpt_get_reply(&r, id);
		ck_assert_uint_eq(r.type, SSH_FXP_ATTRS);
	}
}
END_TEST

START_TEST(confined_changes)
{
	char p[600];
	struct stat sb;
	struct sftpt_pk pk;
	uint8_t h[SFTP_HANDLE_LEN];
	uint32_t id = 1;

	sftpt_start_rw();
	/* Through a symlinked directory to the outside. */
	sftpt_req_path(SSH_FXP_MKDIR, ++id, "dirlink/made");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_NO_SUCH_FILE);
	sftpt_req_path(SSH_FXP_REMOVE, ++id, "dirlink/secret");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_NO_SUCH_FILE);
	sftpt_req_two(SSH_FXP_RENAME, ++id, "hello.txt", "dirlink/stolen");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_NO_SUCH_FILE);
	sftpt_req_two(SSH_FXP_RENAME, ++id, "../outside/secret", "got");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_NO_SUCH_FILE);
	sftpt_req_ext(++id, "hardlink@openssh.com", "abs", "hl");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_OK); /* links the link */
	sftpt_req_path(SSH_FXP_LSTAT, ++id, "hl");
	ck_assert_uint_eq(sftpt_next_reply(&(struct sftpt_reply){ 0 }), 1);
	/* chmod through symlinks: must not reach the outside file. */
	sftpt_pk_begin(&pk, SSH_FXP_SETSTAT, ++id);
	wr_cstring(&pk.w, "abs");
	wr_be32(&pk.w, SSH_FILEXFER_ATTR_PERMISSIONS);
	wr_be32(&pk.w, 0777);
	sftpt_pk_send(&pk);
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_NO_SUCH_FILE);
	/* A client-made symlink to the host's outside directory. */
	sftpt_req_two(SSH_FXP_SYMLINK, ++id, sftpt.outside, "mine");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_OK);
	ck_assert_uint_eq(sftpt_open_file(++id, "mine/secret", SSH_FXF_READ, h),
			  SSH_FX_NO_SUCH_FILE);
	ck_assert_uint_eq(sftpt_open_file(++id, "mine/created",
				    SSH_FXF_WRITE | SSH_FXF_CREAT, h),
			  SSH_FX_NO_SUCH_FILE);
	/* Creating through a dangling final symlink lands inside. */
	sftpt_req_two(SSH_FXP_SYMLINK, ++id, "/made-inside", "dangle");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_OK);
	ck_assert_uint_eq(sftpt_open_file(++id, "dangle",
				    SSH_FXF_WRITE | SSH_FXF_CREAT, h), 0);
	ck_assert(sftpt_exists_in(sftpt.root, "made-inside"));
	/* Nothing outside changed. */
	sftpt_path_in(p, sizeof p, sftpt.outside, "secret");
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0644);
	ck_assert(!sftpt_exists_in(sftpt.outside, "made"));
	ck_assert(!sftpt_exists_in(sftpt.outside, "stolen"));
	ck_assert(!sftpt_exists_in(sftpt.outside, "created"));
	ck_assert(!sftpt_exists_in(sftpt.tmp, "made-inside"));
	/* Final components with no entry of their own. */
	sftpt_req_path(SSH_FXP_RMDIR, ++id, "sub/..");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_FAILURE);
	sftpt_req_path(SSH_FXP_REMOVE, ++id, "/");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_FAILURE);
	sftpt_req_path(SSH_FXP_MKDIR, ++id, ".");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_FAILURE);
	/* REMOVE of a symlink removes the link, not its target. */
	sftpt_req_path(SSH_FXP_REMOVE, ++id, "dirlink");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_OK);
	ck_assert(sftpt_exists_in(sftpt.outside, "secret"));
}
END_TEST

START_TEST(realpath_in_client_view)
{
	static const char *const cases[][2] = {
		{ ".", "/" },
		{ "", "/" },
		{ "..", "/" },
		{ "/../..", "/" },
		{ "sub/../sub/./", "/sub" },
		{ "updir", "/" },
		{ "updir/sub", "/sub" },
		{ "missing", "/missing" },
		{ "sub//inner.txt", "/sub/inner.txt" },
	};
	char out[SFTP_PATH_MAX], want[600];
	uint32_t id = 1;

	sftpt_start_rw();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sftpt_req_path(SSH_FXP_REALPATH, ++id, cases[i][0]);
		ck_assert_uint_eq(sftpt_name_of(id, out, sizeof out), 0);
		ck_assert_str_eq(out, cases[i][1]);
	}
	/* An absolute link target is a path inside the root: missing. */
	sftpt_req_path(SSH_FXP_REALPATH, ++id, "abs");
	ck_assert_uint_eq(sftpt_name_of(id, out, sizeof out),
			  SSH_FX_NO_SUCH_FILE);
	sftpt_req_path(SSH_FXP_REALPATH, ++id, "chain1");
	ck_assert_uint_eq(sftpt_name_of(id, out, sizeof out),
			  SSH_FX_NO_SUCH_FILE);
	snprintf(want, sizeof want, "%s", "/sub/inner.txt");
	sftpt_req_path(SSH_FXP_REALPATH, ++id, "updir/./sub/../sub/inner.txt");
	ck_assert_uint_eq(sftpt_name_of(id, out, sizeof out), 0);
	ck_assert_str_eq(out, want);
	sftpt_req_path(SSH_FXP_REALPATH, ++id, "missing/deeper");
	ck_assert_uint_eq(sftpt_name_of(id, out, sizeof out),
			  SSH_FX_NO_SUCH_FILE);
	sftpt_req_path(SSH_FXP_READLINK, ++id, "rel");
	ck_assert_uint_eq(sftpt_name_of(id, out, sizeof out), 0);
	ck_assert_str_eq(out, "../outside/secret");
}
END_TEST

START_TEST(start_directory)
{
	char out[SFTP_PATH_MAX];

	sftpt_start_init("-d", "/sub", sftpt.root);
	sftpt_req_path(SSH_FXP_REALPATH, 2, ".");
	ck_assert_uint_eq(sftpt_name_of(2, out, sizeof out), 0);
	ck_assert_str_eq(out, "/sub");
	sftpt_req_path(SSH_FXP_STAT, 3, "inner.txt");
	ck_assert_uint_eq(sftpt_next_reply(&(struct sftpt_reply){ 0 }), 1);
	sftpt_req_ext(4, "expand-path@openssh.com", "~/inner.txt", NULL);
	ck_assert_uint_eq(sftpt_name_of(4, out, sizeof out), 0);
	ck_assert_str_eq(out, "/sub/inner.txt");
}
END_TEST

/* Magic links: with the host's / as root, /proc/self/root must not be
 * followed (RESOLVE_NO_MAGICLINKS). */
START_TEST(magic_links_refused)
{
	struct sftpt_reply r;

	sftpt_start_init("-R", "/", NULL);
	sftpt_req_path(SSH_FXP_STAT, 2, "/etc");
	sftpt_get_reply(&r, 2);
	ck_assert_uint_eq(r.type, SSH_FXP_ATTRS);
	sftpt_req_path(SSH_FXP_STAT, 3, "/proc/self/root/etc");
	ck_assert_uint_eq(sftpt_status_of(3), SSH_FX_NO_SUCH_FILE);
	sftpt_req_path(SSH_FXP_STAT, 4, "/proc/self/cwd");
	ck_assert_uint_eq(sftpt_status_of(4), SSH_FX_NO_SUCH_FILE);
	/* Their text (a host path) is not shown either. */
	sftpt_req_path(SSH_FXP_READLINK, 5, "/proc/self/cwd");
	ck_assert_uint_eq(sftpt_status_of(5), SSH_FX_NO_SUCH_FILE);
	sftpt_req_path(SSH_FXP_REALPATH, 6, "/proc/self/cwd/x");
	ck_assert_uint_eq(sftpt_status_of(6), SSH_FX_NO_SUCH_FILE);
}
END_TEST

/* ---- read-only ---- */

START_TEST(readonly_refuses_changes)
{
	static const uint32_t wflags[] = {
		SSH_FXF_WRITE, SSH_FXF_READ | SSH_FXF_CREAT,
		SSH_FXF_READ | SSH_FXF_TRUNC, SSH_FXF_READ | SSH_FXF_APPEND
	};
	uint8_t h[SFTP_HANDLE_LEN];
	struct sftpt_pk p;
	uint32_t id = 1;

	sftpt_start_init("-R", sftpt.root, NULL);
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(sftpt_open_file(++id, "hello.txt",
						  wflags[i], h),
				  SSH_FX_PERMISSION_DENIED);
	ck_assert_uint_eq(sftpt_open_file(++id, "hello.txt", SSH_FXF_READ, h),
			  0);
	sftpt_req_write(++id, h, 0, "x", 1);
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_pk_begin(&p, SSH_FXP_FSETSTAT, ++id);
	wr_string(&p.w, h, sizeof h);
	wr_be32(&p.w, SSH_FILEXFER_ATTR_PERMISSIONS);
	wr_be32(&p.w, 0600);
	sftpt_pk_send(&p);
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_path(SSH_FXP_SETSTAT, ++id, "hello.txt");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_path(SSH_FXP_REMOVE, ++id, "hello.txt");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_path(SSH_FXP_MKDIR, ++id, "newdir");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_path(SSH_FXP_RMDIR, ++id, "sub");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_two(SSH_FXP_RENAME, ++id, "hello.txt", "x");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_two(SSH_FXP_SYMLINK, ++id, "hello.txt", "x");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_ext(++id, "posix-rename@openssh.com", "hello.txt", "x");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_ext(++id, "hardlink@openssh.com", "hello.txt", "x");
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_ext(++id, "lsetstat@openssh.com", "hello.txt", NULL);
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_ext(++id, "fsync@openssh.com", NULL, NULL);
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	sftpt_req_ext(++id, "copy-data", NULL, NULL);
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_PERMISSION_DENIED);
	/* Reading still works, and nothing changed. */
	sftpt_req_read(++id, h, 0, 5);
	ck_assert_uint_eq(sftpt_next_reply(&(struct sftpt_reply){ 0 }), 1);
	ck_assert(sftpt_exists_in(sftpt.root, "hello.txt"));
	ck_assert(!sftpt_exists_in(sftpt.root, "x"));
	ck_assert(!sftpt_exists_in(sftpt.root, "newdir"));
	ck_assert(sftpt_exists_in(sftpt.root, "sub"));
}
END_TEST

static Suite *sftp_confine_suite(void)
{
	Suite *s = suite_create("sftp_confine");
	TCase *tc;

	tc = sftpt_tcase("confinement");
	tcase_add_test(tc, confined_lookups);
	tcase_add_test(tc, confined_changes);
	tcase_add_test(tc, realpath_in_client_view);
	tcase_add_test(tc, start_directory);
	tcase_add_test(tc, magic_links_refused);
	tcase_add_test(tc, readonly_refuses_changes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sftpt_run(sftp_confine_suite());
}
