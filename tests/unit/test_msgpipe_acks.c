/* Unit tests for msgpipe/acks.c: received ranges and the six ack ranges. */
#include <check.h>
#include <string.h>

#include "acks.h"

START_TEST(rangeset_in_order)
{
	struct rangeset s;

	rangeset_init(&s);
	ck_assert_int_eq(rangeset_add(&s, 0, 100), 1);
	ck_assert_uint_eq(s.contig, 100);
	ck_assert_int_eq(rangeset_add(&s, 100, 200), 1);
	ck_assert_uint_eq(s.contig, 200);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(rangeset_add(&s, 50, 150), 0); /* duplicate */
	ck_assert_int_eq(rangeset_add(&s, 150, 250), 1); /* overlap */
	ck_assert_uint_eq(s.contig, 250);
	ck_assert_int_eq(rangeset_add(&s, 10, 10), 0);
}
END_TEST

START_TEST(rangeset_holes)
{
	struct rangeset s;

	rangeset_init(&s);
	ck_assert_int_eq(rangeset_add(&s, 300, 400), 1);
	ck_assert_int_eq(rangeset_add(&s, 100, 200), 1);
	ck_assert_int_eq(rangeset_add(&s, 500, 600), 1);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(s.r[0].start, 100);
	ck_assert_uint_eq(s.r[2].stop, 600);
	ck_assert_int_eq(rangeset_add(&s, 350, 380), 0);
	ck_assert_int_eq(rangeset_has(&s, 320, 400), 1);
	ck_assert_int_eq(rangeset_has(&s, 320, 401), 0);
	/* bridging two ranges merges them */
	ck_assert_int_eq(rangeset_add(&s, 150, 350), 1);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.r[0].start, 100);
	ck_assert_uint_eq(s.r[0].stop, 400);
	/* touching ranges merge too */
	ck_assert_int_eq(rangeset_add(&s, 400, 500), 1);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.r[0].stop, 600);
	/* filling the hole at 0 absorbs everything */
	ck_assert_int_eq(rangeset_add(&s, 0, 100), 1);
	ck_assert_uint_eq(s.contig, 600);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(rangeset_covering_add)
{
	struct rangeset s;

	rangeset_init(&s);
	rangeset_add(&s, 100, 110);
	rangeset_add(&s, 120, 130);
	rangeset_add(&s, 140, 150);
	ck_assert_int_eq(rangeset_add(&s, 90, 160), 1);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.r[0].start, 90);
	ck_assert_uint_eq(s.r[0].stop, 160);
}
END_TEST

START_TEST(rangeset_full)
{
	struct rangeset s;

	rangeset_init(&s);
	for (uint64_t i = 0; i < RANGESET_MAX; i++)
		ck_assert_int_eq(rangeset_add(&s, 10 + 10 * i, 15 + 10 * i), 1);
	ck_assert_uint_eq(s.n, RANGESET_MAX);
	ck_assert_int_eq(rangeset_add(&s, 5000, 5001), -1);
	ck_assert_uint_eq(s.n, RANGESET_MAX);
	/* extending an existing range still works */
	ck_assert_int_eq(rangeset_add(&s, 15, 17), 1);
	ck_assert_int_eq(rangeset_add(&s, 0, 20), 1);
	/* [0,20) touches [20,25): both fold into the prefix */
	ck_assert_uint_eq(s.contig, 25);
	ck_assert_uint_eq(s.n, RANGESET_MAX - 2);
}
END_TEST

START_TEST(fill_six_ranges)
{
	struct rangeset s;
	struct msg m;
	struct range r[ACKS_MAX_RANGES];
	size_t n;

	rangeset_init(&s);
	rangeset_add(&s, 0, 1000);
	for (uint64_t i = 0; i < 7; i++)
		rangeset_add(&s, 2000 + 1000 * i, 2500 + 1000 * i);
	memset(&m, 0, sizeof m);
	acks_fill(&m, s.contig, &s);
	ck_assert_uint_eq(m.range1, 1000);
	ck_assert_uint_eq(m.gap1, 1000);
	ck_assert_uint_eq(m.range[0], 500);
	ck_assert_uint_eq(m.gap[0], 500);
	n = acks_ranges(&m, r);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(r[0].start, 0);
	ck_assert_uint_eq(r[0].stop, 1000);
	for (size_t i = 1; i < 6; i++) {
		ck_assert_uint_eq(r[i].start, 1000 + 1000 * i);
		ck_assert_uint_eq(r[i].stop, 1500 + 1000 * i);
		ck_assert(rangeset_has(&s, r[i].start, r[i].stop));
	}
}
END_TEST

START_TEST(fill_splits_long_range)
{
	struct rangeset s;
	struct msg m;
	struct range r[ACKS_MAX_RANGES];
	size_t n;

	rangeset_init(&s);
	rangeset_add(&s, 1024, 1024 + 200000);
	memset(&m, 0, sizeof m);
	acks_fill(&m, 0, &s);
	n = acks_ranges(&m, r);
	ck_assert_uint_eq(m.range1, 0);
	/* on the wire: four pieces with zero gaps */
	ck_assert_uint_eq(m.gap1, 1024);
	ck_assert_uint_eq(m.range[0], 65535);
	ck_assert_uint_eq(m.gap[0], 0);
	ck_assert_uint_eq(m.range[3], 200000 - 3 * 65535);
	/* read back: one range again, so no block is cut by a split */
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(r[0].start, 1024);
	ck_assert_uint_eq(r[0].stop, 1024 + 200000);
	ck_assert(rangeset_has(&s, r[0].start, r[0].stop));
}
END_TEST

START_TEST(fill_stops_at_big_gap)
{
	struct rangeset s;
	struct msg m;
	struct range r[ACKS_MAX_RANGES];

	rangeset_init(&s);
	rangeset_add(&s, 0, 10);
	rangeset_add(&s, 100000, 100010);  /* gap fits u32 */
	rangeset_add(&s, 300000, 300010);  /* gap too big for u16 */
	memset(&m, 0, sizeof m);
	acks_fill(&m, s.contig, &s);
	ck_assert_uint_eq(acks_ranges(&m, r), 2);
	ck_assert_uint_eq(r[1].start, 100000);
}
END_TEST

START_TEST(fill_eof_marker)
{
	struct rangeset s;
	struct msg m;

	rangeset_init(&s);
	rangeset_add(&s, 0, 10);
	memset(&m, 0, sizeof m);
	acks_fill(&m, 11, &s);
	ck_assert_uint_eq(m.range1, 11);
	ck_assert_uint_eq(m.range[0], 0);
}
END_TEST

START_TEST(ranges_skip_empty)
{
	struct msg m;
	struct range r[ACKS_MAX_RANGES];

	memset(&m, 0, sizeof m);
	ck_assert_uint_eq(acks_ranges(&m, r), 0);
	m.gap1 = 10;
	m.range[2] = 5;
	m.gap[1] = 3;
	ck_assert_uint_eq(acks_ranges(&m, r), 1);
	ck_assert_uint_eq(r[0].start, 13);
	ck_assert_uint_eq(r[0].stop, 18);
}
END_TEST

static Suite *acks_suite(void)
{
	Suite *s = suite_create("msgpipe_acks");
	TCase *set = tcase_create("rangeset");
	TCase *wire = tcase_create("ranges");

	tcase_add_test(set, rangeset_in_order);
	tcase_add_test(set, rangeset_holes);
	tcase_add_test(set, rangeset_covering_add);
	tcase_add_test(set, rangeset_full);
	tcase_add_test(wire, fill_six_ranges);
	tcase_add_test(wire, fill_splits_long_range);
	tcase_add_test(wire, fill_stops_at_big_gap);
	tcase_add_test(wire, fill_eof_marker);
	tcase_add_test(wire, ranges_skip_empty);
	suite_add_tcase(s, set);
	suite_add_tcase(s, wire);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(acks_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
