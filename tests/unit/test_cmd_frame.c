/*
 * Unit tests for the cmd protocol's frame codec (handler/cmd/cmd_frame.c):
 * headers, request bodies and the fixed frames, each way, well formed and
 * not; and how handler-client reads numbers out of CAPS. The module itself
 * is driven in test_cmd_module.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bytes.h"
#include "client.h"
#include "cmd_frame.h"
#include "log.h"

static const struct cmd_req_limits lim = { 8, 16 };

/* Builds a REQUEST body by hand: flags, argc, then (len, bytes) pairs. */
static size_t body(uint8_t *b, uint8_t flags, uint32_t argc,
		   const char *const *args, const uint32_t *lens)
{
	size_t n = 0;

	b[n++] = flags;
	be32_put(b + n, argc);
	n += 4;
	for (uint32_t i = 0; args && args[i]; i++) {
		uint32_t len = lens ? lens[i] : (uint32_t)strlen(args[i]);

		be32_put(b + n, len);
		n += 4;
		memcpy(b + n, args[i], len);
		n += len;
	}
	return n;
}

static int parse(const uint8_t *b, size_t n, const char **why)
{
	struct cmd_request rq;
	int r = cmd_request_parse(&rq, b, n, &lim, why);

	if (r == 0)
		cmd_request_free(&rq);
	return r;
}

START_TEST(header_roundtrip)
{
	uint8_t b[CMD_HDR_LEN];
	struct cmd_hdr h;

	cmd_hdr_encode(b, CMD_STDOUT, 0x01020304, 0xa0b0c0d0);
	ck_assert_uint_eq(b[0], CMD_STDOUT);
	ck_assert_uint_eq(b[1], 1);
	ck_assert_uint_eq(b[8], 0xd0);
	for (size_t n = 0; n < CMD_HDR_LEN; n++)
		ck_assert_int_eq(cmd_hdr_decode(b, n, &h), CMD_FRAME_AGAIN);
	ck_assert_int_eq(cmd_hdr_decode(b, sizeof b, &h), CMD_FRAME_OK);
	ck_assert_uint_eq(h.type, CMD_STDOUT);
	ck_assert_uint_eq(h.id, 0x01020304);
	ck_assert_uint_eq(h.len, 0xa0b0c0d0);
}
END_TEST

START_TEST(types_by_direction)
{
	for (unsigned t = 0; t < 256; t++) {
		int c = t >= CMD_REQUEST && t <= CMD_VERSION;
		int s = t >= CMD_CAPS && t <= CMD_AGREED;

		ck_assert_int_eq(cmd_type_from_client((uint8_t)t), c);
		ck_assert_int_eq(cmd_type_from_server((uint8_t)t), s);
	}
	ck_assert_str_eq(cmd_type_name(CMD_REQUEST), "REQUEST");
	ck_assert_str_eq(cmd_type_name(0x7f), "unknown");
}
END_TEST

START_TEST(request_roundtrip)
{
	char *argv[] = { "echo", "", "two words", "x\ty", NULL };
	struct cmd_request rq;
	struct cmd_hdr h;
	struct buf out;
	const char *why = NULL;

	ck_assert_int_eq(buf_init(&out, 256), 0);
	ck_assert_int_eq(cmd_put_request(&out, 7, CMD_REQ_PAYLOAD, 4, argv), 0);
	ck_assert_int_eq(cmd_hdr_decode(buf_data(&out), buf_len(&out), &h),
			 CMD_FRAME_OK);
	ck_assert_uint_eq(h.type, CMD_REQUEST);
	ck_assert_uint_eq(h.id, 7);
	ck_assert_uint_eq(h.len, buf_len(&out) - CMD_HDR_LEN);
	ck_assert_uint_eq(h.len, cmd_request_body_len(4, argv));
	ck_assert_int_eq(cmd_request_parse(&rq, buf_data(&out) + CMD_HDR_LEN,
					   h.len, &lim, &why), 0);
	ck_assert_uint_eq(rq.flags, CMD_REQ_PAYLOAD);
	ck_assert_uint_eq(rq.argc, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_str_eq(rq.argv[i], argv[i]);
	ck_assert_ptr_null(rq.argv[4]);
	cmd_request_free(&rq);
	buf_free(&out);
}
END_TEST

START_TEST(request_malformed)
{
	static const char *const one[] = { "ls", NULL };
	static const char *const nul[] = { "ls", "a\0b", NULL };
	static const uint32_t nul_len[] = { 2, 3 };
	uint8_t b[512] = { 0 };
	const char *why;
	size_t n;

	/* Empty, truncated header fields. */
	ck_assert_int_eq(parse(b, 0, &why), CMD_E_INVALID);
	n = body(b, 0, 1, one, NULL);
	for (size_t k = 0; k < n; k++)
		ck_assert_int_eq(parse(b, k, &why), CMD_E_INVALID);
	ck_assert_int_eq(parse(b, n, &why), 0);
	/* Trailing bytes. */
	b[n] = 'x';
	ck_assert_int_eq(parse(b, n + 1, &why), CMD_E_INVALID);
	ck_assert_str_eq(why, "trailing bytes after the arguments");
	/* Unknown flags. */
	n = body(b, 0x02, 1, one, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	/* No command. */
	n = body(b, 0, 0, NULL, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	/* Embedded NUL. */
	n = body(b, 0, 2, nul, nul_len);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	ck_assert_str_eq(why, "NUL byte in an argument");
	/* argc larger than the entries present. */
	n = body(b, 0, 2, one, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	/* argc fewer than the entries present: trailing bytes. */
	n = body(b, 0, 1, nul, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	/* A length running past the body. */
	n = body(b, 0, 1, one, NULL);
	be32_put(b + 5, 3);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	be32_put(b + 5, 0xffffffffU);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_LIMIT);
	/* Empty command name. */
	{
		static const char *const empty[] = { "", NULL };

		n = body(b, 0, 1, empty, NULL);
		ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	}
}
END_TEST

START_TEST(request_limits)
{
	static const char *const nine[] = {
		"a", "b", "c", "d", "e", "f", "g", "h", "i", NULL
	};
	static const char *const eight[] = {
		"a", "b", "c", "d", "e", "f", "g", "h", NULL
	};
	static const char *const longarg[] = { "ls", "0123456789abcdefX", NULL };
	static const char *const maxarg[] = { "ls", "0123456789abcdef", NULL };
	uint8_t b[512] = { 0 };
	const char *why;
	size_t n;

	n = body(b, 0, 9, nine, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_LIMIT);
	ck_assert_str_eq(why, "too many arguments");
	n = body(b, 0, 8, eight, NULL);
	ck_assert_int_eq(parse(b, n, &why), 0);
	n = body(b, 0, 2, longarg, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_LIMIT);
	ck_assert_str_eq(why, "argument too long");
	n = body(b, 0, 2, maxarg, NULL);
	ck_assert_int_eq(parse(b, n, &why), 0);
	/* A huge argc with a short body is refused before any allocation. */
	n = body(b, 0, 0xffffffffU, NULL, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_LIMIT);
	{
		struct cmd_req_limits big = { 0xffffffffU, 16 };
		struct cmd_request rq;

		ck_assert_int_eq(cmd_request_parse(&rq, b, n, &big, &why),
				 CMD_E_INVALID);
	}
}
END_TEST

START_TEST(fixed_frames)
{
	struct buf out;
	struct cmd_hdr h;
	const uint8_t *text, *p;
	size_t tlen;
	uint32_t v, chunk;
	uint8_t kind, code;
	int final;

	ck_assert_int_eq(buf_init(&out, 4096), 0);
	ck_assert_int_eq(cmd_put_exit(&out, 3, CMD_EXIT_SIGNAL, 9), 0);
	ck_assert_int_eq(cmd_put_error(&out, 4, CMD_E_PERM, 1, "no"), 0);
	ck_assert_int_eq(cmd_put_window(&out, 5, 1000, 64), 0);

	p = buf_data(&out);
	cmd_hdr_decode(p, CMD_HDR_LEN, &h);
	ck_assert_uint_eq(h.type, CMD_EXIT);
	ck_assert_int_eq(cmd_exit_parse(p + CMD_HDR_LEN, h.len, &kind, &v), 0);
	ck_assert_uint_eq(kind, CMD_EXIT_SIGNAL);
	ck_assert_uint_eq(v, 9);
	ck_assert_int_eq(cmd_exit_parse(p + CMD_HDR_LEN, h.len - 1, &kind, &v), -1);
	p += CMD_HDR_LEN + h.len;

	cmd_hdr_decode(p, CMD_HDR_LEN, &h);
	ck_assert_uint_eq(h.type, CMD_ERROR);
	ck_assert_uint_eq(h.id, 4);
	ck_assert_int_eq(cmd_error_parse(p + CMD_HDR_LEN, h.len, &code, &final,
					 &text, &tlen), 0);
	ck_assert_uint_eq(code, CMD_E_PERM);
	ck_assert_int_eq(final, 1);
	ck_assert_uint_eq(tlen, 2);
	ck_assert(memcmp(text, "no", 2) == 0);
	p += CMD_HDR_LEN + h.len;

	cmd_hdr_decode(p, CMD_HDR_LEN, &h);
	ck_assert_uint_eq(h.type, CMD_WINDOW);
	ck_assert_int_eq(cmd_window_parse(p + CMD_HDR_LEN, h.len, &v, &chunk), 0);
	ck_assert_uint_eq(v, 1000);
	ck_assert_uint_eq(chunk, 64);
	ck_assert_int_eq(cmd_window_parse(p + CMD_HDR_LEN, h.len + 1, &v,
					  &chunk), -1);
	buf_free(&out);
}
END_TEST

START_TEST(fixed_frames_malformed)
{
	static const uint8_t bad_kind[] = { 2, 0, 0, 0, 0 };
	static const uint8_t bad_code[] = { 0, 0, 'x' };
	static const uint8_t bad_code2[] = { 7, 0, 'x' };
	static const uint8_t bad_flags[] = { 1, 2, 'x' };
	static const uint8_t nul_text[] = { 1, 1, 'a', 0, 'b' };
	static const uint8_t zero_chunk[] = { 0, 0, 0, 1, 0, 0, 0, 0 };
	const uint8_t *text;
	size_t tlen;
	uint32_t v, c;
	uint8_t k;
	int f;

	ck_assert_int_eq(cmd_exit_parse(bad_kind, 5, &k, &v), -1);
	ck_assert_int_eq(cmd_error_parse(bad_code, 3, &k, &f, &text, &tlen), -1);
	ck_assert_int_eq(cmd_error_parse(bad_code2, 3, &k, &f, &text, &tlen), -1);
	ck_assert_int_eq(cmd_error_parse(bad_flags, 3, &k, &f, &text, &tlen), -1);
	ck_assert_int_eq(cmd_error_parse(nul_text, 5, &k, &f, &text, &tlen), -1);
	ck_assert_int_eq(cmd_error_parse(bad_code, 1, &k, &f, &text, &tlen), -1);
	ck_assert_int_eq(cmd_window_parse(zero_chunk, 8, &v, &c), -1);
	ck_assert_int_eq(cmd_window_parse(zero_chunk, 7, &v, &c), -1);
}
END_TEST

START_TEST(put_without_room)
{
	struct buf out;
	char *argv[] = { "ping", NULL };

	ck_assert_int_eq(buf_init(&out, CMD_HDR_LEN + 3), 0);
	ck_assert_int_eq(cmd_put_frame(&out, CMD_STDOUT, 1, "abcd", 4), -1);
	ck_assert_uint_eq(buf_len(&out), 0);
	ck_assert_int_eq(cmd_put_exit(&out, 1, 0, 0), -1);
	ck_assert_int_eq(cmd_put_request(&out, 1, 0, 1, argv), -1);
	ck_assert_uint_eq(buf_len(&out), 0);
	ck_assert_int_eq(cmd_put_frame(&out, CMD_STDOUT, 1, "abc", 3), 0);
	ck_assert_uint_eq(buf_len(&out), CMD_HDR_LEN + 3);
	buf_free(&out);
}
END_TEST

/* The client reads two numbers out of CAPS without a JSON parser. */
START_TEST(client_caps_numbers)
{
	static const char caps[] =
		"{\"protocol\":\"handler-cmd\",\"version\":1,\"limits\":"
		"{\"max_frame\":65536,\"max_requests\":16}}";
	const uint8_t *p = (const uint8_t *)caps;

	ck_assert_uint_eq(client_caps_number(p, sizeof caps - 1, "version", 0), 1);
	ck_assert_uint_eq(client_caps_number(p, sizeof caps - 1, "max_requests",
					     1), 16);
	ck_assert_uint_eq(client_caps_number(p, sizeof caps - 1, "missing", 7), 7);
	/* Cut in the middle of the number: only the digits present. */
	ck_assert_uint_eq(client_caps_number(p, 37, "version", 0), 1);
	ck_assert_uint_eq(client_caps_number(p, 36, "version", 9), 9);
	ck_assert_int_eq(client_caps_check(p, sizeof caps - 1), 0);
	ck_assert_int_eq(client_caps_check((const uint8_t *)"{\"version\":2}",
					   13), -1);
	ck_assert_uint_eq(client_caps_number((const uint8_t *)
					     "\"v\":99999999999999999999", 24,
					     "v", 5), 5);
}
END_TEST

static Suite *cmd_frame_suite(void)
{
	Suite *s = suite_create("cmd_frame");
	TCase *core = tcase_create("core");
	TCase *errors = tcase_create("errors");

	tcase_add_test(core, header_roundtrip);
	tcase_add_test(core, types_by_direction);
	tcase_add_test(core, request_roundtrip);
	tcase_add_test(core, fixed_frames);
	tcase_add_test(errors, request_malformed);
	tcase_add_test(errors, request_limits);
	tcase_add_test(errors, fixed_frames_malformed);
	tcase_add_test(errors, put_without_room);
	tcase_add_test(core, client_caps_numbers);
	suite_add_tcase(s, core);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cmd_frame_suite());
	int failures;

	log_init("test_cmd_frame");
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
