/*
 * The secure layer's data frames after a good handshake: flipped,
 * reflected, reordered, replayed, truncated, oversized frames and data
 * after FINAL are errors, never altered or extra data. The wire harness is
 * in support_secure.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "support_secure.h"

/* Flipped bytes in data frames, either way: an error, never altered data. */
START_TEST(test_flip_frames)
{
	uint8_t data[3000];

	randombytes_buf(data, sizeof data);
	for (int dir = 0; dir < 2; dir++)
		for (size_t i = 0; i < sizeof data + 3 * SECURE_FRAME_OVERHEAD;
		     i += 5) {
			struct sect_wire *w = sect_new();
			struct secure *to;
			size_t got;
			int rc;

			sect_handshake(w);
			ck_assert(sect_ready(w));
			to = dir ? w->c.s : w->s.s;
			w->flip_at[dir] = (long)(w->moved[dir] + i);
			/* three frames of 1000 bytes, then FINAL */
			rc = sect_send(w, dir, data, 1000, 0, &got);
			if (rc != SECURE_ERROR)
				rc = sect_send(w, dir, data + 1000, 1000, 0,
					       &got);
			if (rc != SECURE_ERROR)
				rc = sect_send(w, dir, data + 2000, 1000, 1,
					       &got);
			ck_assert_msg(rc != SECURE_READY,
				      "dir %d flip at %zu unnoticed", dir, i);
			ck_assert(!secure_closed_in(to));
			sect_free(w);
		}
}
END_TEST

/* A server's frames sent back to it do not decrypt (one key per way). */
START_TEST(test_reflection)
{
	struct sect_wire *w = sect_new();

	sect_handshake(w);
	ck_assert(sect_ready(w));
	buf_append(&w->s.pout, "reflect me", 10);
	secure_seal(w->s.s, &w->s.pout, &w->s.out);
	buf_append(&w->s.in, buf_data(&w->s.out), buf_len(&w->s.out));
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	ck_assert_uint_eq(buf_len(&w->s.pin), 0);
	sect_free(w);
}
END_TEST

static void seal_two(struct sect_wire *w, uint8_t *f, size_t *n1, size_t *n2)
{
	buf_append(&w->c.pout, "first", 5);
	secure_seal(w->c.s, &w->c.pout, &w->c.out);
	*n1 = buf_len(&w->c.out);
	buf_append(&w->c.pout, "second", 6);
	secure_seal(w->c.s, &w->c.pout, &w->c.out);
	*n2 = buf_len(&w->c.out) - *n1;
	memcpy(f, buf_data(&w->c.out), *n1 + *n2);
	buf_clear(&w->c.out);
}

START_TEST(test_reorder_and_replay_frames)
{
	struct sect_wire *w = sect_new();
	uint8_t f[256];
	size_t n1, n2;

	sect_handshake(w);
	ck_assert(sect_ready(w));
	seal_two(w, f, &n1, &n2);
	buf_append(&w->s.in, f + n1, n2); /* second first */
	buf_append(&w->s.in, f, n1);
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	ck_assert_uint_eq(buf_len(&w->s.pin), 0);
	sect_free(w);

	w = sect_new();
	sect_handshake(w);
	seal_two(w, f, &n1, &n2);
	buf_append(&w->s.in, f, n1);
	buf_append(&w->s.in, f, n1); /* replayed */
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	ck_assert_uint_eq(buf_len(&w->s.pin), 5);
	sect_free(w);
}
END_TEST

START_TEST(test_truncation)
{
	struct sect_wire *w = sect_new();
	uint8_t data[5000];
	size_t got;

	randombytes_buf(data, sizeof data);
	sect_handshake(w);
	ck_assert(sect_ready(w));
	/* everything but FINAL: open() never says READY */
	ck_assert_int_eq(sect_send(w, 0, data, sizeof data, 0, &got),
			 SECURE_AGAIN);
	ck_assert_uint_eq(got, sizeof data);
	ck_assert(!secure_closed_in(w->s.s));
	/* FINAL cut short by one byte: still not closed */
	secure_close(w->c.s, &w->c.out);
	ck_assert(secure_closed_out(w->c.s));
	buf_append(&w->s.in, buf_data(&w->c.out), buf_len(&w->c.out) - 1);
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_AGAIN);
	ck_assert(!secure_closed_in(w->s.s));
	sect_free(w);
}
END_TEST

START_TEST(test_oversized_frame)
{
	struct sect_wire *w = sect_new();
	/* only the length: refused before any body arrives */
	uint8_t len[4] = { 0, 1, 0, 0x12 }; /* 65536 + 17 + 1 */

	sect_handshake(w);
	ck_assert(sect_ready(w));
	buf_append(&w->s.in, len, sizeof len);
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(w->s.s), "oversized"), "%s",
		      secure_error(w->s.s));
	sect_free(w);

	/* a server configured for 4096-byte frames refuses 4097 */
	w = sect_new();
	secure_free(w->s.s);
	w->s.s = secure_server_new(&w->srv_id, sect_lookup, w, 4096);
	sect_handshake(w);
	ck_assert(sect_ready(w));
	len[0] = 0;
	len[1] = 0;
	len[2] = 0x10;
	len[3] = 0x12;
	buf_append(&w->s.in, len, sizeof len);
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	/* and a frame shorter than its tag */
	sect_free(w);
	w = sect_new();
	sect_handshake(w);
	memset(len, 0, sizeof len);
	buf_append(&w->c.in, len, sizeof len);
	ck_assert_int_eq(secure_open(w->c.s, &w->c.in, &w->c.pin),
			 SECURE_ERROR);
	sect_free(w);
}
END_TEST

START_TEST(test_data_after_final)
{
	struct sect_wire *w = sect_new();
	size_t got;

	sect_handshake(w);
	ck_assert_int_eq(sect_send(w, 0, (const uint8_t *)"ab", 2, 1, &got),
			 SECURE_READY);
	buf_append(&w->s.in, "more", 4);
	ck_assert_int_eq(secure_open(w->s.s, &w->s.in, &w->s.pin),
			 SECURE_ERROR);
	sect_free(w);
}
END_TEST

static Suite *frames_suite(void)
{
	Suite *s = suite_create("secure_frames");
	TCase *frames = tcase_create("frames");

	tcase_set_timeout(frames, 60);
	tcase_add_test(frames, test_flip_frames);
	tcase_add_test(frames, test_reflection);
	tcase_add_test(frames, test_reorder_and_replay_frames);
	tcase_add_test(frames, test_truncation);
	tcase_add_test(frames, test_oversized_frame);
	tcase_add_test(frames, test_data_after_final);
	suite_add_tcase(s, frames);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(frames_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
