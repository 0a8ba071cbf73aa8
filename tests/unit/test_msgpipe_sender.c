/*
 * msgpipe/sender.c's retransmission decisions, on a sender alone with a
 * fake clock: a spurious timeout is undone, the first hole goes first
 * after a timeout, and a stalled window gets one tail retransmission.
 */
#include <check.h>
#include <string.h>

#include "log.h"
#include "sender.h"

#define MS (1000ULL * 1000)
#define SEC (1000ULL * 1000 * 1000)

START_TEST(spurious_timeout_restores_blocks)
{
	struct sender snd;
	struct iovec iov[2];
	uint8_t buf[MSG_DATA_MAX];
	struct msg m, ack;
	uint64_t t = 1000 * SEC;
	uint32_t len;
	int k;

	ck_assert_int_eq(sender_init(&snd, 256 * 1024, t), 0);
	k = sendq_space(&snd.q, iov);
	ck_assert_int_gt(k, 0);
	memset(iov[0].iov_base, 'z', 10 * 1024);
	sendq_commit(&snd.q, 10 * 1024);
	for (uint32_t id = 1; id <= 10; id++) {
		ck_assert(sender_peek(&snd, 1024, &len));
		sender_take(&snd, 1024, t, id, &m, buf);
	}
	ck_assert_uint_eq(snd.inflight, 10 * 1024);
	ck_assert(sender_check_rto(&snd, t + CC_RTO_INIT));
	ck_assert_uint_eq(snd.inflight, 0);
	ck_assert_uint_eq(snd.cc.cwnd, CC_MIN_CWND);
	/* the acks were only late: one answers message 5, sent before */
	memset(&ack, 0, sizeof ack);
	ack.acked_id = 5;
	ack.range1 = 5 * 1024;
	sender_on_ack(&snd, &ack, t + CC_RTO_INIT + MS);
	ck_assert_uint_eq(snd.cc.undos, 1);
	ck_assert_uint_gt(snd.cc.cwnd, CC_MIN_CWND);
	ck_assert_uint_eq(snd.inflight, 5 * 1024);
	/* nothing is resent in a burst */
	ck_assert(!sender_peek(&snd, 1024, &len));
	ck_assert_uint_eq(snd.retransmits, 0);
	sender_free(&snd);
}
END_TEST

/*
 * 20 blocks sent 1 ms apart; block 0 is lost, the peer acks 1..9
 * selectively (10..19 lie beyond what its six ranges can report), and the
 * retransmission of block 0, sent at t + 23 ms, vanishes too. Returns the
 * next message id.
 */
static uint32_t lost_hole_setup(struct sender *snd, uint64_t t)
{
	struct iovec iov[2];
	uint8_t buf[MSG_DATA_MAX];
	struct msg m, ack;
	uint32_t len, id = 1;

	ck_assert_int_eq(sender_init(snd, 256 * 1024, t), 0);
	ck_assert_int_gt(sendq_space(&snd->q, iov), 0);
	memset(iov[0].iov_base, 'h', 20 * 1024);
	sendq_commit(&snd->q, 20 * 1024);
	snd->cc.cwnd = 64 * 1024;
	for (int i = 0; i < 20; i++) {
		ck_assert(sender_peek(snd, 1024, &len));
		sender_take(snd, 1024, t + (uint64_t)i * MS, id++, &m, buf);
	}
	memset(&ack, 0, sizeof ack);
	ack.acked_id = 10;
	ack.gap1 = 1024;
	ack.range[0] = 9 * 1024;
	sender_on_ack(snd, &ack, t + 22 * MS);
	ck_assert_uint_eq(snd->blk[0].lost, 1);
	ck_assert(sender_peek(snd, 1024, &len));
	sender_take(snd, 1024, t + 23 * MS, id++, &m, buf);
	ck_assert_uint_eq(m.pos, 0);
	return id;
}

START_TEST(timeout_resends_first_hole_first)
{
	struct sender snd;
	uint8_t buf[MSG_DATA_MAX];
	struct msg m;
	uint64_t t = 1000 * SEC;
	uint32_t len, id = lost_hole_setup(&snd, t);

	/* the timeout resends the hole before the older blocks 10..19 */
	ck_assert(sender_check_rto(&snd, t + 10 * SEC));
	ck_assert(sender_peek(&snd, 1024, &len));
	sender_take(&snd, 1024, t + 10 * SEC, id++, &m, buf);
	ck_assert_uint_eq(m.pos, 0);
	ck_assert(sender_peek(&snd, 1024, &len));
	sender_take(&snd, 1024, t + 10 * SEC, id++, &m, buf);
	ck_assert_uint_eq(m.pos, 10 * 1024);
	sender_free(&snd);
}
END_TEST

/*
 * The window is full of blocks the peer cannot report (beyond its six
 * ranges) and the hole's retransmission was lost: instead of waiting for
 * the RTO, one tail retransmission of the hole goes out past the window,
 * once per stall.
 */
START_TEST(tail_retransmission_fills_the_hole)
{
	struct sender snd;
	uint8_t buf[MSG_DATA_MAX];
	struct msg m;
	uint64_t t = 1000 * SEC;
	uint32_t len, id = lost_hole_setup(&snd, t);

	ck_assert_uint_gt(sender_tail_at(&snd), t + 23 * MS);
	/* before the tail timeout nothing happens */
	ck_assert_int_eq(sender_check_tail(&snd, t + 24 * MS), 0);
	ck_assert(sender_check_tail(&snd, t + 500 * MS));
	ck_assert(snd.tail_force);
	ck_assert(sender_peek(&snd, 1024, &len));
	sender_take(&snd, 1024, t + 500 * MS, id++, &m, buf);
	ck_assert_uint_eq(m.pos, 0);
	ck_assert(!snd.tail_force);
	/* once per stall: no progress, no second one */
	ck_assert_int_eq(sender_check_tail(&snd, t + 900 * MS), 0);
	sender_free(&snd);
}
END_TEST

static Suite *sender_suite(void)
{
	Suite *s = suite_create("msgpipe_sender");
	TCase *net = tcase_create("network");

	tcase_set_timeout(net, 60);
	tcase_add_test(net, spurious_timeout_restores_blocks);
	tcase_add_test(net, timeout_resends_first_hole_first);
	tcase_add_test(net, tail_retransmission_fills_the_hole);
	suite_add_tcase(s, net);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	log_init("test_msgpipe_sender");
	log_set_level(LOG_FATAL);
	sr = srunner_create(sender_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
