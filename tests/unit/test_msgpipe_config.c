/* Unit tests for msgpipe/config.c: environment settings. */
#include <check.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"

START_TEST(bytes)
{
	size_t v = 0;

	ck_assert_int_eq(config_parse_bytes("65536", &v), 0);
	ck_assert_uint_eq(v, 65536);
	ck_assert_int_eq(config_parse_bytes("4m", &v), 0);
	ck_assert_uint_eq(v, 4 << 20);
	ck_assert_int_eq(config_parse_bytes("512K", &v), 0);
	ck_assert_uint_eq(v, 512 << 10);
	ck_assert_int_eq(config_parse_bytes("256m", &v), 0);
	ck_assert_int_eq(config_parse_bytes("257m", &v), -1);
	ck_assert_int_eq(config_parse_bytes("63k", &v), -1);
	ck_assert_int_eq(config_parse_bytes("", &v), -1);
	ck_assert_int_eq(config_parse_bytes("-1", &v), -1);
	ck_assert_int_eq(config_parse_bytes("1mb", &v), -1);
	ck_assert_int_eq(config_parse_bytes("99999999999999999999999", &v), -1);
}
END_TEST

START_TEST(seconds)
{
	uint64_t ns = 0;

	ck_assert_int_eq(config_parse_seconds("60", &ns), 0);
	ck_assert_uint_eq(ns, 60000000000ULL);
	ck_assert_int_eq(config_parse_seconds("0.5", &ns), 0);
	ck_assert_uint_eq(ns, 500000000ULL);
	ck_assert_int_eq(config_parse_seconds(".25", &ns), 0);
	ck_assert_int_eq(config_parse_seconds("0", &ns), -1);
	ck_assert_int_eq(config_parse_seconds("-3", &ns), -1);
	ck_assert_int_eq(config_parse_seconds("3s", &ns), -1);
	ck_assert_int_eq(config_parse_seconds("nan", &ns), -1);
	ck_assert_int_eq(config_parse_seconds("inf", &ns), -1);
	ck_assert_int_eq(config_parse_seconds("1e30", &ns), -1);
}
END_TEST

START_TEST(environment)
{
	struct engine_cfg c;

	unsetenv("MSGPIPE_BUFFER_BYTES");
	unsetenv("MSGPIPE_GIVEUP_SECONDS");
	unsetenv("MSGPIPE_KEEPALIVE_SECONDS");
	ck_assert_int_eq(config_from_env(&c), 0);
	ck_assert_uint_eq(c.sendbuf, CONFIG_DEFAULT_BUFFER);
	ck_assert_uint_eq(c.recvbuf, CONFIG_DEFAULT_BUFFER);
	ck_assert_uint_eq(c.giveup_ns, 60000000000ULL);
	ck_assert_uint_eq(c.keepalive_ns, 10000000000ULL);
	setenv("MSGPIPE_BUFFER_BYTES", "1m", 1);
	setenv("MSGPIPE_GIVEUP_SECONDS", "2.5", 1);
	setenv("MSGPIPE_KEEPALIVE_SECONDS", "1", 1);
	ck_assert_int_eq(config_from_env(&c), 0);
	ck_assert_uint_eq(c.sendbuf, 1 << 20);
	ck_assert_uint_eq(c.giveup_ns, 2500000000ULL);
	ck_assert_uint_eq(c.keepalive_ns, 1000000000ULL);
	setenv("MSGPIPE_GIVEUP_SECONDS", "soon", 1);
	ck_assert_int_eq(config_from_env(&c), -1);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("msgpipe_config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, bytes);
	tcase_add_test(tc, seconds);
	tcase_add_test(tc, environment);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	log_init("test_msgpipe_config");
	log_set_level(LOG_FATAL);
	sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
