/*
 * Unit tests for the sftp module's configuration (handler/sftp/sftp_conf.c):
 * `sftp-root`, `user-sftp-root`, `limit sftp-handles` and every error
 * form. Parsed through the core, as handler does.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sftp_conf.h"
#include "support_conf.h"

extern const struct protocol proto_sftp;

START_TEST(sftp_items)
{
	const struct sftp_conf *sc;
	struct conf c;
	char text[2048];

	snprintf(text, sizeof text,
		 "user alice sftp:rw %s\n"
		 "user bob - \"%s\"\n"
		 "user-sftp-root alice /srv/alice\n"
		 "user-sftp-root bob /srv/bob ro\n"
		 "sftp-root /srv/files rw\n"
		 "limit sftp-handles 32\n"
		 "sftp-allow-setid yes\n"
		 "sftp-allow-chown no\n",
		 conft_line_a, conft_line_b);
	ck_assert_msg(conft_parse(&c, text) == 0, "%s", c.error);
	sc = conft_mconf(&c, &proto_sftp);
	ck_assert_str_eq(sftp_conf_user_root(sc, "alice"), "/srv/alice");
	ck_assert_int_eq(sftp_conf_user_find(sc, "alice")->rw, 1);
	ck_assert_str_eq(sftp_conf_user_root(sc, "bob"), "/srv/bob");
	ck_assert_int_eq(sftp_conf_user_find(sc, "bob")->rw, 0);
	ck_assert_ptr_null(sftp_conf_user_root(sc, "carol"));
	ck_assert_ptr_null(sftp_conf_user_root(NULL, "alice"));
	ck_assert_str_eq(sc->root, "/srv/files");
	ck_assert_int_eq(sc->rw, 1);
	ck_assert_uint_eq(sc->handles, 32);
	ck_assert_int_eq(sc->allow_setid, 1);
	ck_assert_int_eq(sc->allow_chown, 0);
	conf_free(&c);
}
END_TEST

START_TEST(sftp_defaults)
{
	const struct sftp_conf *sc;
	struct conf c;

	ck_assert_int_eq(conf_load(&c, NULL), 0);
	sc = conft_mconf(&c, &proto_sftp);
	ck_assert_ptr_null(sc->root);
	ck_assert_int_eq(sc->rw, 0);
	ck_assert_uint_eq(sc->nuser_roots, 0);
	ck_assert_uint_eq(sc->handles, 64);
	ck_assert_int_eq(sc->allow_setid, 0);
	ck_assert_int_eq(sc->allow_chown, 0);
	conf_free(&c);
	ck_assert_int_eq(conft_parse(&c, "sftp-root /srv ro\n"), 0);
	sc = conft_mconf(&c, &proto_sftp);
	ck_assert_int_eq(sc->rw, 0);
	ck_assert_uint_eq(sc->handles, 64);
	conf_free(&c);
}
END_TEST

START_TEST(sftp_errors)
{
	char text[2048];

	conft_bad("user-sftp-root nobody /x\n", 1,
		  "unknown user \"nobody\" (define it first)");
	snprintf(text, sizeof text, "user alice - %s\nuser-sftp-root alice x\n",
		 conft_line_a);
	conft_bad(text, 2, "absolute path");
	snprintf(text, sizeof text, "user alice - %s\n"
		 "user-sftp-root alice /a\nuser-sftp-root alice /b\n",
		 conft_line_a);
	conft_bad(text, 3, "duplicate user-sftp-root for \"alice\"");
	/* The user must come first, as before. */
	snprintf(text, sizeof text, "user-sftp-root alice /a\nuser alice - %s\n",
		 conft_line_a);
	conft_bad(text, 1, "unknown user");
	snprintf(text, sizeof text, "user alice - %s\n"
		 "user-sftp-root alice /a maybe\n", conft_line_a);
	conft_bad(text, 2, "user-sftp-root mode must be ro or rw");
	snprintf(text, sizeof text, "user alice - %s\n"
		 "user-sftp-root alice /a ro x\n", conft_line_a);
	conft_bad(text, 2, "too many arguments");
	conft_bad("sftp-root /srv maybe\n", 1, "ro or rw");
	conft_bad("sftp-root srv ro\n", 1, "absolute path");
	conft_bad("sftp-root /a ro\nsftp-root /b ro\n", 2, "duplicate sftp-root");
	conft_bad("sftp-allow-setid maybe\n", 1,
		  "sftp-allow-setid must be yes or no");
	conft_bad("sftp-allow-chown yes\nsftp-allow-chown no\n", 2,
		  "duplicate sftp-allow-chown");
	conft_bad("sftp-allow-chown\n", 1, "missing arguments");
	conft_bad("limit sftp-handles 4097\n", 1, "bad value");
	conft_bad("limit sftp-handles 1\nlimit sftp-handles 2\n", 2,
		  "duplicate limit sftp-handles");
}
END_TEST

static Suite *sftp_conf_suite(void)
{
	Suite *s = suite_create("sftp_conf");
	TCase *tc = tcase_create("items");

	tcase_add_checked_fixture(tc, conft_setup, NULL);
	tcase_add_test(tc, sftp_items);
	tcase_add_test(tc, sftp_defaults);
	tcase_add_test(tc, sftp_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return conft_run(sftp_conf_suite());
}
