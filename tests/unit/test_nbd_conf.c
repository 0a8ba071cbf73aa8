/*
 * Unit tests for the nbd module's configuration (handler/nbd/nbd_conf.c):
 * `nbd-export`, `limit nbd-negotiation` and every error form, parsed
 * through the core as handler does; the exports' first use, by the
 * module's start, is in test_nbd_export.c.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "nbd_conf.h"
#include "support_conf.h"

extern const struct protocol proto_nbd;

START_TEST(nbd_items)
{
	const struct nbd_conf *nc;
	struct conf c;

	ck_assert_msg(conft_parse(&c,
		"nbd-export disk /srv/disk.img rw\n"
		"nbd-export iso /srv/debian.iso ro Debian 13   netinst\n"
		"limit nbd-negotiation 3\n") == 0, "%s", c.error);
	nc = conft_mconf(&c, &proto_nbd);
	ck_assert_uint_eq(nc->exports.n, 2);
	ck_assert_str_eq(nc->exports.e[0].name, "disk");
	ck_assert_str_eq(nc->exports.e[0].path, "/srv/disk.img");
	ck_assert_int_eq(nc->exports.e[0].rw, 1);
	ck_assert_ptr_null(nc->exports.e[0].desc);
	ck_assert_int_eq(nc->exports.e[1].rw, 0);
	/* Free text, words joined by single spaces. */
	ck_assert_str_eq(nc->exports.e[1].desc, "Debian 13 netinst");
	ck_assert_uint_eq(nc->negotiation_ms, 3000);
	conf_free(&c);
}
END_TEST

START_TEST(nbd_defaults)
{
	const struct nbd_conf *nc;
	struct conf c;

	ck_assert_int_eq(conf_load(&c, NULL), 0);
	nc = conft_mconf(&c, &proto_nbd);
	ck_assert_uint_eq(nc->exports.n, 0);
	ck_assert_uint_eq(nc->negotiation_ms,
			  NBD_DEFAULT_NEGOTIATION_S * 1000);
	conf_free(&c);
}
END_TEST

START_TEST(nbd_errors)
{
	struct conf c;
	char text[8192];
	size_t n = 0;

	conft_bad("nbd-export disk /srv/disk.img\n", 1, "missing arguments");
	conft_bad("nbd-export disk srv/disk.img rw\n", 1, "absolute");
	conft_bad("nbd-export disk /srv/disk.img wr\n", 1, "ro or rw");
	conft_bad("nbd-export -disk /d rw\n", 1, "nbd-export name");
	conft_bad("nbd-export a@b /d rw\n", 1, "nbd-export name");
	/* 56 is the longest name that still fits nbd:rw:NAME. */
	conft_bad("nbd-export "
		  "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234567"
		  " /d rw\n", 1, "nbd-export name");
	ck_assert_int_eq(conft_parse(&c,
		"nbd-export "
		"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123456"
		" /d rw\n"), 0);
	conf_free(&c);
	conft_bad("nbd-export d /a rw\nnbd-export d /b ro\n", 2,
		  "duplicate export name");
	for (int i = 0; i <= NBD_EXPORTS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
				      "nbd-export e%d /d%d ro\n", i, i);
	conft_bad(text, NBD_EXPORTS_MAX + 1, "too many exports");
	conft_bad("limit nbd-negotiation 0\n", 1, "bad value");
	conft_bad("limit nbd-negotiation 1\nlimit nbd-negotiation 2\n", 2,
		  "duplicate limit nbd-negotiation");
}
END_TEST

static Suite *nbd_conf_suite(void)
{
	Suite *s = suite_create("nbd_conf");
	TCase *tc = tcase_create("items");

	tcase_add_checked_fixture(tc, conft_setup, NULL);
	tcase_add_test(tc, nbd_items);
	tcase_add_test(tc, nbd_defaults);
	tcase_add_test(tc, nbd_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return conft_run(nbd_conf_suite());
}
