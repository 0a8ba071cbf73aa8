/* The sftp unit tests' harness: see support_sftp.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "support_sftp.h"

struct sftpt_fixture sftpt;

void sftpt_path_in(char *dst, size_t n, const char *base, const char *rel)
{
	snprintf(dst, n, "%s/%s", base, rel);
}

void sftpt_write_file(const char *base, const char *rel, const char *text)
{
	char p[600];
	FILE *f;

	sftpt_path_in(p, sizeof p, base, rel);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

int sftpt_exists_in(const char *base, const char *rel)
{
	char p[600];
	struct stat sb;

	sftpt_path_in(p, sizeof p, base, rel);
	return lstat(p, &sb) == 0;
}

static void link_in_root(const char *target, const char *rel)
{
	char p[600];

	sftpt_path_in(p, sizeof p, sftpt.root, rel);
	ck_assert_int_eq(symlink(target, p), 0);
}

static void make_tree(void)
{
	char p[600];

	strcpy(sftpt.tmp, "/tmp/test_sftp.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sftpt.tmp));
	snprintf(sftpt.root, sizeof sftpt.root, "%s/root", sftpt.tmp);
	snprintf(sftpt.outside, sizeof sftpt.outside, "%s/outside", sftpt.tmp);
	ck_assert_int_eq(mkdir(sftpt.root, 0755), 0);
	ck_assert_int_eq(mkdir(sftpt.outside, 0755), 0);
	sftpt_write_file(sftpt.outside, "secret", "top secret\n");
	sftpt_write_file(sftpt.root, "hello.txt", "hello, world\n");
	sftpt_path_in(p, sizeof p, sftpt.root, "sub");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	sftpt_write_file(sftpt.root, "sub/inner.txt", "inner\n");
	/* Links that would escape if anything followed them on the host. */
	sftpt_path_in(p, sizeof p, sftpt.outside, "secret");
	link_in_root(p, "abs");
	link_in_root("../outside/secret", "rel");
	link_in_root("chain2", "chain1");
	link_in_root("sub/../../../outside/secret", "chain2");
	link_in_root(sftpt.outside, "dirlink");
	link_in_root("../..", "updir");
}

static void setup(void)
{
	log_init("test_sftp");
	log_set_level(LOG_FATAL);
	umask(022); /* -u changes it for the process (CK_FORK=no) */
	memset(&sftpt, 0, sizeof sftpt);
	make_tree();
	sftpt.conf.handles = 8;
	sftpt.s.mconf = &sftpt.conf;
	ck_assert_int_eq(buf_init(&sftpt.s.in, SESSION_BUF_BASE + 65536), 0);
	ck_assert_int_eq(buf_init(&sftpt.s.out, SESSION_BUF_BASE + 65536), 0);
}

static void teardown(void)
{
	char cmd[400];

	if (sftpt.st)
		proto_sftp.finish(&sftpt.s, sftpt.st);
	sftpt.st = NULL;
	buf_free(&sftpt.s.in);
	buf_free(&sftpt.s.out);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sftpt.tmp);
	ck_assert_int_eq(system(cmd), 0);
}

TCase *sftpt_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

int sftpt_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}

int sftpt_start(const char *a1, const char *a2, const char *a3)
{
	char *argv[5] = { "sftp", NULL, NULL, NULL, NULL };
	int argc = 1;

	if (a1)
		argv[argc++] = (char *)a1;
	if (a2)
		argv[argc++] = (char *)a2;
	if (a3)
		argv[argc++] = (char *)a3;
	return proto_sftp.start(&sftpt.s, argc, argv, &sftpt.st);
}

void sftpt_start_init(const char *a1, const char *a2, const char *a3)
{
	struct sftpt_pk p;
	struct sftpt_reply r;

	ck_assert_int_eq(sftpt_start(a1, a2, a3), 0);
	sftpt_pk_begin(&p, SSH_FXP_INIT, 0);
	wr_be32(&p.w, 3);
	sftpt_pk_send(&p);
	ck_assert(sftpt_next_reply(&r));
	ck_assert_uint_eq(r.type, SSH_FXP_VERSION);
}

void sftpt_start_rw(void)
{
	sftpt_start_init(sftpt.root, NULL, NULL);
}

int sftpt_run_input(void)
{
	return proto_sftp.input(&sftpt.s, sftpt.st);
}

int sftpt_idle(void)
{
	return proto_sftp.idle(&sftpt.s, sftpt.st);
}

void sftpt_pk_begin(struct sftpt_pk *p, uint8_t type, uint32_t id)
{
	wr_init(&p->w, p->b, sizeof p->b);
	wr_be32(&p->w, 0);
	wr_u8(&p->w, type);
	if (type != SSH_FXP_INIT)
		wr_be32(&p->w, id);
}

void sftpt_pk_queue(struct sftpt_pk *p)
{
	ck_assert(wr_ok(&p->w));
	be32_put(p->b, (uint32_t)(p->w.len - 4));
	ck_assert_int_eq(buf_append(&sftpt.s.in, p->b, p->w.len), 0);
}

void sftpt_pk_send(struct sftpt_pk *p)
{
	sftpt_pk_queue(p);
	ck_assert_int_eq(sftpt_run_input(), 0);
}

int sftpt_next_reply(struct sftpt_reply *r)
{
	struct buf *out = &sftpt.s.out;
	uint32_t len;

	if (buf_len(out) < 4)
		return 0;
	len = be32_get(buf_data(out));
	ck_assert_uint_ge(buf_len(out), 4 + (size_t)len);
	ck_assert_uint_le(len, sizeof r->data);
	memcpy(r->data, buf_data(out) + 4, len);
	buf_consume(out, 4 + (size_t)len);
	r->len = len;
	rd_init(&r->rd, r->data, len);
	ck_assert_int_eq(rd_u8(&r->rd, &r->type), 0);
	if (r->type != SSH_FXP_VERSION)
		ck_assert_int_eq(rd_be32(&r->rd, &r->id), 0);
	return 1;
}

void sftpt_get_reply(struct sftpt_reply *r, uint32_t id)
{
	ck_assert(sftpt_next_reply(r));
	ck_assert_uint_eq(r->id, id);
}

uint32_t sftpt_status_of(uint32_t id)
{
	struct sftpt_reply r;
	uint32_t code;

	sftpt_get_reply(&r, id);
	ck_assert_uint_eq(r.type, SSH_FXP_STATUS);
	ck_assert_int_eq(rd_be32(&r.rd, &code), 0);
	return code;
}

uint32_t sftpt_name_of(uint32_t id, char *dst, size_t n)
{
	struct sftpt_reply r;
	uint32_t count, code;

	sftpt_get_reply(&r, id);
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

uint32_t sftpt_req_path(uint8_t type, uint32_t id, const char *path)
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, type, id);
	wr_cstring(&p.w, path);
	if (type == SSH_FXP_MKDIR || type == SSH_FXP_SETSTAT)
		wr_be32(&p.w, 0);
	sftpt_pk_send(&p);
	return id;
}

uint32_t sftpt_req_two(uint8_t type, uint32_t id, const char *a,
		       const char *b)
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, type, id);
	wr_cstring(&p.w, a);
	wr_cstring(&p.w, b);
	sftpt_pk_send(&p);
	return id;
}

uint32_t sftpt_req_ext(uint32_t id, const char *name, const char *a,
		       const char *b)
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, SSH_FXP_EXTENDED, id);
	wr_cstring(&p.w, name);
	if (a)
		wr_cstring(&p.w, a);
	if (b)
		wr_cstring(&p.w, b);
	sftpt_pk_send(&p);
	return id;
}

void sftpt_req_handle(uint8_t type, uint32_t id,
		      const uint8_t h[SFTP_HANDLE_LEN])
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, type, id);
	wr_string(&p.w, h, SFTP_HANDLE_LEN);
	sftpt_pk_send(&p);
}

void sftpt_req_read(uint32_t id, const uint8_t h[SFTP_HANDLE_LEN],
		    uint64_t off, uint32_t len)
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, SSH_FXP_READ, id);
	wr_string(&p.w, h, SFTP_HANDLE_LEN);
	wr_be64(&p.w, off);
	wr_be32(&p.w, len);
	sftpt_pk_send(&p);
}

void sftpt_req_write(uint32_t id, const uint8_t h[SFTP_HANDLE_LEN],
		     uint64_t off, const void *data, size_t n)
{
	struct sftpt_pk p;

	sftpt_pk_begin(&p, SSH_FXP_WRITE, id);
	wr_string(&p.w, h, SFTP_HANDLE_LEN);
	wr_be64(&p.w, off);
	wr_string(&p.w, data, n);
	sftpt_pk_send(&p);
}

uint32_t sftpt_open_file(uint32_t id, const char *path, uint32_t pflags,
			 uint8_t h[SFTP_HANDLE_LEN])
{
	struct sftpt_pk p;
	struct sftpt_reply r;
	const uint8_t *hp;
	uint32_t hn, code;

	sftpt_pk_begin(&p, SSH_FXP_OPEN, id);
	wr_cstring(&p.w, path);
	wr_be32(&p.w, pflags);
	wr_be32(&p.w, 0);
	sftpt_pk_send(&p);
	sftpt_get_reply(&r, id);
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

uint32_t sftpt_opendir(uint32_t id, const char *path,
		       uint8_t h[SFTP_HANDLE_LEN])
{
	struct sftpt_reply r;
	const uint8_t *hp;
	uint32_t hn, code;

	sftpt_req_path(SSH_FXP_OPENDIR, id, path);
	sftpt_get_reply(&r, id);
	if (r.type == SSH_FXP_STATUS) {
		ck_assert_int_eq(rd_be32(&r.rd, &code), 0);
		return code;
	}
	ck_assert_int_eq(rd_string(&r.rd, &hp, &hn, 256), 0);
	memcpy(h, hp, SFTP_HANDLE_LEN);
	return 0;
}
