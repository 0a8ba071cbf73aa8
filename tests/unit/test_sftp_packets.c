/*
 * The sftp module's packets: attribute encoding, the VERSION and limits
 * replies, the longname format, and what it does with malformed, unknown
 * or early requests and bad start-up arguments. The harness is in
 * support_sftp.c.
 */
#include <check.h>
#include <string.h>
#include <sys/stat.h>

#include "bytes.h"
#include "exitcode.h"
#include "support_sftp.h"

/* ---- packets and attributes ---- */

START_TEST(attrs_round_trip)
{
	struct sftp_attrs a = { 0 }, b;
	uint8_t buf[128];
	struct wr w;
	struct rd r;

	a.flags = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID |
		  SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_ACMODTIME;
	a.size = 0x123456789abcULL;
	a.uid = 1000;
	a.gid = 100;
	a.perm = 0100644;
	a.atime = 1700000000;
	a.mtime = 1700000001;
	wr_init(&w, buf, sizeof buf);
	sftp_attrs_put(&w, &a);
	ck_assert_uint_eq(w.len, 4 + 8 + 8 + 4 + 8);
	rd_init(&r, buf, w.len);
	ck_assert_int_eq(sftp_attrs_get(&r, &b), 0);
	ck_assert(rd_end(&r));
	ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
	for (size_t cut = 0; cut < w.len; cut++) {
		rd_init(&r, buf, cut);
		ck_assert_int_eq(sftp_attrs_get(&r, &b), -1);
	}
}
END_TEST

START_TEST(attrs_extended_pairs)
{
	uint8_t buf[128];
	struct sftp_attrs b;
	struct wr w;
	struct rd r;

	wr_init(&w, buf, sizeof buf);
	wr_be32(&w, SSH_FILEXFER_ATTR_EXTENDED | SSH_FILEXFER_ATTR_SIZE);
	wr_be64(&w, 7);
	wr_be32(&w, 2);
	wr_cstring(&w, "a@x");
	wr_cstring(&w, "1");
	wr_cstring(&w, "b@x");
	wr_cstring(&w, "");
	rd_init(&r, buf, w.len);
	ck_assert_int_eq(sftp_attrs_get(&r, &b), 0);
	ck_assert(rd_end(&r));
	ck_assert_uint_eq(b.size, 7);
	/* A count larger than the pairs present fails without reading on. */
	be32_put(buf + 12, 1000000);
	rd_init(&r, buf, w.len);
	ck_assert_int_eq(sftp_attrs_get(&r, &b), -1);
}
END_TEST

START_TEST(version_lists_extensions)
{
	static const char *const names[] = {
		"posix-rename@openssh.com", "statvfs@openssh.com",
		"fstatvfs@openssh.com", "hardlink@openssh.com",
		"fsync@openssh.com", "lsetstat@openssh.com",
		"limits@openssh.com", "expand-path@openssh.com",
		"copy-data", "home-directory"
	};
	struct sftpt_pk p;
	struct sftpt_reply r;
	uint32_t v;
	char name[64], ver[8];

	ck_assert_int_eq(sftpt_start(sftpt.root, NULL, NULL), 0);
	sftpt_pk_begin(&p, SSH_FXP_INIT, 0);
	wr_be32(&p.w, 3);
	sftpt_pk_send(&p);
	ck_assert(sftpt_next_reply(&r));
	ck_assert_uint_eq(r.type, SSH_FXP_VERSION);
	ck_assert_int_eq(rd_be32(&r.rd, &v), 0);
	ck_assert_uint_eq(v, 3);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		ck_assert_int_eq(rd_cstring(&r.rd, name, sizeof name), 0);
		ck_assert_int_eq(rd_cstring(&r.rd, ver, sizeof ver), 0);
		ck_assert_str_eq(name, names[i]);
	}
	ck_assert(rd_end(&r.rd));
}
END_TEST

START_TEST(limits_extension)
{
	struct sftpt_reply r;
	uint64_t v[4];

	sftpt_start_rw();
	sftpt_req_ext(9, "limits@openssh.com", NULL, NULL);
	sftpt_get_reply(&r, 9);
	ck_assert_uint_eq(r.type, SSH_FXP_EXTENDED_REPLY);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(rd_be64(&r.rd, &v[i]), 0);
	ck_assert_uint_eq(v[0], 262144);
	ck_assert_uint_eq(v[1], 261120);
	ck_assert_uint_eq(v[2], 261120);
	ck_assert_uint_eq(v[3], 8);
}
END_TEST

START_TEST(longname_format)
{
	struct sftp_idcache c;
	struct stat sb;
	char out[256];

	memset(&c, 0, sizeof c);
	memset(&sb, 0, sizeof sb);
	sb.st_mode = S_IFREG | 0644;
	sb.st_nlink = 1;
	sb.st_uid = 54321;
	sb.st_gid = 54321;
	sb.st_size = 6;
	sb.st_mtime = 0;
	sftp_longname(&c, out, sizeof out, "a.txt", &sb, 1000000000);
	ck_assert_str_eq(out, "-rw-r--r--    1 54321    54321           6 "
			      "Jan  1  1970 a.txt");
	sb.st_mode = S_IFDIR | 01777;
	sftp_longname(&c, out, sizeof out, "t", &sb, 1000000000);
	ck_assert_int_eq(strncmp(out, "drwxrwxrwt ", 11), 0);
}
END_TEST

/* ---- malformed input and start-up errors ---- */

/* Every request type with its arguments missing, cut or trailing. */
START_TEST(malformed_requests)
{
	static const uint8_t types[] = {
		SSH_FXP_OPEN, SSH_FXP_CLOSE, SSH_FXP_READ, SSH_FXP_WRITE,
		SSH_FXP_LSTAT, SSH_FXP_FSTAT, SSH_FXP_SETSTAT,
		SSH_FXP_FSETSTAT, SSH_FXP_OPENDIR, SSH_FXP_READDIR,
		SSH_FXP_REMOVE, SSH_FXP_MKDIR, SSH_FXP_RMDIR,
		SSH_FXP_REALPATH, SSH_FXP_STAT, SSH_FXP_RENAME,
		SSH_FXP_READLINK, SSH_FXP_SYMLINK, SSH_FXP_EXTENDED
	};
	struct sftpt_pk p;
	uint32_t id = 100;

	sftpt_start_rw();
	for (size_t i = 0; i < sizeof types; i++) {
		/* No arguments at all. */
		sftpt_pk_begin(&p, types[i], ++id);
		sftpt_pk_send(&p);
		ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_BAD_MESSAGE);
		/* A string length running past the packet. */
		sftpt_pk_begin(&p, types[i], ++id);
		wr_be32(&p.w, 1000);
		wr_cstring(&p.w, "x");
		sftpt_pk_send(&p);
		ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_BAD_MESSAGE);
		/* Trailing garbage after a plausible path/handle (an
		 * unknown extension name is OP_UNSUPPORTED first). */
		if (types[i] == SSH_FXP_EXTENDED)
			continue;
		sftpt_pk_begin(&p, types[i], ++id);
		wr_cstring(&p.w, "hello.txt");
		wr_cstring(&p.w, "hello.txt");
		wr_be64(&p.w, 0);
		wr_be64(&p.w, 0);
		wr_be64(&p.w, 0);
		wr_u8(&p.w, 1);
		sftpt_pk_send(&p);
		ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_BAD_MESSAGE);
	}
	/* A path holding a NUL byte. */
	sftpt_pk_begin(&p, SSH_FXP_STAT, ++id);
	wr_string(&p.w, "hello.txt\0/etc", 14);
	sftpt_pk_send(&p);
	ck_assert_uint_eq(sftpt_status_of(id), SSH_FX_BAD_MESSAGE);
	/* A packet too short to carry an id: answered with id 0. */
	{
		uint8_t raw[6] = { 0, 0, 0, 2, SSH_FXP_STAT, 1 };

		ck_assert_int_eq(buf_append(&sftpt.s.in, raw, sizeof raw), 0);
		ck_assert_int_eq(sftpt_run_input(), 0);
		ck_assert_uint_eq(sftpt_status_of(0), SSH_FX_BAD_MESSAGE);
	}
	ck_assert_uint_eq(buf_len(&sftpt.s.out), 0);
	ck_assert_uint_eq(buf_len(&sftpt.s.in), 0);
}
END_TEST

START_TEST(unknown_type_unsupported)
{
	struct sftpt_pk p;

	sftpt_start_rw();
	sftpt_pk_begin(&p, 99, 4242);
	wr_cstring(&p.w, "whatever");
	sftpt_pk_send(&p);
	ck_assert_uint_eq(sftpt_status_of(4242), SSH_FX_OP_UNSUPPORTED);
	sftpt_pk_begin(&p, SSH_FXP_VERSION, 4243);
	sftpt_pk_send(&p);
	ck_assert_uint_eq(sftpt_status_of(4243), SSH_FX_OP_UNSUPPORTED);
	sftpt_req_ext(4244, "no-such@example.com", "x", NULL);
	ck_assert_uint_eq(sftpt_status_of(4244), SSH_FX_OP_UNSUPPORTED);
}
END_TEST

START_TEST(oversized_packet_closes)
{
	uint8_t raw[5] = { 0, 0x04, 0, 1, SSH_FXP_WRITE }; /* 256 KiB + 1 */

	sftpt_start_rw();
	ck_assert_int_eq(buf_append(&sftpt.s.in, raw, sizeof raw), 0);
	ck_assert_int_eq(sftpt_run_input(), EXIT_PERM);
}
END_TEST

START_TEST(request_before_init)
{
	struct sftpt_pk p;

	ck_assert_int_eq(sftpt_start(sftpt.root, NULL, NULL), 0);
	sftpt_pk_begin(&p, SSH_FXP_STAT, 1);
	wr_cstring(&p.w, "/");
	sftpt_pk_queue(&p);
	ck_assert_int_eq(sftpt_run_input(), EXIT_PERM);
}
END_TEST

START_TEST(usage_errors)
{
	ck_assert_int_eq(sftpt_start(NULL, NULL, NULL), EXIT_PERM);
	ck_assert_int_eq(sftpt_start("-x", sftpt.root, NULL), EXIT_PERM);
	ck_assert_int_eq(sftpt_start(sftpt.root, sftpt.root, NULL), EXIT_PERM);
	ck_assert_int_eq(sftpt_start("-u", "999", sftpt.root), EXIT_PERM);
	ck_assert_int_eq(sftpt_start("relative/root", NULL, NULL), EXIT_PERM);
	/* sftp-server's -e and -l LEVEL are accepted. */
	ck_assert_int_eq(sftpt_start("-e", "-lVERBOSE", sftpt.root), 0);
}
END_TEST

static Suite *sftp_packets_suite(void)
{
	Suite *s = suite_create("sftp_packets");
	TCase *tc;

	tc = sftpt_tcase("packets");
	tcase_add_test(tc, attrs_round_trip);
	tcase_add_test(tc, attrs_extended_pairs);
	tcase_add_test(tc, version_lists_extensions);
	tcase_add_test(tc, limits_extension);
	tcase_add_test(tc, longname_format);
	suite_add_tcase(s, tc);

	tc = sftpt_tcase("errors");
	tcase_add_test(tc, malformed_requests);
	tcase_add_test(tc, unknown_type_unsupported);
	tcase_add_test(tc, oversized_packet_closes);
	tcase_add_test(tc, request_before_init);
	tcase_add_test(tc, usage_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sftpt_run(sftp_packets_suite());
}
