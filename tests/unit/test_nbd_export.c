/*
 * The nbd module's exports: what LIST shows, what INFO and GO tell, the
 * old EXPORT_NAME way in, metadata contexts, and the secure layer's
 * per-user permissions (nbd:rw, nbd:ro, nbd:MODE:NAME). The harness is in
 * support_nbd.c.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "exitcode.h"
#include "support_nbd.h"

#define FLAGS (NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)

/* A second export next to disk.img: read-write, with a description. */
static void add_second(int rw)
{
	struct nbd_state *st = nbdt.st;
	const char *why;

	ck_assert_int_eq(nbd_exports_add(&st->exports, "second", nbdt.img, rw,
					 "the second disk", &why), 0);
}

/* The names LIST shows, joined with commas. */
static void list_names(char *dst, size_t size)
{
	struct nbdt_optrep r;

	dst[0] = 0;
	nbdt_send_opt(NBD_OPT_LIST, NULL, 0);
	ck_assert_int_eq(nbdt_input(), 0);
	while (nbdt_next_optrep(&r) && r.type == NBD_REP_SERVER) {
		uint32_t n = be32_get(r.data);

		ck_assert_uint_le(4 + n, r.len);
		if (dst[0])
			strncat(dst, ",", size - strlen(dst) - 1);
		strncat(dst, (const char *)r.data + 4,
			n < size - strlen(dst) - 1 ? n : size - strlen(dst) - 1);
	}
	ck_assert_uint_eq(r.type, NBD_REP_ACK);
}

/* INFO for name with the given items: the final reply type, and the
 * export's size and flags from NBD_INFO_EXPORT. */
static uint32_t info(const char *name, const uint16_t *items, uint16_t n,
		     uint16_t *eflags, struct nbdt_optrep *named,
		     struct nbdt_optrep *desc)
{
	struct nbdt_optrep r;
	uint8_t b[128];
	size_t len = nbdt_info_data(b, sizeof b, name, items, n);

	nbdt_send_opt(NBD_OPT_INFO, b, (uint32_t)len);
	ck_assert_int_eq(nbdt_input(), 0);
	while (nbdt_next_optrep(&r) && r.type == NBD_REP_INFO) {
		uint16_t type = be16_get(r.data);

		if (type == NBD_INFO_EXPORT) {
			ck_assert_uint_eq(r.len, 12);
			ck_assert_uint_eq(be64_get(r.data + 2), NBDT_SIZE);
			*eflags = be16_get(r.data + 10);
		} else if (type == NBD_INFO_BLOCK_SIZE) {
			ck_assert_uint_eq(r.len, 14);
			ck_assert_uint_eq(be32_get(r.data + 2), 1);
			ck_assert_uint_eq(be32_get(r.data + 6), 4096);
			ck_assert_uint_eq(be32_get(r.data + 10), 32u << 20);
		} else if (type == NBD_INFO_NAME && named) {
			*named = r;
		} else if (type == NBD_INFO_DESCRIPTION && desc) {
			*desc = r;
		}
	}
	return r.type;
}

START_TEST(list_without_user)
{
	char names[128];

	nbdt_start_flags(NULL, FLAGS);
	add_second(1);
	list_names(names, sizeof names);
	ck_assert_str_eq(names, "disk.img,second");
}
END_TEST

START_TEST(list_description)
{
	struct nbdt_optrep r;

	nbdt_start_flags(NULL, FLAGS);
	add_second(1);
	nbdt_send_opt(NBD_OPT_LIST, NULL, 0);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_optrep(&r));
	ck_assert_uint_eq(r.len, 4 + 8);
	ck_assert(nbdt_next_optrep(&r));
	ck_assert_uint_eq(r.len, 4 + 6 + 15);
	ck_assert_int_eq(memcmp(r.data + 10, "the second disk", 15), 0);
}
END_TEST

START_TEST(info_items)
{
	static const uint16_t items[] = { NBD_INFO_NAME, NBD_INFO_DESCRIPTION,
					  77 };
	struct nbdt_optrep named, desc;
	uint16_t f = 0;

	nbdt_start_flags(NULL, FLAGS);
	add_second(1);
	named.len = desc.len = 0;
	ck_assert_uint_eq(info("", items, 3, &f, &named, &desc), NBD_REP_ACK);
	/* The default export's canonical name; it has no description. */
	ck_assert_uint_eq(named.len, 2 + 8);
	ck_assert_int_eq(memcmp(named.data + 2, "disk.img", 8), 0);
	ck_assert_uint_eq(desc.len, 0);
	ck_assert_uint_eq(f, NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
			  NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM |
			  NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_CAN_MULTI_CONN |
			  NBD_FLAG_SEND_CACHE | NBD_FLAG_SEND_FAST_ZERO);
	ck_assert_uint_eq(info("second", items, 3, &f, &named, &desc),
			  NBD_REP_ACK);
	ck_assert_uint_eq(desc.len, 2 + 15);
	/* No items asked: no name. */
	named.len = 0;
	ck_assert_uint_eq(info("second", NULL, 0, &f, &named, NULL),
			  NBD_REP_ACK);
	ck_assert_uint_eq(named.len, 0);
	ck_assert_uint_eq(info("third", NULL, 0, &f, NULL, NULL),
			  NBD_REP_ERR_UNKNOWN);
}
END_TEST

START_TEST(read_only_flags)
{
	uint16_t f = 0;

	nbdt_start_flags("-r", FLAGS);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_STRUCTURED_REPLY, NULL, 0, NULL),
			  NBD_REP_ACK);
	ck_assert_uint_eq(info("disk.img", NULL, 0, &f, NULL, NULL),
			  NBD_REP_ACK);
	ck_assert_uint_eq(f, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY |
			  NBD_FLAG_SEND_FLUSH | NBD_FLAG_CAN_MULTI_CONN |
			  NBD_FLAG_SEND_CACHE | NBD_FLAG_SEND_DF);
}
END_TEST

START_TEST(missing_file_not_available)
{
	struct nbd_state *st;
	const char *why;
	uint16_t f;

	nbdt_start_flags(NULL, FLAGS);
	st = nbdt.st;
	ck_assert_int_eq(nbd_exports_add(&st->exports, "gone", "/nonexistent",
					 1, NULL, &why), 0);
	ck_assert_uint_eq(info("gone", NULL, 0, &f, NULL, NULL),
			  NBD_REP_ERR_UNKNOWN);
	ck_assert_int_eq(nbd_exports_add(&st->exports, "dir", nbdt.tmp, 1, NULL,
					 &why), 0);
	ck_assert_uint_eq(info("dir", NULL, 0, &f, NULL, NULL),
			  NBD_REP_ERR_UNKNOWN);
	ck_assert_uint_eq(info("", NULL, 0, &f, NULL, NULL), NBD_REP_ACK);
}
END_TEST

/* EXPORT_NAME's reply: size, flags, 124 zeroes unless NO_ZEROES, and
 * nothing else before transmission answers a request. */
static void export_name(int no_zeroes)
{
	uint8_t head[8 + 2 + 124 + 16];
	size_t want = no_zeroes ? 10 : 134;
	struct nbdt_reply r;

	nbdt_start_flags(NULL, NBD_FLAG_C_FIXED_NEWSTYLE |
			 (no_zeroes ? NBD_FLAG_C_NO_ZEROES : 0));
	nbdt_send_opt(NBD_OPT_EXPORT_NAME, "disk.img", 8);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert_uint_eq(buf_len(&nbdt.s.in), 0);
	ck_assert_uint_eq(nbdt_take(head, sizeof head), want);
	ck_assert_uint_eq(be64_get(head), NBDT_SIZE);
	ck_assert_uint_eq(be16_get(head + 8) & NBD_FLAG_HAS_FLAGS, 1);
	/* No structured replies were asked for: no DF. */
	ck_assert_uint_eq(be16_get(head + 8) & NBD_FLAG_SEND_DF, 0);
	for (size_t i = 10; i < want; i++)
		ck_assert_uint_eq(head[i], 0);
	nbdt_send_req(0, NBD_CMD_FLUSH, 7, 0, 0);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert(r.simple);
	ck_assert_uint_eq(r.handle, 7);
	ck_assert_uint_eq(r.err, 0);
}

START_TEST(export_name_with_zeroes)
{
	export_name(0);
}
END_TEST

START_TEST(export_name_no_zeroes)
{
	export_name(1);
}
END_TEST

START_TEST(export_name_default)
{
	uint8_t head[16];

	nbdt_start_flags("-r", FLAGS);
	nbdt_send_opt(NBD_OPT_EXPORT_NAME, "", 0);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert_uint_eq(nbdt_take(head, sizeof head), 10);
	ck_assert(be16_get(head + 8) & NBD_FLAG_READ_ONLY);
}
END_TEST

START_TEST(meta_context_queries)
{
	static const char *const all[] = { "base:" };
	static const char *const other[] = { "qemu:dirty-bitmap:x", "nope" };
	static const char *const exact[] = { "x-a:b", "base:allocation" };
	struct nbdt_optrep r;
	uint8_t b[256];
	unsigned n;
	size_t len;

	nbdt_start_flags(NULL, FLAGS);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_STRUCTURED_REPLY, NULL, 0, NULL),
			  NBD_REP_ACK);
	len = nbdt_meta_data(b, sizeof b, "", NULL, 0);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_LIST_META_CONTEXT, b,
				      (uint32_t)len, &n), NBD_REP_ACK);
	ck_assert_uint_eq(n, 1);
	len = nbdt_meta_data(b, sizeof b, "disk.img", all, 1);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_LIST_META_CONTEXT, b,
				      (uint32_t)len, &n), NBD_REP_ACK);
	ck_assert_uint_eq(n, 1);
	/* "base:" selects nothing in SET; other namespaces nothing at all. */
	ck_assert_uint_eq(nbdt_option(NBD_OPT_SET_META_CONTEXT, b,
				      (uint32_t)len, &n), NBD_REP_ACK);
	ck_assert_uint_eq(n, 0);
	len = nbdt_meta_data(b, sizeof b, "", other, 2);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_LIST_META_CONTEXT, b,
				      (uint32_t)len, &n), NBD_REP_ACK);
	ck_assert_uint_eq(n, 0);
	len = nbdt_meta_data(b, sizeof b, "", exact, 2);
	nbdt_send_opt(NBD_OPT_SET_META_CONTEXT, b, (uint32_t)len);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_optrep(&r));
	ck_assert_uint_eq(r.type, NBD_REP_META_CONTEXT);
	ck_assert_uint_eq(r.len, 4 + 15);
	ck_assert_uint_eq(be32_get(r.data), NBD_META_ID_BASE_ALLOCATION);
	ck_assert_int_eq(memcmp(r.data + 4, "base:allocation", 15), 0);
	ck_assert(nbdt_next_optrep(&r));
	ck_assert_uint_eq(r.type, NBD_REP_ACK);
	len = nbdt_meta_data(b, sizeof b, "nosuch", exact, 2);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_SET_META_CONTEXT, b,
				      (uint32_t)len, &n), NBD_REP_ERR_UNKNOWN);
}
END_TEST

/* ---- the secure layer's users ---- */

START_TEST(user_without_nbd_permission)
{
	nbdt_user("sftp:rw,admin");
	ck_assert_int_eq(nbdt_start(nbdt.img, NULL), EXIT_PERM);
	nbdt_user("nbdx:rw");
	ck_assert_int_eq(nbdt_start(nbdt.img, NULL), EXIT_PERM);
}
END_TEST

START_TEST(user_per_export)
{
	char names[128];
	uint16_t f = 0;

	nbdt_user("nbd:ro:second");
	nbdt_start_flags(NULL, FLAGS);
	add_second(1);
	list_names(names, sizeof names);
	ck_assert_str_eq(names, "second");
	ck_assert_uint_eq(info("", NULL, 0, &f, NULL, NULL),
			  NBD_REP_ERR_POLICY);
	ck_assert_uint_eq(info("second", NULL, 0, &f, NULL, NULL),
			  NBD_REP_ACK);
	ck_assert(f & NBD_FLAG_READ_ONLY);
}
END_TEST

START_TEST(user_rw_everywhere)
{
	char names[128];
	uint16_t f = 0;

	nbdt_user("nbd:rw");
	nbdt_start_flags(NULL, FLAGS);
	add_second(0);
	list_names(names, sizeof names);
	ck_assert_str_eq(names, "disk.img,second");
	ck_assert_uint_eq(info("disk.img", NULL, 0, &f, NULL, NULL),
			  NBD_REP_ACK);
	ck_assert(!(f & NBD_FLAG_READ_ONLY));
	/* The export's own mode still caps it. */
	ck_assert_uint_eq(info("second", NULL, 0, &f, NULL, NULL),
			  NBD_REP_ACK);
	ck_assert(f & NBD_FLAG_READ_ONLY);
}
END_TEST

START_TEST(user_ro_and_rw_for_one)
{
	uint16_t f = 0;

	nbdt_user("nbd:ro,nbd:rw:second");
	nbdt_start_flags(NULL, FLAGS);
	add_second(1);
	ck_assert_uint_eq(info("disk.img", NULL, 0, &f, NULL, NULL),
			  NBD_REP_ACK);
	ck_assert(f & NBD_FLAG_READ_ONLY);
	ck_assert_uint_eq(info("second", NULL, 0, &f, NULL, NULL),
			  NBD_REP_ACK);
	ck_assert(!(f & NBD_FLAG_READ_ONLY));
}
END_TEST

START_TEST(user_refused_export_name_closes)
{
	nbdt_user("nbd:ro:second");
	nbdt_start_flags(NULL, FLAGS);
	add_second(1);
	nbdt_send_opt(NBD_OPT_EXPORT_NAME, "disk.img", 8);
	ck_assert_int_eq(nbdt_input(), EXIT_PERM);
}
END_TEST

START_TEST(exports_add_limits)
{
	struct nbd_exports x;
	static char name[NBD_NAME_MAX + 2];
	static char desc[NBD_DESC_MAX + 2];
	const char *why;
	char n[16];

	memset(&x, 0, sizeof x);
	memset(name, 'a', NBD_NAME_MAX + 1);
	memset(desc, 'd', NBD_DESC_MAX + 1);
	ck_assert_int_eq(nbd_exports_add(&x, name, "/f", 1, NULL, &why), -1);
	name[NBD_NAME_MAX] = 0;
	ck_assert_int_eq(nbd_exports_add(&x, name, "/f", 1, NULL, &why), 0);
	ck_assert_int_eq(nbd_exports_add(&x, name, "/g", 1, NULL, &why), -1);
	ck_assert_int_eq(nbd_exports_add(&x, "", "/f", 1, NULL, &why), -1);
	ck_assert_int_eq(nbd_exports_add(&x, "d", "/f", 1, desc, &why), -1);
	for (int i = 1; i < NBD_EXPORTS_MAX; i++) {
		snprintf(n, sizeof n, "e%d", i);
		ck_assert_int_eq(nbd_exports_add(&x, n, "/f", 0, NULL, &why),
				 0);
	}
	ck_assert_int_eq(nbd_exports_add(&x, "more", "/f", 0, NULL, &why), -1);
	ck_assert_int_eq(nbd_exports_find(&x, (const uint8_t *)"", 0), 0);
	ck_assert_int_eq(nbd_exports_find(&x, (const uint8_t *)"e5", 2), 5);
	ck_assert_int_eq(nbd_exports_find(&x, (const uint8_t *)"e", 1), -1);
	nbd_exports_free(&x);
	ck_assert_str_eq(nbd_basename("/a/b/c.img"), "c.img");
	ck_assert_str_eq(nbd_basename("c.img"), "c.img");
}
END_TEST

/* An nbd-export item, as nbd_conf.c stores it, before the start. */
static void conf_export(const char *name, const char *path, int rw)
{
	const char *why;

	ck_assert_int_eq(nbd_exports_add(&nbdt.c.exports, name, path, rw,
					 "from the conf", &why), 0);
}

START_TEST(conf_exports_follow_file)
{
	char names[128];
	uint16_t f = 0;

	conf_export("vm", nbdt.img, 1);
	nbdt_start_flags(NULL, FLAGS);
	list_names(names, sizeof names);
	ck_assert_str_eq(names, "disk.img,vm");
	ck_assert_uint_eq(info("vm", NULL, 0, &f, NULL, NULL), NBD_REP_ACK);
	ck_assert_uint_eq(f & NBD_FLAG_READ_ONLY, 0);
}
END_TEST

START_TEST(conf_first_is_default)
{
	static const uint16_t items[] = { NBD_INFO_NAME };
	struct nbdt_optrep named;
	uint16_t f = 0;

	conf_export("vm", nbdt.img, 0);
	conf_export("other", nbdt.img, 1);
	ck_assert_int_eq(nbdt_start(NULL, NULL), 0);
	nbdt_collect();
	nbdt_take((uint8_t[NBD_GREETING_LEN]){ 0 }, NBD_GREETING_LEN);
	nbdt_send((const uint8_t[4]){ 0, 0, 0, FLAGS }, 4);
	ck_assert_uint_eq(info("", items, 1, &f, &named, NULL), NBD_REP_ACK);
	ck_assert_uint_eq(named.len, 2 + 2);
	ck_assert_int_eq(memcmp(named.data + 2, "vm", 2), 0);
	ck_assert_uint_eq(f & NBD_FLAG_READ_ONLY, NBD_FLAG_READ_ONLY);
}
END_TEST

START_TEST(conf_read_only_under_r)
{
	uint16_t f = 0;

	conf_export("vm", nbdt.img, 1);
	nbdt_start_flags("-r", FLAGS);
	ck_assert_uint_eq(info("vm", NULL, 0, &f, NULL, NULL), NBD_REP_ACK);
	ck_assert_uint_eq(f & NBD_FLAG_READ_ONLY, NBD_FLAG_READ_ONLY);
}
END_TEST

START_TEST(conf_start_refusals)
{
	/* Nothing to serve at all. */
	ck_assert_int_eq(nbdt_start(NULL, NULL), EXIT_PERM);
	ck_assert_ptr_null(nbdt.st);
	/* The file's base name is also a conf export's name. */
	conf_export("disk.img", "/srv/other.img", 1);
	ck_assert_int_eq(nbdt_start(nbdt.img, NULL), EXIT_PERM);
	ck_assert_ptr_null(nbdt.st);
}
END_TEST

static Suite *nbd_export_suite(void)
{
	Suite *s = suite_create("nbd_export");
	TCase *tc;

	tc = nbdt_tcase("exports");
	tcase_add_test(tc, list_without_user);
	tcase_add_test(tc, list_description);
	tcase_add_test(tc, info_items);
	tcase_add_test(tc, read_only_flags);
	tcase_add_test(tc, missing_file_not_available);
	tcase_add_test(tc, export_name_with_zeroes);
	tcase_add_test(tc, export_name_no_zeroes);
	tcase_add_test(tc, export_name_default);
	tcase_add_test(tc, meta_context_queries);
	tcase_add_test(tc, exports_add_limits);
	tcase_add_test(tc, conf_exports_follow_file);
	tcase_add_test(tc, conf_first_is_default);
	tcase_add_test(tc, conf_read_only_under_r);
	tcase_add_test(tc, conf_start_refusals);
	suite_add_tcase(s, tc);

	tc = nbdt_tcase("users");
	tcase_add_test(tc, user_without_nbd_permission);
	tcase_add_test(tc, user_per_export);
	tcase_add_test(tc, user_rw_everywhere);
	tcase_add_test(tc, user_ro_and_rw_for_one);
	tcase_add_test(tc, user_refused_export_name_closes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nbdt_run(nbd_export_suite());
}
