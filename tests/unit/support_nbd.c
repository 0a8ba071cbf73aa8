/* The nbd unit tests' harness: see support_nbd.h. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "support_nbd.h"

struct nbdt_fixture nbdt;

/* Everything the module wrote, in order; replies are parsed from here. */
#define ACC_CAP (NBD_PAYLOAD_MAX + (4u << 20))
static uint8_t *acc;
static size_t acc_len, acc_off;

static void setup(void)
{
	log_init("test_nbd");
	log_set_level(LOG_FATAL);
	memset(&nbdt, 0, sizeof nbdt);
	strcpy(nbdt.tmp, "/tmp/test_nbd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(nbdt.tmp));
	snprintf(nbdt.img, sizeof nbdt.img, "%s/disk.img", nbdt.tmp);
	nbdt_image(NBDT_SIZE);
	nbdt.c.negotiation_ms = 10000;
	nbdt.s.mconf = &nbdt.c;
	ck_assert_int_eq(buf_init(&nbdt.s.in, SESSION_BUF_BASE + 65536), 0);
	ck_assert_int_eq(buf_init(&nbdt.s.out, SESSION_BUF_BASE + 65536), 0);
	acc = malloc(ACC_CAP);
	ck_assert_ptr_nonnull(acc);
	acc_len = acc_off = 0;
}

static void teardown(void)
{
	char cmd[200];

	if (nbdt.st)
		proto_nbd.finish(&nbdt.s, nbdt.st);
	nbdt.st = NULL;
	nbd_exports_free(&nbdt.c.exports);
	buf_free(&nbdt.s.in);
	buf_free(&nbdt.s.out);
	free(acc);
	acc = NULL;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", nbdt.tmp);
	ck_assert_int_eq(system(cmd), 0);
}

TCase *nbdt_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	return tc;
}

int nbdt_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}

void nbdt_image(uint64_t size)
{
	int fd = open(nbdt.img, O_RDWR | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

void nbdt_image_put(uint64_t off, const void *p, size_t n)
{
	int fd = open(nbdt.img, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
	close(fd);
}

void nbdt_image_get(uint64_t off, void *p, size_t n)
{
	int fd = open(nbdt.img, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, p, n, (off_t)off), (ssize_t)n);
	close(fd);
}

void nbdt_user(const char *perms)
{
	static char list[256];
	char *save = NULL;
	size_t n = 0;

	snprintf(nbdt.user.name, sizeof nbdt.user.name, "alice");
	snprintf(list, sizeof list, "%s", perms);
	for (char *t = strtok_r(list, ",", &save); t && n < 8;
	     t = strtok_r(NULL, ",", &save))
		nbdt.perms[n++] = t;
	nbdt.user.perms = nbdt.perms;
	nbdt.user.nperms = n;
	nbdt.s.user = &nbdt.user;
}

int nbdt_start(const char *a1, const char *a2)
{
	char *argv[4] = { "nbd", NULL, NULL, NULL };
	int argc = 1;

	if (a1)
		argv[argc++] = (char *)a1;
	if (a2)
		argv[argc++] = (char *)a2;
	return proto_nbd.start(&nbdt.s, argc, argv, &nbdt.st);
}

void nbdt_collect(void)
{
	struct buf *out = &nbdt.s.out;

	ck_assert_uint_le(acc_len + buf_len(out), ACC_CAP);
	memcpy(acc + acc_len, buf_data(out), buf_len(out));
	acc_len += buf_len(out);
	buf_clear(out);
}

int nbdt_wait_module(int timeout_ms)
{
	struct pollfd pfd[SESSION_MAX_MODULE_FDS];
	size_t n = proto_nbd.pollfds(&nbdt.s, nbdt.st, pfd,
				     SESSION_MAX_MODULE_FDS);

	if (n == 0)
		return 0;
	ck_assert_int_ge(poll(pfd, n, timeout_ms), 0);
	ck_assert_int_eq(proto_nbd.events(&nbdt.s, nbdt.st, pfd, n, 0), 0);
	return 1;
}

/* The module runs as the core would run it, draining s->out each time,
 * until it stops making progress (with no parked READ to wait for) or
 * ends the session. */
static int pump(void)
{
	for (int i = 0; i < 100000; i++) {
		size_t in_before = buf_len(&nbdt.s.in);
		int r = proto_nbd.input(&nbdt.s, nbdt.st);
		int wrote = buf_len(&nbdt.s.out) > 0;

		nbdt_collect();
		if (r != 0)
			return r;
		if (!wrote && buf_len(&nbdt.s.in) == in_before &&
		    !nbdt_wait_module(10000))
			return 0;
	}
	ck_abort_msg("the module never stops");
	return -1;
}

int nbdt_input(void)
{
	return pump();
}

int nbdt_input_once(void)
{
	int r = proto_nbd.input(&nbdt.s, nbdt.st);

	nbdt_collect();
	return r;
}

int nbdt_idle(void)
{
	return proto_nbd.idle(&nbdt.s, nbdt.st);
}

void nbdt_start_flags(const char *a1, uint32_t flags)
{
	uint8_t b[4];

	ck_assert_int_eq(nbdt_start(a1, nbdt.img), 0);
	nbdt_collect();
	ck_assert_uint_eq(acc_len - acc_off, NBD_GREETING_LEN);
	ck_assert_uint_eq(be64_get(acc + acc_off), NBD_MAGIC);
	ck_assert_uint_eq(be64_get(acc + acc_off + 8), NBD_IHAVEOPT);
	ck_assert_uint_eq(be16_get(acc + acc_off + 16),
			  NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	acc_off += NBD_GREETING_LEN;
	be32_put(b, flags);
	nbdt_send(b, 4);
}

void nbdt_send(const void *p, size_t n)
{
	ck_assert_int_eq(buf_append(&nbdt.s.in, p, n), 0);
}

void nbdt_send_opt(uint32_t opt, const void *data, uint32_t len)
{
	uint8_t h[NBD_OPT_HDR_LEN];

	be64_put(h, NBD_IHAVEOPT);
	be32_put(h + 8, opt);
	be32_put(h + 12, len);
	nbdt_send(h, sizeof h);
	if (len)
		nbdt_send(data, len);
}

size_t nbdt_info_data(uint8_t *b, size_t cap, const char *name,
		      const uint16_t *infos, uint16_t n)
{
	struct wr w;

	wr_init(&w, b, cap);
	wr_cstring(&w, name);
	wr_be16(&w, n);
	for (uint16_t i = 0; i < n; i++)
		wr_be16(&w, infos[i]);
	ck_assert(wr_ok(&w));
	return w.len;
}

size_t nbdt_meta_data(uint8_t *b, size_t cap, const char *name,
		      const char *const *queries, uint32_t n)
{
	struct wr w;

	wr_init(&w, b, cap);
	wr_cstring(&w, name);
	wr_be32(&w, n);
	for (uint32_t i = 0; i < n; i++)
		wr_cstring(&w, queries[i]);
	ck_assert(wr_ok(&w));
	return w.len;
}

size_t nbdt_take(void *dst, size_t n)
{
	if (n > acc_len - acc_off)
		n = acc_len - acc_off;
	memcpy(dst, acc + acc_off, n);
	acc_off += n;
	return n;
}

int nbdt_next_optrep(struct nbdt_optrep *r)
{
	const uint8_t *p = acc + acc_off;

	if (acc_len - acc_off < NBD_OPT_REPLY_LEN)
		return 0;
	ck_assert_uint_eq(be64_get(p), NBD_REP_MAGIC);
	r->opt = be32_get(p + 8);
	r->type = be32_get(p + 12);
	r->len = be32_get(p + 16);
	ck_assert_uint_le(r->len, sizeof r->data);
	ck_assert_uint_ge(acc_len - acc_off, NBD_OPT_REPLY_LEN + r->len);
	memcpy(r->data, p + NBD_OPT_REPLY_LEN, r->len);
	acc_off += NBD_OPT_REPLY_LEN + r->len;
	return 1;
}

uint32_t nbdt_option(uint32_t opt, const void *data, uint32_t len,
		     unsigned *n)
{
	struct nbdt_optrep r;
	unsigned count = 0;

	nbdt_send_opt(opt, data, len);
	ck_assert_int_eq(pump(), 0);
	for (;;) {
		ck_assert_msg(nbdt_next_optrep(&r), "no final reply");
		ck_assert_uint_eq(r.opt, opt);
		if (r.type == NBD_REP_ACK || (r.type & 0x80000000u))
			break;
		count++;
	}
	ck_assert_uint_eq(acc_len, acc_off);
	if (n)
		*n = count;
	return r.type;
}

void nbdt_go(const char *a1, int structured, int meta)
{
	static const char *const q[] = { NBD_META_BASE_ALLOCATION };
	uint8_t b[256];
	size_t n;

	nbdt_start_flags(a1, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	if (structured)
		ck_assert_uint_eq(nbdt_option(NBD_OPT_STRUCTURED_REPLY, NULL, 0,
					      NULL), NBD_REP_ACK);
	if (meta) {
		n = nbdt_meta_data(b, sizeof b, "", q, 1);
		ck_assert_uint_eq(nbdt_option(NBD_OPT_SET_META_CONTEXT, b,
					      (uint32_t)n, NULL), NBD_REP_ACK);
	}
	n = nbdt_info_data(b, sizeof b, "", NULL, 0);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_GO, b, (uint32_t)n, NULL),
			  NBD_REP_ACK);
}

void nbdt_send_req(uint16_t flags, uint16_t type, uint64_t handle,
		   uint64_t off, uint32_t len)
{
	uint8_t b[NBD_REQUEST_LEN];

	be32_put(b, NBD_REQUEST_MAGIC);
	be16_put(b + 4, flags);
	be16_put(b + 6, type);
	be64_put(b + 8, handle);
	be64_put(b + 16, off);
	be32_put(b + 24, len);
	nbdt_send(b, sizeof b);
}

int nbdt_next_reply(struct nbdt_reply *r, uint32_t rdlen)
{
	const uint8_t *p = acc + acc_off;
	size_t have = acc_len - acc_off;
	uint32_t magic;

	memset(r, 0, sizeof *r);
	if (have < 4)
		return 0;
	magic = be32_get(p);
	if (magic == NBD_SIMPLE_REPLY_MAGIC) {
		if (have < NBD_SIMPLE_LEN)
			return 0;
		r->simple = 1;
		r->err = be32_get(p + 4);
		r->handle = be64_get(p + 8);
		r->len = r->err ? 0 : rdlen;
		if (have < NBD_SIMPLE_LEN + (size_t)r->len)
			return 0;
		r->data = acc + acc_off + NBD_SIMPLE_LEN;
		acc_off += NBD_SIMPLE_LEN + r->len;
		return 1;
	}
	ck_assert_uint_eq(magic, NBD_STRUCTURED_REPLY_MAGIC);
	if (have < NBD_CHUNK_LEN)
		return 0;
	r->flags = be16_get(p + 4);
	r->type = be16_get(p + 6);
	r->handle = be64_get(p + 8);
	r->len = be32_get(p + 16);
	if (have < NBD_CHUNK_LEN + (size_t)r->len)
		return 0;
	r->data = acc + acc_off + NBD_CHUNK_LEN;
	acc_off += NBD_CHUNK_LEN + r->len;
	return 1;
}

uint32_t nbdt_chunk_err(const struct nbdt_reply *r)
{
	ck_assert(r->type & 0x8000u);
	ck_assert_uint_ge(r->len, 6);
	return be32_get(r->data);
}

uint32_t nbdt_status(uint64_t handle)
{
	struct nbdt_reply r;

	ck_assert_int_eq(pump(), 0);
	ck_assert_msg(nbdt_next_reply(&r, 0), "no reply");
	ck_assert_uint_eq(r.handle, handle);
	if (r.simple)
		return r.err;
	ck_assert_uint_eq(r.flags & NBD_REPLY_FLAG_DONE, NBD_REPLY_FLAG_DONE);
	return r.type == NBD_REPLY_TYPE_NONE ? 0 : nbdt_chunk_err(&r);
}
