/* Unit tests for handler/cmd/json.c: escaping, UTF-8 handling, nesting and
 * the writer's error rules. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* The escaped form of s (n bytes), as a freshly allocated string. */
static char *esc(const char *s, size_t n)
{
	size_t need = json_escape(NULL, 0, s, n);
	char *out = malloc(need + 1);

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(json_escape(out, need + 1, s, n), need);
	return out;
}

#define ESC_EQ(in, n, want)                     \
	do {                                    \
		char *e_ = esc(in, n);          \
		ck_assert_str_eq(e_, want);     \
		free(e_);                       \
	} while (0)

START_TEST(escape_quote_backslash)
{
	ESC_EQ("a\"b", 3, "a\\\"b");
	ESC_EQ("a\\b", 3, "a\\\\b");
	ESC_EQ("\\\"", 2, "\\\\\\\"");
	ESC_EQ("/", 1, "/");
	ESC_EQ("", 0, "");
}
END_TEST

START_TEST(escape_control)
{
	ESC_EQ("\b\f\n\r\t", 5, "\\b\\f\\n\\r\\t");
	ESC_EQ("\x01\x1f", 2, "\\u0001\\u001f");
	ESC_EQ("a\0b", 3, "a\\u0000b");
	ESC_EQ("\x7f", 1, "\\u007f");
}
END_TEST

START_TEST(escape_utf8_passthrough)
{
	/* é, €, U+1F600 pass unchanged. */
	ESC_EQ("caf\xc3\xa9", 5, "caf\xc3\xa9");
	ESC_EQ("\xe2\x82\xac", 3, "\xe2\x82\xac");
	ESC_EQ("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
	/* The largest code point, U+10FFFF. */
	ESC_EQ("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf");
}
END_TEST

START_TEST(escape_utf8_invalid)
{
	/* Lone continuation, truncated, overlong, surrogate, too big. */
	ESC_EQ("\x80", 1, "\\ufffd");
	ESC_EQ("a\xc3", 2, "a\\ufffd");
	ESC_EQ("\xc0\xaf", 2, "\\ufffd\\ufffd");
	ESC_EQ("\xe0\x80\xaf", 3, "\\ufffd\\ufffd\\ufffd");
	ESC_EQ("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd");
	ESC_EQ("\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd");
	ESC_EQ("\xff", 1, "\\ufffd");
	/* A bad byte does not swallow the valid one after it. */
	ESC_EQ("\xc3" "A", 2, "\\ufffdA");
}
END_TEST

START_TEST(escape_truncates_whole)
{
	char small[6];

	/* The return value is the whole length (6), the buffer holds what
	 * fits with its NUL (5 bytes). */
	ck_assert_uint_eq(json_escape(small, sizeof small, "ab\ncd", 5), 6);
	ck_assert_str_eq(small, "ab\\nc");
	/* Never half an escape: "\\t" does not fit after "a". */
	ck_assert_uint_eq(json_escape(small, 3, "a\tb", 3), 4);
	ck_assert_str_eq(small, "a");
}
END_TEST

START_TEST(writer_nesting)
{
	struct json j;

	json_init(&j, 4096);
	json_obj_begin(&j);
	json_kv_str(&j, "name", "x\"y");
	json_kv_u64(&j, "n", 18446744073709551615ULL);
	json_key(&j, "list");
	json_arr_begin(&j);
	json_i64(&j, -5);
	json_bool(&j, 1);
	json_null(&j);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_str(&j, NULL);
	json_arr_end(&j);
	json_kv_bool(&j, "f", 0);
	json_obj_end(&j);
	ck_assert(json_ok(&j));
	ck_assert_str_eq(json_text(&j),
			 "{\"name\":\"x\\\"y\",\"n\":18446744073709551615,"
			 "\"list\":[-5,true,null,{},[],null],\"f\":false}");
	ck_assert_uint_eq(json_len(&j), strlen(json_text(&j)));
	json_free(&j);
}
END_TEST

START_TEST(writer_key_escaped)
{
	struct json j;

	json_init(&j, 4096);
	json_obj_begin(&j);
	json_kv_str(&j, "k\n\"", "\x01\xff");
	json_obj_end(&j);
	ck_assert(json_ok(&j));
	ck_assert_str_eq(json_text(&j), "{\"k\\n\\\"\":\"\\u0001\\ufffd\"}");
	json_free(&j);
}
END_TEST

START_TEST(writer_errors)
{
	struct json j;

	/* A value in an object without a key. */
	json_init(&j, 4096);
	json_obj_begin(&j);
	json_u64(&j, 1);
	ck_assert(!json_ok(&j));
	json_free(&j);
	/* A key in an array. */
	json_init(&j, 4096);
	json_arr_begin(&j);
	json_key(&j, "x");
	ck_assert(!json_ok(&j));
	json_free(&j);
	/* Mismatched close, unclosed. */
	json_init(&j, 4096);
	json_arr_begin(&j);
	json_obj_end(&j);
	ck_assert(!json_ok(&j));
	json_free(&j);
	json_init(&j, 4096);
	json_arr_begin(&j);
	ck_assert(!json_ok(&j));
	json_free(&j);
	/* A key with no value. */
	json_init(&j, 4096);
	json_obj_begin(&j);
	json_key(&j, "x");
	json_obj_end(&j);
	ck_assert(!json_ok(&j));
	json_free(&j);
}
END_TEST

START_TEST(writer_depth_and_size)
{
	struct json j;

	json_init(&j, 4096);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_arr_begin(&j);
	ck_assert(!j.err);
	json_arr_begin(&j);
	ck_assert(j.err);
	json_free(&j);

	json_init(&j, 10);
	json_str(&j, "0123456789");
	ck_assert(!json_ok(&j));
	json_free(&j);
	json_init(&j, 12);
	json_str(&j, "0123456789");
	ck_assert(json_ok(&j));
	ck_assert_str_eq(json_text(&j), "\"0123456789\"");
	json_free(&j);
}
END_TEST

START_TEST(writer_top_level_scalars)
{
	struct json j;

	json_init(&j, 64);
	json_strn(&j, "a\0b", 3);
	ck_assert(json_ok(&j));
	ck_assert_str_eq(json_text(&j), "\"a\\u0000b\"");
	json_free(&j);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *esc_tc = tcase_create("escape");
	TCase *wr_tc = tcase_create("writer");
	TCase *err_tc = tcase_create("errors");

	tcase_add_test(esc_tc, escape_quote_backslash);
	tcase_add_test(esc_tc, escape_control);
	tcase_add_test(esc_tc, escape_utf8_passthrough);
	tcase_add_test(esc_tc, escape_utf8_invalid);
	tcase_add_test(esc_tc, escape_truncates_whole);
	tcase_add_test(wr_tc, writer_nesting);
	tcase_add_test(wr_tc, writer_key_escaped);
	tcase_add_test(wr_tc, writer_top_level_scalars);
	tcase_add_test(err_tc, writer_errors);
	tcase_add_test(err_tc, writer_depth_and_size);
	suite_add_tcase(s, esc_tc);
	suite_add_tcase(s, wr_tc);
	suite_add_tcase(s, err_tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
