/* Unit tests for msgpipe/congestion.c: RTT, RTO, window and pacing. */
#include <check.h>

#include "congestion.h"

#define US 1000ULL
#define MS (1000ULL * 1000)
#define SEC (1000ULL * 1000 * 1000)

START_TEST(rtt_first_and_smoothed)
{
	struct cc c;

	cc_init(&c, 1 << 20, 0);
	ck_assert_uint_eq(cc_rto(&c), CC_RTO_INIT);
	cc_rtt_sample(&c, 100 * MS);
	ck_assert_uint_eq(c.srtt, 100 * MS);
	ck_assert_uint_eq(c.rttvar, 50 * MS);
	ck_assert_uint_eq(cc_rto(&c), CC_RTO_MAX < 300 * MS ? CC_RTO_MAX
							   : 300 * MS);
	cc_rtt_sample(&c, 200 * MS);
	/* rttvar = 3/4 * 50 + 1/4 * 100; srtt = 7/8 * 100 + 1/8 * 200 */
	ck_assert_uint_eq(c.rttvar, 62500 * US);
	ck_assert_uint_eq(c.srtt, 112500 * US);
	ck_assert_uint_eq(c.min_rtt, 100 * MS);
}
END_TEST

START_TEST(rto_floor_and_backoff)
{
	struct cc c;

	cc_init(&c, 1 << 20, 0);
	cc_rtt_sample(&c, 100 * US);
	ck_assert_uint_eq(cc_rto(&c), CC_RTO_MIN);
	cc_on_timeout(&c, 10);
	ck_assert_uint_eq(cc_rto(&c), 2 * CC_RTO_MIN);
	cc_on_timeout(&c, 11);
	ck_assert_uint_eq(cc_rto(&c), 4 * CC_RTO_MIN);
	for (int i = 0; i < 40; i++)
		cc_on_timeout(&c, 12);
	ck_assert_uint_eq(cc_rto(&c), CC_RTO_MAX);
	cc_rtt_sample(&c, 100 * US); /* a fresh sample ends the backoff */
	ck_assert_uint_eq(cc_rto(&c), CC_RTO_MIN);
}
END_TEST

START_TEST(slow_start_then_avoidance)
{
	struct cc c;

	cc_init(&c, 1 << 20, 0);
	ck_assert_uint_eq(c.cwnd, CC_INIT_CWND);
	cc_on_ack(&c, 4096);
	ck_assert_uint_eq(c.cwnd, CC_INIT_CWND + 4096);
	ck_assert_int_eq(cc_on_loss(&c, 5, 100), 1);
	ck_assert_uint_eq(c.cwnd, (CC_INIT_CWND + 4096) / 2);
	ck_assert_uint_eq(c.ssthresh, c.cwnd);
	/* same loss event: no second halving */
	ck_assert_int_eq(cc_on_loss(&c, 50, 101), 0);
	ck_assert_uint_eq(c.cwnd, (CC_INIT_CWND + 4096) / 2);
	/* congestion avoidance: one block per window acknowledged */
	{
		uint64_t w = c.cwnd;

		cc_on_ack(&c, w);
		ck_assert_uint_eq(c.cwnd, w + CC_BLOCK);
	}
	/* a loss sent after the reduction is a new event */
	ck_assert_int_eq(cc_on_loss(&c, 100, 200), 1);
	ck_assert_uint_eq(c.losses, 2);
}
END_TEST

START_TEST(window_limits)
{
	struct cc c;

	cc_init(&c, 64 * 1024, 0);
	for (int i = 0; i < 100; i++)
		cc_on_ack(&c, 8192);
	ck_assert_uint_eq(c.cwnd, 64 * 1024);
	for (int i = 0; i < 40; i++)
		cc_on_loss(&c, 1000 + (uint64_t)i * 10, 1000 + (uint64_t)i * 10 + 1);
	ck_assert_uint_eq(c.cwnd, CC_MIN_CWND);
	cc_on_timeout(&c, 5000);
	ck_assert_uint_eq(c.cwnd, CC_MIN_CWND);
	ck_assert_uint_ge(c.ssthresh, CC_MIN_CWND);
}
END_TEST

START_TEST(pacing_rate_floor)
{
	struct cc c;
	uint64_t r1, r2;

	cc_init(&c, 4 << 20, 0);
	c.ssthresh = c.cwnd; /* avoidance: 1.25 x cwnd / srtt */
	cc_rtt_sample(&c, 100 * US);
	r1 = cc_rate(&c);
	ck_assert_uint_eq(r1, CC_INIT_CWND * 5 / 4 * SEC / (100 * US));
	/* a tiny RTT is floored, so the rate stays finite */
	cc_init(&c, 4 << 20, 0);
	c.ssthresh = c.cwnd;
	cc_rtt_sample(&c, 1 * US);
	r2 = cc_rate(&c);
	ck_assert_uint_eq(r2, CC_INIT_CWND * 5 / 4 * SEC / CC_RTT_FLOOR);
	/* a 16 KiB window at 100 us is over 100 MB/s: loopback goes fast */
	ck_assert_uint_gt(r1, 100ULL * 1000 * 1000);
}
END_TEST

START_TEST(pacing_bucket)
{
	struct cc c;
	uint64_t t = 1000 * SEC, at;

	cc_init(&c, 4 << 20, t);
	c.ssthresh = c.cwnd;
	cc_rtt_sample(&c, 10 * MS); /* 16 KiB per 10 ms: ~2 MB/s */
	ck_assert(cc_can_send(&c, 0, 1088));
	while (cc_can_send(&c, 0, 1088))
		cc_sent(&c, 1088);
	ck_assert_uint_lt(c.credit, 1088);
	at = cc_pace_at(&c, t, 1088);
	ck_assert_uint_gt(at, t);
	ck_assert_uint_lt(at, t + 2 * MS);
	cc_refill(&c, at);
	ck_assert(cc_can_send(&c, 0, 1088));
	/* the window still limits what is in flight */
	ck_assert(!cc_can_send(&c, c.cwnd, 1));
	/* a long idle period refills no more than the bucket */
	cc_refill(&c, at + 100 * SEC);
	ck_assert_uint_le(c.credit, CC_BURST_MIN);
}
END_TEST

START_TEST(spurious_timeout_undone)
{
	struct cc c;

	cc_init(&c, 4 << 20, 0);
	cc_on_ack(&c, 100000);
	{
		uint64_t w = c.cwnd, th = c.ssthresh;

		cc_on_timeout(&c, 50);
		cc_mark_timeout(&c, 10 * SEC);
		ck_assert_uint_eq(c.cwnd, CC_MIN_CWND);
		/* an ack for something sent before the timeout: spurious */
		cc_check_undo(&c, 10 * SEC - 5 * MS);
		ck_assert_uint_eq(c.cwnd, w);
		ck_assert_uint_eq(c.ssthresh, th);
		ck_assert_uint_eq(c.undos, 1);
	}
	/* a real timeout: the first ack is for a retransmission */
	cc_on_timeout(&c, 60);
	cc_mark_timeout(&c, 20 * SEC);
	cc_check_undo(&c, 20 * SEC + MS);
	ck_assert_uint_eq(c.cwnd, CC_MIN_CWND);
	cc_check_undo(&c, 19 * SEC); /* too late: already decided */
	ck_assert_uint_eq(c.cwnd, CC_MIN_CWND);
	ck_assert_uint_eq(c.undos, 1);
}
END_TEST

static Suite *cc_suite(void)
{
	Suite *s = suite_create("msgpipe_congestion");
	TCase *rtt = tcase_create("rtt");
	TCase *win = tcase_create("window");

	tcase_add_test(rtt, rtt_first_and_smoothed);
	tcase_add_test(rtt, rto_floor_and_backoff);
	tcase_add_test(rtt, spurious_timeout_undone);
	tcase_add_test(win, slow_start_then_avoidance);
	tcase_add_test(win, window_limits);
	tcase_add_test(win, pacing_rate_floor);
	tcase_add_test(win, pacing_bucket);
	suite_add_tcase(s, rtt);
	suite_add_tcase(s, win);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
