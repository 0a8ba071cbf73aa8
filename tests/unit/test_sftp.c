/*
 * The sftp module driven through its struct protocol callbacks with a fake
 * session (two buffers, no fds), over a private temp directory.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "exitcode.h"
#include "handler.h"
#include "log.h"
#include "sftp_priv.h"
#include "wire.h"

extern const struct protocol proto_sftp;

/* The fixture: check's setup/teardown take no arguments. */
static struct fixture {
	struct session s;
	struct conf c;
	void *st;
	char tmp[64];
	char root[128];
	char outside[128];
} F;

struct pk {
	uint8_t b[SFTP_MAX_PACKET + 64];
	struct wr w;
};

struct reply {
	uint8_t type;
	uint32_t id;
	uint8_t data[SFTP_MAX_PACKET + 64];
	size_t len;
	struct rd rd;  /* after type and id */
};

static void path_in(char *dst, size_t n, const char *base, const char *rel)
{
	snprintf(dst, n, "%s/%s", base, rel);
}

static void write_file(const char *base, const char *rel, const char *text)
{
	char p[600];
	FILE *f;

	path_in(p, sizeof p, base, rel);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static int exists_in(const char *base, const char *rel)
{
	char p[600];
	struct stat sb;

	path_in(p, sizeof p, base, rel);
	return lstat(p, &sb) == 0;
}

static int do_start(const char *a1, const char *a2, const char *a3)
{
	char *argv[5] = { "sftp", NULL, NULL, NULL, NULL };
	int argc = 1;

	if (a1)
		argv[argc++] = (char *)a1;
	if (a2)
		argv[argc++] = (char *)a2;
	if (a3)
		argv[argc++] = (char *)a3;
	return proto_sftp.start(&F.s, argc, argv, &F.st);
}

static void setup_dirs(void)
{
	char p[600];

	log_init("test_sftp");
	log_set_level(LOG_FATAL);
	umask(022); /* -u changes it for the process (CK_FORK=no) */
	memset(&F, 0, sizeof F);
	strcpy(F.tmp, "/tmp/test_sftp.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(F.tmp));
	snprintf(F.root, sizeof F.root, "%s/root", F.tmp);
	snprintf(F.outside, sizeof F.outside, "%s/outside", F.tmp);
	ck_assert_int_eq(mkdir(F.root, 0755), 0);
	ck_assert_int_eq(mkdir(F.outside, 0755), 0);
	write_file(F.outside, "secret", "top secret\n");
	write_file(F.root, "hello.txt", "hello, world\n");
	path_in(p, sizeof p, F.root, "sub");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	write_file(F.root, "sub/inner.txt", "inner\n");
	/* Links that would escape if anything followed them on the host. */
	path_in(p, sizeof p, F.outside, "secret");
	ck_assert_int_eq(symlink(p, (path_in(p + 300, 300, F.root, "abs"), p + 300)), 0);
	path_in(p, sizeof p, F.root, "rel");
	ck_assert_int_eq(symlink("../outside/secret", p), 0);
	path_in(p, sizeof p, F.root, "chain1");
	ck_assert_int_eq(symlink("chain2", p), 0);
	path_in(p, sizeof p, F.root, "chain2");
	ck_assert_int_eq(symlink("sub/../../../outside/secret", p), 0);
	path_in(p, sizeof p, F.root, "dirlink");
	ck_assert_int_eq(symlink(F.outside, p), 0);
	path_in(p, sizeof p, F.root, "updir");
	ck_assert_int_eq(symlink("../..", p), 0);
	F.c.limits.sftp_handles = 8;
	F.s.conf = &F.c;
	ck_assert_int_eq(buf_init(&F.s.in, SESSION_BUF_BASE + 65536), 0);
	ck_assert_int_eq(buf_init(&F.s.out, SESSION_BUF_BASE + 65536), 0);
}

static void teardown(void)
{
	char cmd[400];

	if (F.st)
		proto_sftp.finish(&F.s, F.st);
	F.st = NULL;
	buf_free(&F.s.in);
	buf_free(&F.s.out);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", F.tmp);
	ck_assert_int_eq(system(cmd), 0);
}

static void pk_begin(struct pk *p, uint8_t type, uint32_t id)
{
	wr_init(&p->w, p->b, sizeof p->b);
	wr_be32(&p->w, 0);
	wr_u8(&p->w, type);
	if (type != SSH_FXP_INIT)
		wr_be32(&p->w, id);
}

/* Queues the packet in s->in without running the module. */
static void pk_queue(struct pk *p)
{
	ck_assert(wr_ok(&p->w));
	be32_put(p->b, (uint32_t)(p->w.len - 4));
	ck_assert_int_eq(buf_append(&F.s.in, p->b, p->w.len), 0);
}

static int run_input(void)
{
	return proto_sftp.input(&F.s, F.st);
}

static void pk_send(struct pk *p)
{
	pk_queue(p);
	ck_assert_int_eq(run_input(), 0);
}

static int next_reply(struct reply *r)
{
	uint32_t len;

	if (buf_len(&F.s.out) < 4)
		return 0;
	len = be32_get(buf_data(&F.s.out));
	ck_assert_uint_ge(buf_len(&F.s.out), 4 + (size_t)len);
	ck_assert_uint_le(len, sizeof r->data);
	memcpy(r->data, buf_data(&F.s.out) + 4, len);
	buf_consume(&F.s.out, 4 + (size_t)len);
	r->len = len;
	rd_init(&r->rd, r->data, len);
	ck_assert_int_eq(rd_u8(&r->rd, &r->type), 0);
	if (r->type != SSH_FXP_VERSION)
		ck_assert_int_eq(rd_be32(&r->rd, &r->id), 0);
	return 1;
}

static void get_reply(struct reply *r, uint32_t id)
{
	ck_assert(next_reply(r));
	ck_assert_uint_eq(r->id, id);
}

/* The status code of the next reply, which must be a STATUS for id. */
static uint32_t status_of(uint32_t id)
{
	struct reply r;
	uint32_t code;

	get_reply(&r, id);
	ck_assert_uint_eq(r.type, SSH_FXP_STATUS);
	ck_assert_int_eq(rd_be32(&r.rd, &code), 0);
	return code;
}

static void start_init(const char *a1, const char *a2, const char *a3)
{
	struct pk p;
	struct reply r;

	ck_assert_int_eq(do_start(a1, a2, a3), 0);
	pk_begin(&p, SSH_FXP_INIT, 0);
	wr_be32(&p.w, 3);
	pk_send(&p);
	ck_assert(next_reply(&r));
	ck_assert_uint_eq(r.type, SSH_FXP_VERSION);
}

static void start_rw(void)
{
	start_init(F.root, NULL, NULL);
}

static uint32_t req_path(uint8_t type, uint32_t id, const char *path)
{
	struct pk p;

	pk_begin(&p, type, id);
	wr_cstring(&p.w, path);
	if (type == SSH_FXP_MKDIR || type == SSH_FXP_SETSTAT)
		wr_be32(&p.w, 0);
	pk_send(&p);
	return id;
}

static uint32_t req_two(uint8_t type, uint32_t id, const char *a,
			const char *b)
{
	struct pk p;

	pk_begin(&p, type, id);
	wr_cstring(&p.w, a);
	wr_cstring(&p.w, b);
	pk_send(&p);
	return id;
}

static uint32_t req_ext(uint32_t id, const char *name, const char *a,
			const char *b)
{
	struct pk p;

	pk_begin(&p, SSH_FXP_EXTENDED, id);
	wr_cstring(&p.w, name);
	if (a)
		wr_cstring(&p.w, a);
	if (b)
		wr_cstring(&p.w, b);
	pk_send(&p);
	return id;
}

/* OPEN; returns the status (0 with the handle in h, 8 bytes). */
static uint32_t open_file(uint32_t id, const char *path, uint32_t pflags,
			  uint8_t h[SFTP_HANDLE_LEN])
{
	struct pk p;
	struct reply r;
	const uint8_t *hp;
	uint32_t hn, code;

	pk_begin(&p, SSH_FXP_OPEN, id);
	wr_cstring(&p.w, path);
	wr_be32(&p.w, pflags);
	wr_be32(&p.w, 0);
	pk_send(&p);
	get_reply(&r, id);
	if (r.type == SSH_FXP_STATUS) {
		ck_assert_int_eq(rd_be32(&r.rd, &code), 0);
		return code;
	}
	ck_assert_uint_eq(r.type, SSH_FXP_HANDLE);
	ck_assert_int_eq(rd_string(&r.rd, &hp, &hn, 256), 0);
	ck_assert_uint_eq(hn, SFTP_HANDLE_LEN);
	memcpy(h, hp, SFTP_HANDLE_LEN);
	return 0;
}

static uint32_t opendir_h(uint32_t id, const char *path,
			  uint8_t h[SFTP_HANDLE_LEN])
{
	struct reply r;
	const uint8_t *hp;
	uint32_t hn, code;

	req_path(SSH_FXP_OPENDIR, id, path);
	get_reply(&r, id);
	if (r.type == SSH_FXP_STATUS) {
		ck_assert_int_eq(rd_be32(&r.rd, &code), 0);
		return code;
	}
	ck_assert_int_eq(rd_string(&r.rd, &hp, &hn, 256), 0);
	memcpy(h, hp, SFTP_HANDLE_LEN);
	return 0;
}

static void req_handle(uint8_t type, uint32_t id,
		       const uint8_t h[SFTP_HANDLE_LEN])
{
	struct pk p;

	pk_begin(&p, type, id);
	wr_string(&p.w, h, SFTP_HANDLE_LEN);
	pk_send(&p);
}

static void req_read(uint32_t id, const uint8_t h[SFTP_HANDLE_LEN],
		     uint64_t off, uint32_t len)
{
	struct pk p;

	pk_begin(&p, SSH_FXP_READ, id);
	wr_string(&p.w, h, SFTP_HANDLE_LEN);
	wr_be64(&p.w, off);
	wr_be32(&p.w, len);
	pk_send(&p);
}

static void req_write(uint32_t id, const uint8_t h[SFTP_HANDLE_LEN],
		      uint64_t off, const void *data, size_t n)
{
	struct pk p;

	pk_begin(&p, SSH_FXP_WRITE, id);
	wr_string(&p.w, h, SFTP_HANDLE_LEN);
	wr_be64(&p.w, off);
	wr_string(&p.w, data, n);
	pk_send(&p);
}

/* The single name of a NAME reply (REALPATH, READLINK) or the status. */
static uint32_t name_of(uint32_t id, char *dst, size_t n)
{
	struct reply r;
	uint32_t count, code;

	get_reply(&r, id);
	if (r.type == SSH_FXP_STATUS) {
		ck_assert_int_eq(rd_be32(&r.rd, &code), 0);
		return code;
	}
	ck_assert_uint_eq(r.type, SSH_FXP_NAME);
	ck_assert_int_eq(rd_be32(&r.rd, &count), 0);
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(rd_cstring(&r.rd, dst, n), 0);
	return 0;
}

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
	struct pk p;
	struct reply r;
	uint32_t v;
	char name[64], ver[8];

	ck_assert_int_eq(do_start(F.root, NULL, NULL), 0);
	pk_begin(&p, SSH_FXP_INIT, 0);
	wr_be32(&p.w, 3);
	pk_send(&p);
	ck_assert(next_reply(&r));
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
	struct reply r;
	uint64_t v[4];

	start_rw();
	req_ext(9, "limits@openssh.com", NULL, NULL);
	get_reply(&r, 9);
	ck_assert_uint_eq(r.type, SSH_FXP_EXTENDED_REPLY);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(rd_be64(&r.rd, &v[i]), 0);
	ck_assert_uint_eq(v[0], 262144);
	ck_assert_uint_eq(v[1], 261120);
	ck_assert_uint_eq(v[2], 261120);
	ck_assert_uint_eq(v[3], 8);
}
END_TEST

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
	struct pk p;
	uint32_t id = 100;

	start_rw();
	for (size_t i = 0; i < sizeof types; i++) {
		/* No arguments at all. */
		pk_begin(&p, types[i], ++id);
		pk_send(&p);
		ck_assert_uint_eq(status_of(id), SSH_FX_BAD_MESSAGE);
		/* A string length running past the packet. */
		pk_begin(&p, types[i], ++id);
		wr_be32(&p.w, 1000);
		wr_cstring(&p.w, "x");
		pk_send(&p);
		ck_assert_uint_eq(status_of(id), SSH_FX_BAD_MESSAGE);
		/* Trailing garbage after a plausible path/handle (an
		 * unknown extension name is OP_UNSUPPORTED first). */
		if (types[i] == SSH_FXP_EXTENDED)
			continue;
		pk_begin(&p, types[i], ++id);
		wr_cstring(&p.w, "hello.txt");
		wr_cstring(&p.w, "hello.txt");
		wr_be64(&p.w, 0);
		wr_be64(&p.w, 0);
		wr_be64(&p.w, 0);
		wr_u8(&p.w, 1);
		pk_send(&p);
		ck_assert_uint_eq(status_of(id), SSH_FX_BAD_MESSAGE);
	}
	/* A path holding a NUL byte. */
	pk_begin(&p, SSH_FXP_STAT, ++id);
	wr_string(&p.w, "hello.txt\0/etc", 14);
	pk_send(&p);
	ck_assert_uint_eq(status_of(id), SSH_FX_BAD_MESSAGE);
	/* A packet too short to carry an id: answered with id 0. */
	{
		uint8_t raw[6] = { 0, 0, 0, 2, SSH_FXP_STAT, 1 };

		ck_assert_int_eq(buf_append(&F.s.in, raw, sizeof raw), 0);
		ck_assert_int_eq(run_input(), 0);
		ck_assert_uint_eq(status_of(0), SSH_FX_BAD_MESSAGE);
	}
	ck_assert_uint_eq(buf_len(&F.s.out), 0);
	ck_assert_uint_eq(buf_len(&F.s.in), 0);
}
END_TEST

START_TEST(unknown_type_unsupported)
{
	struct pk p;

	start_rw();
	pk_begin(&p, 99, 4242);
	wr_cstring(&p.w, "whatever");
	pk_send(&p);
	ck_assert_uint_eq(status_of(4242), SSH_FX_OP_UNSUPPORTED);
	pk_begin(&p, SSH_FXP_VERSION, 4243);
	pk_send(&p);
	ck_assert_uint_eq(status_of(4243), SSH_FX_OP_UNSUPPORTED);
	req_ext(4244, "no-such@example.com", "x", NULL);
	ck_assert_uint_eq(status_of(4244), SSH_FX_OP_UNSUPPORTED);
}
END_TEST

START_TEST(oversized_packet_closes)
{
	uint8_t raw[5] = { 0, 0x04, 0, 1, SSH_FXP_WRITE }; /* 256 KiB + 1 */

	start_rw();
	ck_assert_int_eq(buf_append(&F.s.in, raw, sizeof raw), 0);
	ck_assert_int_eq(run_input(), EXIT_PERM);
}
END_TEST

START_TEST(request_before_init)
{
	struct pk p;

	ck_assert_int_eq(do_start(F.root, NULL, NULL), 0);
	pk_begin(&p, SSH_FXP_STAT, 1);
	wr_cstring(&p.w, "/");
	pk_queue(&p);
	ck_assert_int_eq(run_input(), EXIT_PERM);
}
END_TEST

/* ---- the session: ordering, back-pressure, idle ---- */

START_TEST(pipelined_replies_in_order)
{
	uint8_t h[SFTP_HANDLE_LEN];
	struct pk p;
	struct reply r;

	start_rw();
	ck_assert_uint_eq(open_file(1, "hello.txt", SSH_FXF_READ, h), 0);
	for (uint32_t id = 10; id < 60; id++) {
		if (id % 3 == 0) {
			pk_begin(&p, SSH_FXP_READ, id);
			wr_string(&p.w, h, sizeof h);
			wr_be64(&p.w, id % 5);
			wr_be32(&p.w, 4);
		} else {
			pk_begin(&p, id % 3 == 1 ? SSH_FXP_STAT : SSH_FXP_LSTAT,
				 id);
			wr_cstring(&p.w, id % 2 ? "hello.txt" : "missing");
		}
		pk_queue(&p);
	}
	ck_assert_int_eq(run_input(), 0);
	for (uint32_t id = 10; id < 60; id++) {
		get_reply(&r, id);
		if (id % 3 == 0)
			ck_assert_uint_eq(r.type, SSH_FXP_DATA);
	}
	ck_assert_uint_eq(buf_len(&F.s.out), 0);
}
END_TEST

START_TEST(backpressure_and_idle)
{
	static uint8_t fill[SESSION_BUF_BASE + 65536 - 1000];
	struct pk p;

	start_rw();
	/* s->out nearly full: the request waits in s->in. */
	memset(fill, 'x', sizeof fill);
	ck_assert_int_eq(buf_append(&F.s.out, fill, sizeof fill), 0);
	pk_begin(&p, SSH_FXP_STAT, 5);
	wr_cstring(&p.w, "hello.txt");
	pk_queue(&p);
	ck_assert_int_eq(run_input(), 0);
	ck_assert_uint_gt(buf_len(&F.s.in), 0);
	ck_assert(!proto_sftp.idle(&F.s, F.st));
	buf_clear(&F.s.out);
	ck_assert_int_eq(run_input(), 0);
	ck_assert_uint_eq(buf_len(&F.s.in), 0);
	ck_assert(proto_sftp.idle(&F.s, F.st));
	/* Output past the high-water mark: the next read waits until the
	 * core wrote some, so reading and sending overlap. */
	{
		uint8_t h[SFTP_HANDLE_LEN];
		struct reply r;

		buf_clear(&F.s.out);
		ck_assert_uint_eq(open_file(6, "hello.txt", SSH_FXF_READ, h), 0);
		ck_assert_int_eq(buf_append(&F.s.out, fill, SFTP_OUT_HIGH), 0);
		pk_begin(&p, SSH_FXP_READ, 7);
		wr_string(&p.w, h, sizeof h);
		wr_be64(&p.w, 0);
		wr_be32(&p.w, 5);
		pk_queue(&p);
		ck_assert_int_eq(run_input(), 0);
		ck_assert_uint_eq(buf_len(&F.s.out), SFTP_OUT_HIGH);
		ck_assert(!proto_sftp.idle(&F.s, F.st));
		buf_clear(&F.s.out);
		ck_assert_int_eq(run_input(), 0);
		get_reply(&r, 7);
		ck_assert_uint_eq(r.type, SSH_FXP_DATA);
	}
	/* A partial packet can never complete: idle. */
	ck_assert_int_eq(buf_append(&F.s.in, "\0\0\0\x20\x11", 5), 0);
	ck_assert(proto_sftp.idle(&F.s, F.st));
}
END_TEST

/* ---- files and handles ---- */

START_TEST(write_read_round_trip)
{
	uint8_t h[SFTP_HANDLE_LEN];
	static uint8_t big[SFTP_MAX_DATA];
	struct reply r;
	const uint8_t *d;
	uint32_t n;

	start_rw();
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7);
	ck_assert_uint_eq(open_file(1, "new.bin",
				    SSH_FXF_WRITE | SSH_FXF_CREAT |
					    SSH_FXF_TRUNC,
				    h), 0);
	req_write(2, h, 0, big, sizeof big);
	ck_assert_uint_eq(status_of(2), SSH_FX_OK);
	req_write(3, h, sizeof big, "tail", 4);
	ck_assert_uint_eq(status_of(3), SSH_FX_OK);
	req_handle(SSH_FXP_CLOSE, 4, h);
	ck_assert_uint_eq(status_of(4), SSH_FX_OK);
	ck_assert_uint_eq(open_file(5, "/new.bin", SSH_FXF_READ, h), 0);
	req_read(6, h, 0, 300000); /* clipped to max-read-length */
	get_reply(&r, 6);
	ck_assert_uint_eq(r.type, SSH_FXP_DATA);
	ck_assert_int_eq(rd_string(&r.rd, &d, &n, SFTP_MAX_PACKET), 0);
	ck_assert_uint_eq(n, sizeof big);
	ck_assert_int_eq(memcmp(d, big, n), 0);
	req_read(7, h, sizeof big, 100);
	get_reply(&r, 7);
	ck_assert_int_eq(rd_string(&r.rd, &d, &n, SFTP_MAX_PACKET), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(memcmp(d, "tail", 4), 0);
	req_read(8, h, sizeof big + 4, 100);
	ck_assert_uint_eq(status_of(8), SSH_FX_EOF);
	req_handle(SSH_FXP_FSTAT, 9, h);
	get_reply(&r, 9);
	ck_assert_uint_eq(r.type, SSH_FXP_ATTRS);
}
END_TEST

START_TEST(stale_handle_generation)
{
	uint8_t h1[SFTP_HANDLE_LEN], h2[SFTP_HANDLE_LEN];
	struct reply r;

	start_rw();
	ck_assert_uint_eq(open_file(1, "hello.txt", SSH_FXF_READ, h1), 0);
	req_handle(SSH_FXP_CLOSE, 2, h1);
	ck_assert_uint_eq(status_of(2), SSH_FX_OK);
	ck_assert_uint_eq(open_file(3, "sub/inner.txt", SSH_FXF_READ, h2), 0);
	/* Same slot, new generation. */
	ck_assert_int_eq(memcmp(h1, h2, 4), 0);
	ck_assert_int_ne(memcmp(h1, h2, SFTP_HANDLE_LEN), 0);
	req_read(4, h1, 0, 10);
	ck_assert_uint_eq(status_of(4), SSH_FX_FAILURE);
	req_handle(SSH_FXP_CLOSE, 5, h1);
	ck_assert_uint_eq(status_of(5), SSH_FX_FAILURE);
	req_read(6, h2, 0, 10);
	get_reply(&r, 6);
	ck_assert_uint_eq(r.type, SSH_FXP_DATA);
	/* Garbage and wrong-kind handles. */
	req_handle(SSH_FXP_READDIR, 7, h2);
	ck_assert_uint_eq(status_of(7), SSH_FX_FAILURE);
	{
		struct pk p;

		pk_begin(&p, SSH_FXP_CLOSE, 8);
		wr_cstring(&p.w, "\xff\xff\xff\xff\0\0\0\1");
		pk_send(&p);
		ck_assert_uint_eq(status_of(8), SSH_FX_FAILURE);
	}
}
END_TEST

START_TEST(handle_limit)
{
	uint8_t h[SFTP_HANDLE_LEN];

	start_rw();
	for (uint32_t i = 0; i < 8; i++)
		ck_assert_uint_eq(open_file(i + 1, "hello.txt", SSH_FXF_READ, h),
				  0);
	ck_assert_uint_eq(open_file(20, "hello.txt", SSH_FXF_READ, h),
			  SSH_FX_FAILURE);
	req_handle(SSH_FXP_CLOSE, 21, h);
	ck_assert_uint_eq(status_of(21), SSH_FX_OK);
	ck_assert_uint_eq(open_file(22, "hello.txt", SSH_FXF_READ, h), 0);
}
END_TEST

START_TEST(readdir_eof_repeats)
{
	uint8_t h[SFTP_HANDLE_LEN];
	struct reply r;
	uint32_t count, total = 0;
	char name[300], lname[600];
	int saw_dotdot = 0;

	start_rw();
	ck_assert_uint_eq(opendir_h(1, "/", h), 0);
	for (uint32_t id = 2;; id++) {
		req_handle(SSH_FXP_READDIR, id, h);
		get_reply(&r, id);
		if (r.type == SSH_FXP_STATUS)
			break;
		ck_assert_uint_eq(r.type, SSH_FXP_NAME);
		ck_assert_int_eq(rd_be32(&r.rd, &count), 0);
		for (uint32_t i = 0; i < count; i++) {
			struct sftp_attrs a;

			ck_assert_int_eq(rd_cstring(&r.rd, name, sizeof name), 0);
			ck_assert_int_eq(rd_cstring(&r.rd, lname, sizeof lname), 0);
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
	req_handle(SSH_FXP_READDIR, 50, h);
	ck_assert_uint_eq(status_of(50), SSH_FX_EOF);
	req_handle(SSH_FXP_READDIR, 51, h);
	ck_assert_uint_eq(status_of(51), SSH_FX_EOF);
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

	start_rw();
	for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
		req_path(SSH_FXP_STAT, ++id, escapes[i]);
		ck_assert_uint_eq(status_of(id), SSH_FX_NO_SUCH_FILE);
		ck_assert_uint_eq(open_file(++id, escapes[i], SSH_FXF_READ, h),
				  SSH_FX_NO_SUCH_FILE);
	}
	/* "..": the root itself, as in a chroot. */
	req_path(SSH_FXP_STAT, ++id, "../../hello.txt");
	{
		struct reply r;

		get_reply(&r, id);
		ck_assert_uint_eq(r.type, SSH_FXP_ATTRS);
	}
}
END_TEST

START_TEST(confined_changes)
{
	char p[600];
	struct stat sb;
	struct pk pk;
	uint8_t h[SFTP_HANDLE_LEN];
	uint32_t id = 1;

	start_rw();
	/* Through a symlinked directory to the outside. */
	req_path(SSH_FXP_MKDIR, ++id, "dirlink/made");
	ck_assert_uint_eq(status_of(id), SSH_FX_NO_SUCH_FILE);
	req_path(SSH_FXP_REMOVE, ++id, "dirlink/secret");
	ck_assert_uint_eq(status_of(id), SSH_FX_NO_SUCH_FILE);
	req_two(SSH_FXP_RENAME, ++id, "hello.txt", "dirlink/stolen");
	ck_assert_uint_eq(status_of(id), SSH_FX_NO_SUCH_FILE);
	req_two(SSH_FXP_RENAME, ++id, "../outside/secret", "got");
	ck_assert_uint_eq(status_of(id), SSH_FX_NO_SUCH_FILE);
	req_ext(++id, "hardlink@openssh.com", "abs", "hl");
	ck_assert_uint_eq(status_of(id), SSH_FX_OK); /* links the link */
	req_path(SSH_FXP_LSTAT, ++id, "hl");
	ck_assert_uint_eq(next_reply(&(struct reply){ 0 }), 1);
	/* chmod through symlinks: must not reach the outside file. */
	pk_begin(&pk, SSH_FXP_SETSTAT, ++id);
	wr_cstring(&pk.w, "abs");
	wr_be32(&pk.w, SSH_FILEXFER_ATTR_PERMISSIONS);
	wr_be32(&pk.w, 0777);
	pk_send(&pk);
	ck_assert_uint_eq(status_of(id), SSH_FX_NO_SUCH_FILE);
	/* A client-made symlink to the host's outside directory. */
	req_two(SSH_FXP_SYMLINK, ++id, F.outside, "mine");
	ck_assert_uint_eq(status_of(id), SSH_FX_OK);
	ck_assert_uint_eq(open_file(++id, "mine/secret", SSH_FXF_READ, h),
			  SSH_FX_NO_SUCH_FILE);
	ck_assert_uint_eq(open_file(++id, "mine/created",
				    SSH_FXF_WRITE | SSH_FXF_CREAT, h),
			  SSH_FX_NO_SUCH_FILE);
	/* Creating through a dangling final symlink lands inside. */
	req_two(SSH_FXP_SYMLINK, ++id, "/made-inside", "dangle");
	ck_assert_uint_eq(status_of(id), SSH_FX_OK);
	ck_assert_uint_eq(open_file(++id, "dangle",
				    SSH_FXF_WRITE | SSH_FXF_CREAT, h), 0);
	ck_assert(exists_in(F.root, "made-inside"));
	/* Nothing outside changed. */
	path_in(p, sizeof p, F.outside, "secret");
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0644);
	ck_assert(!exists_in(F.outside, "made"));
	ck_assert(!exists_in(F.outside, "stolen"));
	ck_assert(!exists_in(F.outside, "created"));
	ck_assert(!exists_in(F.tmp, "made-inside"));
	/* Final components with no entry of their own. */
	req_path(SSH_FXP_RMDIR, ++id, "sub/..");
	ck_assert_uint_eq(status_of(id), SSH_FX_FAILURE);
	req_path(SSH_FXP_REMOVE, ++id, "/");
	ck_assert_uint_eq(status_of(id), SSH_FX_FAILURE);
	req_path(SSH_FXP_MKDIR, ++id, ".");
	ck_assert_uint_eq(status_of(id), SSH_FX_FAILURE);
	/* REMOVE of a symlink removes the link, not its target. */
	req_path(SSH_FXP_REMOVE, ++id, "dirlink");
	ck_assert_uint_eq(status_of(id), SSH_FX_OK);
	ck_assert(exists_in(F.outside, "secret"));
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

	start_rw();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		req_path(SSH_FXP_REALPATH, ++id, cases[i][0]);
		ck_assert_uint_eq(name_of(id, out, sizeof out), 0);
		ck_assert_str_eq(out, cases[i][1]);
	}
	/* An absolute link target is a path inside the root: missing. */
	req_path(SSH_FXP_REALPATH, ++id, "abs");
	ck_assert_uint_eq(name_of(id, out, sizeof out), SSH_FX_NO_SUCH_FILE);
	req_path(SSH_FXP_REALPATH, ++id, "chain1");
	ck_assert_uint_eq(name_of(id, out, sizeof out), SSH_FX_NO_SUCH_FILE);
	snprintf(want, sizeof want, "%s", "/sub/inner.txt");
	req_path(SSH_FXP_REALPATH, ++id, "updir/./sub/../sub/inner.txt");
	ck_assert_uint_eq(name_of(id, out, sizeof out), 0);
	ck_assert_str_eq(out, want);
	req_path(SSH_FXP_REALPATH, ++id, "missing/deeper");
	ck_assert_uint_eq(name_of(id, out, sizeof out), SSH_FX_NO_SUCH_FILE);
	req_path(SSH_FXP_READLINK, ++id, "rel");
	ck_assert_uint_eq(name_of(id, out, sizeof out), 0);
	ck_assert_str_eq(out, "../outside/secret");
}
END_TEST

START_TEST(start_directory)
{
	char out[SFTP_PATH_MAX];

	start_init("-d", "/sub", F.root);
	req_path(SSH_FXP_REALPATH, 2, ".");
	ck_assert_uint_eq(name_of(2, out, sizeof out), 0);
	ck_assert_str_eq(out, "/sub");
	req_path(SSH_FXP_STAT, 3, "inner.txt");
	ck_assert_uint_eq(next_reply(&(struct reply){ 0 }), 1);
	req_ext(4, "expand-path@openssh.com", "~/inner.txt", NULL);
	ck_assert_uint_eq(name_of(4, out, sizeof out), 0);
	ck_assert_str_eq(out, "/sub/inner.txt");
}
END_TEST

/* Magic links: with the host's / as root, /proc/self/root must not be
 * followed (RESOLVE_NO_MAGICLINKS). */
START_TEST(magic_links_refused)
{
	struct reply r;

	start_init("-R", "/", NULL);
	req_path(SSH_FXP_STAT, 2, "/etc");
	get_reply(&r, 2);
	ck_assert_uint_eq(r.type, SSH_FXP_ATTRS);
	req_path(SSH_FXP_STAT, 3, "/proc/self/root/etc");
	ck_assert_uint_eq(status_of(3), SSH_FX_NO_SUCH_FILE);
	req_path(SSH_FXP_STAT, 4, "/proc/self/cwd");
	ck_assert_uint_eq(status_of(4), SSH_FX_NO_SUCH_FILE);
	/* Their text (a host path) is not shown either. */
	req_path(SSH_FXP_READLINK, 5, "/proc/self/cwd");
	ck_assert_uint_eq(status_of(5), SSH_FX_NO_SUCH_FILE);
	req_path(SSH_FXP_REALPATH, 6, "/proc/self/cwd/x");
	ck_assert_uint_eq(status_of(6), SSH_FX_NO_SUCH_FILE);
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
	struct pk p;
	uint32_t id = 1;

	start_init("-R", F.root, NULL);
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(open_file(++id, "hello.txt", wflags[i], h),
				  SSH_FX_PERMISSION_DENIED);
	ck_assert_uint_eq(open_file(++id, "hello.txt", SSH_FXF_READ, h), 0);
	req_write(++id, h, 0, "x", 1);
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	pk_begin(&p, SSH_FXP_FSETSTAT, ++id);
	wr_string(&p.w, h, sizeof h);
	wr_be32(&p.w, SSH_FILEXFER_ATTR_PERMISSIONS);
	wr_be32(&p.w, 0600);
	pk_send(&p);
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_path(SSH_FXP_SETSTAT, ++id, "hello.txt");
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_path(SSH_FXP_REMOVE, ++id, "hello.txt");
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_path(SSH_FXP_MKDIR, ++id, "newdir");
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_path(SSH_FXP_RMDIR, ++id, "sub");
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_two(SSH_FXP_RENAME, ++id, "hello.txt", "x");
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_two(SSH_FXP_SYMLINK, ++id, "hello.txt", "x");
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_ext(++id, "posix-rename@openssh.com", "hello.txt", "x");
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_ext(++id, "hardlink@openssh.com", "hello.txt", "x");
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_ext(++id, "lsetstat@openssh.com", "hello.txt", NULL);
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_ext(++id, "fsync@openssh.com", NULL, NULL);
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	req_ext(++id, "copy-data", NULL, NULL);
	ck_assert_uint_eq(status_of(id), SSH_FX_PERMISSION_DENIED);
	/* Reading still works, and nothing changed. */
	req_read(++id, h, 0, 5);
	ck_assert_uint_eq(next_reply(&(struct reply){ 0 }), 1);
	ck_assert(exists_in(F.root, "hello.txt"));
	ck_assert(!exists_in(F.root, "x"));
	ck_assert(!exists_in(F.root, "newdir"));
	ck_assert(exists_in(F.root, "sub"));
}
END_TEST

/* ---- extensions ---- */

START_TEST(extensions_work)
{
	uint8_t a[SFTP_HANDLE_LEN], b[SFTP_HANDLE_LEN];
	struct reply r;
	struct pk p;
	char out[SFTP_PATH_MAX];
	const uint8_t *d;
	uint32_t n;

	start_rw();
	req_ext(2, "posix-rename@openssh.com", "hello.txt", "hi.txt");
	ck_assert_uint_eq(status_of(2), SSH_FX_OK);
	req_two(SSH_FXP_RENAME, 3, "sub/inner.txt", "hi.txt");
	ck_assert_uint_eq(status_of(3), SSH_FX_FAILURE); /* exists */
	req_ext(4, "statvfs@openssh.com", "/", NULL);
	get_reply(&r, 4);
	ck_assert_uint_eq(r.type, SSH_FXP_EXTENDED_REPLY);
	ck_assert_uint_eq(r.len, 5 + 11 * 8);
	ck_assert_uint_eq(open_file(5, "hi.txt", SSH_FXF_READ, a), 0);
	ck_assert_uint_eq(open_file(6, "copy.txt",
				    SSH_FXF_WRITE | SSH_FXF_CREAT, b), 0);
	pk_begin(&p, SSH_FXP_EXTENDED, 7);
	wr_cstring(&p.w, "copy-data");
	wr_string(&p.w, a, sizeof a);
	wr_be64(&p.w, 0);
	wr_be64(&p.w, 0);
	wr_string(&p.w, b, sizeof b);
	wr_be64(&p.w, 0);
	pk_send(&p);
	ck_assert_uint_eq(status_of(7), SSH_FX_OK);
	pk_begin(&p, SSH_FXP_EXTENDED, 8);
	wr_cstring(&p.w, "fsync@openssh.com");
	wr_string(&p.w, b, sizeof b);
	pk_send(&p);
	ck_assert_uint_eq(status_of(8), SSH_FX_OK);
	pk_begin(&p, SSH_FXP_EXTENDED, 9);
	wr_cstring(&p.w, "fstatvfs@openssh.com");
	wr_string(&p.w, b, sizeof b);
	pk_send(&p);
	get_reply(&r, 9);
	ck_assert_uint_eq(r.type, SSH_FXP_EXTENDED_REPLY);
	req_handle(SSH_FXP_CLOSE, 10, b);
	ck_assert_uint_eq(status_of(10), SSH_FX_OK);
	ck_assert_uint_eq(open_file(11, "copy.txt", SSH_FXF_READ, b), 0);
	req_read(12, b, 0, 100);
	get_reply(&r, 12);
	ck_assert_int_eq(rd_string(&r.rd, &d, &n, 1000), 0);
	ck_assert_uint_eq(n, 13);
	ck_assert_int_eq(memcmp(d, "hello, world\n", 13), 0);
	req_ext(13, "home-directory", "anyone", NULL);
	ck_assert_uint_eq(name_of(13, out, sizeof out), 0);
	ck_assert_str_eq(out, "/");
	pk_begin(&p, SSH_FXP_EXTENDED, 14);
	wr_cstring(&p.w, "lsetstat@openssh.com");
	wr_cstring(&p.w, "rel");
	wr_be32(&p.w, SSH_FILEXFER_ATTR_ACMODTIME);
	wr_be32(&p.w, 1000);
	wr_be32(&p.w, 2000);
	pk_send(&p);
	ck_assert_uint_eq(status_of(14), SSH_FX_OK);
	{
		char path[600];
		struct stat sb;

		path_in(path, sizeof path, F.root, "rel");
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
	struct pk p;

	start_rw();
	pk_begin(&p, SSH_FXP_SETSTAT, 2);
	wr_cstring(&p.w, "hello.txt");
	wr_be32(&p.w, SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_PERMISSIONS |
			      SSH_FILEXFER_ATTR_ACMODTIME);
	wr_be64(&p.w, 5);
	wr_be32(&p.w, 0640);
	wr_be32(&p.w, 1111);
	wr_be32(&p.w, 2222);
	pk_send(&p);
	ck_assert_uint_eq(status_of(2), SSH_FX_OK);
	path_in(path, sizeof path, F.root, "hello.txt");
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq((int)sb.st_size, 5);
	ck_assert_uint_eq(sb.st_mode & 07777, 0640);
	ck_assert_int_eq((int)sb.st_mtime, 2222);
	ck_assert_uint_eq(open_file(3, "hello.txt", SSH_FXF_WRITE, h), 0);
	pk_begin(&p, SSH_FXP_FSETSTAT, 4);
	wr_string(&p.w, h, sizeof h);
	wr_be32(&p.w, SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_PERMISSIONS);
	wr_be64(&p.w, 2);
	wr_be32(&p.w, 0600);
	pk_send(&p);
	ck_assert_uint_eq(status_of(4), SSH_FX_OK);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq((int)sb.st_size, 2);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	/* Offsets past what off_t holds are refused, not wrapped. */
	req_write(5, h, UINT64_MAX - 1, "x", 1);
	ck_assert_uint_eq(status_of(5), SSH_FX_BAD_MESSAGE);
	req_read(6, h, UINT64_MAX, 1);
	ck_assert_uint_eq(status_of(6), SSH_FX_BAD_MESSAGE);
}
END_TEST

START_TEST(symlink_argument_order)
{
	char out[SFTP_PATH_MAX], path[600];
	ssize_t n;

	start_rw();
	/* OpenSSH order: target first, then the link to create. */
	req_two(SSH_FXP_SYMLINK, 2, "hello.txt", "sub/mylink");
	ck_assert_uint_eq(status_of(2), SSH_FX_OK);
	path_in(path, sizeof path, F.root, "sub/mylink");
	n = readlink(path, out, sizeof out - 1);
	ck_assert_int_eq(n, 9);
	out[n] = 0;
	ck_assert_str_eq(out, "hello.txt");
	req_path(SSH_FXP_READLINK, 3, "hello.txt");
	ck_assert_uint_eq(status_of(3), SSH_FX_BAD_MESSAGE); /* EINVAL */
	req_two(SSH_FXP_SYMLINK, 4, "x", "sub/mylink");
	ck_assert_uint_eq(status_of(4), SSH_FX_FAILURE); /* EEXIST */
}
END_TEST

START_TEST(copy_data_overlap_refused)
{
	uint8_t a[SFTP_HANDLE_LEN];
	struct pk p;

	start_rw();
	ck_assert_uint_eq(open_file(2, "hello.txt",
				    SSH_FXF_READ | SSH_FXF_WRITE, a), 0);
	pk_begin(&p, SSH_FXP_EXTENDED, 3);
	wr_cstring(&p.w, "copy-data");
	wr_string(&p.w, a, sizeof a);
	wr_be64(&p.w, 0);
	wr_be64(&p.w, 10);
	wr_string(&p.w, a, sizeof a);
	wr_be64(&p.w, 5);
	pk_send(&p);
	ck_assert_uint_eq(status_of(3), SSH_FX_FAILURE);
	pk_begin(&p, SSH_FXP_EXTENDED, 4);
	wr_cstring(&p.w, "copy-data");
	wr_string(&p.w, a, sizeof a);
	wr_be64(&p.w, 0);
	wr_be64(&p.w, 5);
	wr_string(&p.w, a, sizeof a);
	wr_be64(&p.w, 100);
	pk_send(&p);
	ck_assert_uint_eq(status_of(4), SSH_FX_OK);
}
END_TEST

START_TEST(umask_and_sync_options)
{
	uint8_t h[SFTP_HANDLE_LEN];
	char path[600];
	struct stat sb;

	start_init("-Su", "077", F.root);
	ck_assert_uint_eq(open_file(2, "private",
				    SSH_FXF_WRITE | SSH_FXF_CREAT, h), 0);
	req_write(3, h, 0, "abc", 3);
	ck_assert_uint_eq(status_of(3), SSH_FX_OK);
	req_handle(SSH_FXP_CLOSE, 4, h);
	ck_assert_uint_eq(status_of(4), SSH_FX_OK);
	path_in(path, sizeof path, F.root, "private");
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	req_path(SSH_FXP_MKDIR, 5, "pdir");
	ck_assert_uint_eq(status_of(5), SSH_FX_OK);
	path_in(path, sizeof path, F.root, "pdir");
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);
}
END_TEST

START_TEST(open_refuses_non_regular)
{
	uint8_t h[SFTP_HANDLE_LEN];
	char path[600];

	start_rw();
	path_in(path, sizeof path, F.root, "fifo");
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	ck_assert_uint_eq(open_file(2, "fifo", SSH_FXF_READ, h),
			  SSH_FX_FAILURE);
	ck_assert_uint_eq(open_file(3, "sub", SSH_FXF_READ, h),
			  SSH_FX_FAILURE);
	ck_assert_uint_eq(open_file(4, "missing", SSH_FXF_READ, h),
			  SSH_FX_NO_SUCH_FILE);
	ck_assert_uint_eq(open_file(5, "hello.txt",
				    SSH_FXF_WRITE | SSH_FXF_CREAT |
					    SSH_FXF_EXCL,
				    h),
			  SSH_FX_FAILURE);
}
END_TEST

/* ---- start-up ---- */

START_TEST(usage_errors)
{
	ck_assert_int_eq(do_start(NULL, NULL, NULL), EXIT_PERM);
	ck_assert_int_eq(do_start("-x", F.root, NULL), EXIT_PERM);
	ck_assert_int_eq(do_start(F.root, F.root, NULL), EXIT_PERM);
	ck_assert_int_eq(do_start("-u", "999", F.root), EXIT_PERM);
	ck_assert_int_eq(do_start("relative/root", NULL, NULL), EXIT_PERM);
	/* sftp-server's -e and -l LEVEL are accepted. */
	ck_assert_int_eq(do_start("-e", "-lVERBOSE", F.root), 0);
}
END_TEST

START_TEST(conf_roots_and_permissions)
{
	static char *ro[] = { "sftp:ro" }, *none[] = { "admin" };
	static struct conf_user u;
	uint8_t h[SFTP_HANDLE_LEN];

	F.c.sftp_root = F.root;
	F.c.sftp_rw = 1;
	memset(&u, 0, sizeof u);
	strcpy(u.name, "alice");
	u.perms = none;
	u.nperms = 1;
	F.s.user = &u;
	ck_assert_int_eq(do_start(NULL, NULL, NULL), EXIT_PERM);
	u.perms = ro;
	{
		char dir[600];

		path_in(dir, sizeof dir, F.root, "alice");
		ck_assert_int_eq(mkdir(dir, 0755), 0);
	}
	start_init("-d", "/%u", NULL);
	ck_assert_uint_eq(open_file(2, "x", SSH_FXF_WRITE | SSH_FXF_CREAT, h),
			  SSH_FX_PERMISSION_DENIED);
	ck_assert_uint_eq(open_file(3, "/hello.txt", SSH_FXF_READ, h), 0);
	{
		char out[SFTP_PATH_MAX];

		req_path(SSH_FXP_REALPATH, 4, ".");
		ck_assert_uint_eq(name_of(4, out, sizeof out), 0);
		ck_assert_str_eq(out, "/alice");
	}
}
END_TEST

static Suite *sftp_suite(void)
{
	Suite *s = suite_create("sftp");
	TCase *tc;

	tc = tcase_create("packets");
	tcase_add_checked_fixture(tc, setup_dirs, teardown);
	tcase_add_test(tc, attrs_round_trip);
	tcase_add_test(tc, attrs_extended_pairs);
	tcase_add_test(tc, version_lists_extensions);
	tcase_add_test(tc, limits_extension);
	tcase_add_test(tc, longname_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup_dirs, teardown);
	tcase_add_test(tc, malformed_requests);
	tcase_add_test(tc, unknown_type_unsupported);
	tcase_add_test(tc, oversized_packet_closes);
	tcase_add_test(tc, request_before_init);
	tcase_add_test(tc, usage_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("session");
	tcase_add_checked_fixture(tc, setup_dirs, teardown);
	tcase_add_test(tc, pipelined_replies_in_order);
	tcase_add_test(tc, backpressure_and_idle);
	tcase_add_test(tc, write_read_round_trip);
	tcase_add_test(tc, stale_handle_generation);
	tcase_add_test(tc, handle_limit);
	tcase_add_test(tc, readdir_eof_repeats);
	tcase_add_test(tc, extensions_work);
	tcase_add_test(tc, conf_roots_and_permissions);
	tcase_add_test(tc, setstat_and_fsetstat);
	tcase_add_test(tc, symlink_argument_order);
	tcase_add_test(tc, copy_data_overlap_refused);
	tcase_add_test(tc, umask_and_sync_options);
	tcase_add_test(tc, open_refuses_non_regular);
	suite_add_tcase(s, tc);

	tc = tcase_create("confinement");
	tcase_add_checked_fixture(tc, setup_dirs, teardown);
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
	SRunner *sr = srunner_create(sftp_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
