/* Unit tests for msgpipe/message.c: the CurveCP message format. */
#include <check.h>
#include <string.h>

#include "bytes.h"
#include "message.h"

static struct msg sample(const uint8_t *data, uint16_t len)
{
	struct msg m;

	memset(&m, 0, sizeof m);
	m.id = 0x01020304;
	m.acked_id = 0xa0b0c0d0;
	m.range1 = 0x1122334455ULL;
	m.gap1 = 70000;
	for (int i = 0; i < 5; i++)
		m.range[i] = (uint16_t)(100 + i);
	for (int i = 0; i < 4; i++)
		m.gap[i] = (uint16_t)(7 + i);
	m.len = len;
	m.pos = 123456789;
	m.data = data;
	return m;
}

START_TEST(roundtrip_sizes)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 592, 1023, 1024 };
	uint8_t data[1024], out[MSG_MAX];

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
		struct msg m = sample(data, (uint16_t)lens[k]), d;
		size_t n = msg_encode(&m, out, sizeof out);

		ck_assert_uint_eq(n, msg_size(lens[k]));
		ck_assert_uint_eq(n % 16, 0);
		ck_assert_uint_ge(n, MSG_HEADER + lens[k]);
		ck_assert_uint_lt(n, MSG_HEADER + lens[k] + 16);
		ck_assert_int_eq(msg_decode(&d, out, n), MSG_OK);
		ck_assert_uint_eq(d.id, m.id);
		ck_assert_uint_eq(d.acked_id, m.acked_id);
		ck_assert_uint_eq(d.range1, m.range1);
		ck_assert_uint_eq(d.gap1, m.gap1);
		ck_assert_mem_eq(d.range, m.range, sizeof m.range);
		ck_assert_mem_eq(d.gap, m.gap, sizeof m.gap);
		ck_assert_uint_eq(d.len, m.len);
		ck_assert_uint_eq(d.pos, m.pos);
		ck_assert_int_eq(d.eof, MSG_EOF_NONE);
		if (lens[k])
			ck_assert_mem_eq(d.data, data, lens[k]);
		/* the data are the last bytes of the message */
		ck_assert_ptr_eq(d.data, out + n - lens[k]);
	}
}
END_TEST

START_TEST(layout_matches_curvecp)
{
	uint8_t out[MSG_MAX];
	struct msg m = sample((const uint8_t *)"abc", 3);

	m.eof = MSG_EOF_OK;
	ck_assert_uint_eq(msg_encode(&m, out, sizeof out), 64);
	ck_assert_uint_eq(le32_get(out), 0x01020304);
	ck_assert_uint_eq(le32_get(out + 4), 0xa0b0c0d0);
	ck_assert_uint_eq(le64_get(out + 8), 0x1122334455ULL);
	ck_assert_uint_eq(le32_get(out + 16), 70000);
	ck_assert_uint_eq(le16_get(out + 20), 100);
	ck_assert_uint_eq(le16_get(out + 22), 7);
	ck_assert_uint_eq(le16_get(out + 36), 104);
	ck_assert_uint_eq(le16_get(out + 38), 3 | 2048);
	ck_assert_uint_eq(le64_get(out + 40), 123456789);
	ck_assert_mem_eq(out + 61, "abc", 3);
	for (int i = 48; i < 61; i++)
		ck_assert_uint_eq(out[i], 0);
	m.eof = MSG_EOF_FAIL;
	msg_encode(&m, out, sizeof out);
	ck_assert_uint_eq(le16_get(out + 38), 3 | 4096);
}
END_TEST

START_TEST(frame_has_length_byte)
{
	uint8_t out[MSG_FRAME_MAX];
	uint8_t data[1024] = { 0 };
	struct msg m = sample(data, 1024);

	ck_assert_uint_eq(msg_encode_frame(&m, out, sizeof out), 1 + 1072);
	ck_assert_uint_eq(out[0], 67);
	m.len = 0;
	ck_assert_uint_eq(msg_encode_frame(&m, out, sizeof out), 49);
	ck_assert_uint_eq(out[0], 3);
	ck_assert_uint_eq(msg_encode_frame(&m, out, 48), 0);
}
END_TEST

START_TEST(encode_refuses)
{
	uint8_t out[MSG_MAX];
	uint8_t data[1100] = { 0 };
	struct msg m = sample(data, 1025);

	ck_assert_uint_eq(msg_encode(&m, out, sizeof out), 0);
	m.len = 100;
	ck_assert_uint_eq(msg_encode(&m, out, 100), 0);
}
END_TEST

static uint8_t good[MSG_MAX];
static size_t good_len;

static void make_good(uint16_t len)
{
	uint8_t data[1024] = { 1, 2, 3 };
	struct msg m = sample(data, len);

	m.range1 = 1000;
	good_len = msg_encode(&m, good, sizeof good);
	ck_assert_uint_gt(good_len, 0);
}

START_TEST(rejects_sizes)
{
	struct msg d;

	make_good(100);
	ck_assert_int_eq(msg_decode(&d, good, 0), MSG_ERR_SIZE);
	ck_assert_int_eq(msg_decode(&d, good, 32), MSG_ERR_SIZE);
	ck_assert_int_eq(msg_decode(&d, good, 47), MSG_ERR_SIZE);
	ck_assert_int_eq(msg_decode(&d, good, good_len - 1), MSG_ERR_SIZE);
	ck_assert_int_eq(msg_decode(&d, good, 1104), MSG_ERR_SIZE);
	ck_assert_int_eq(msg_decode(&d, good, 1089), MSG_ERR_SIZE);
}
END_TEST

START_TEST(rejects_datalen)
{
	struct msg d;

	make_good(0);
	le16_put(good + 38, 1025);
	ck_assert_int_eq(msg_decode(&d, good, 1088), MSG_ERR_DATALEN);
	le16_put(good + 38, 1);
	ck_assert_int_eq(msg_decode(&d, good, 48), MSG_ERR_DATALEN);
	le16_put(good + 38, 16);
	ck_assert_int_eq(msg_decode(&d, good, 64), MSG_OK);
	le16_put(good + 38, 17);
	ck_assert_int_eq(msg_decode(&d, good, 64), MSG_ERR_DATALEN);
	le16_put(good + 38, 1024);
	ck_assert_int_eq(msg_decode(&d, good, 1072), MSG_OK);
	ck_assert_int_eq(msg_decode(&d, good, 1056), MSG_ERR_DATALEN);
	le16_put(good + 38, 8192 | 5);
	ck_assert_int_eq(msg_decode(&d, good, 64), MSG_ERR_DATALEN);
}
END_TEST

START_TEST(rejects_flags)
{
	struct msg d;

	make_good(0);
	le16_put(good + 38, 2048 | 4096);
	ck_assert_int_eq(msg_decode(&d, good, 48), MSG_ERR_FLAGS);
	le16_put(good + 38, 4096);
	ck_assert_int_eq(msg_decode(&d, good, 48), MSG_OK);
	ck_assert_int_eq(d.eof, MSG_EOF_FAIL);
	le16_put(good + 38, 2048);
	ck_assert_int_eq(msg_decode(&d, good, 48), MSG_OK);
	ck_assert_int_eq(d.eof, MSG_EOF_OK);
}
END_TEST

START_TEST(rejects_positions)
{
	struct msg d;

	make_good(16);
	le64_put(good + 40, MSG_POS_LIMIT - 16);
	ck_assert_int_eq(msg_decode(&d, good, 64), MSG_OK);
	le64_put(good + 40, MSG_POS_LIMIT - 15);
	ck_assert_int_eq(msg_decode(&d, good, 64), MSG_ERR_POS);
	le64_put(good + 40, UINT64_MAX);
	ck_assert_int_eq(msg_decode(&d, good, 64), MSG_ERR_POS);
}
END_TEST

START_TEST(rejects_ranges)
{
	struct msg d;

	make_good(0);
	le64_put(good + 8, UINT64_MAX);
	ck_assert_int_eq(msg_decode(&d, good, 48), MSG_ERR_RANGES);
	le64_put(good + 8, MSG_POS_LIMIT);
	ck_assert_int_eq(msg_decode(&d, good, 48), MSG_ERR_RANGES);
	le64_put(good + 8, MSG_POS_LIMIT - 1000);
	le32_put(good + 16, 0);
	for (int i = 20; i < 38; i += 2)
		le16_put(good + i, 0);
	ck_assert_int_eq(msg_decode(&d, good, 48), MSG_OK);
	le32_put(good + 16, 999);
	le16_put(good + 20, 1);
	ck_assert_int_eq(msg_decode(&d, good, 48), MSG_OK);
	le16_put(good + 20, 2);
	ck_assert_int_eq(msg_decode(&d, good, 48), MSG_ERR_RANGES);
}
END_TEST

START_TEST(error_strings)
{
	for (int e = MSG_OK; e <= MSG_ERR_RANGES; e++)
		ck_assert_ptr_nonnull(msg_error_str((enum msg_error)e));
}
END_TEST

static Suite *message_suite(void)
{
	Suite *s = suite_create("msgpipe_message");
	TCase *core = tcase_create("core");
	TCase *errors = tcase_create("errors");

	tcase_add_test(core, roundtrip_sizes);
	tcase_add_test(core, layout_matches_curvecp);
	tcase_add_test(core, frame_has_length_byte);
	tcase_add_test(core, encode_refuses);
	tcase_add_test(errors, rejects_sizes);
	tcase_add_test(errors, rejects_datalen);
	tcase_add_test(errors, rejects_flags);
	tcase_add_test(errors, rejects_positions);
	tcase_add_test(errors, rejects_ranges);
	tcase_add_test(errors, error_strings);
	suite_add_tcase(s, core);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(message_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
