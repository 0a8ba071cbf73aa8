/*
 * msgpipe/engine.c end to end: two engines move both streams through the
 * simulated link, clean and lossy, and end them the way the children did;
 * a peer that vanishes or idles is given up in time; a child that closes
 * its input or stops reading holds up only its own direction. The
 * harness is in support_msgpipe_engine.c.
 */
#include <check.h>
#include <string.h>

#include "log.h"
#include "support_msgpipe_engine.h"

#define MS (1000ULL * 1000)
#define SEC (1000ULL * 1000 * 1000)

static void check_transfer(struct engt_sim *m)
{
	ck_assert_uint_eq(m->s[1].got, m->s[0].src_len);
	ck_assert_uint_eq(m->s[0].got, m->s[1].src_len);
	ck_assert(memcmp(m->s[1].dst, m->s[0].src, m->s[0].src_len) == 0);
	ck_assert(memcmp(m->s[0].dst, m->s[1].src, m->s[1].src_len) == 0);
}

START_TEST(clean_transfer)
{
	struct engt_sim m;

	engt_init(&m, 300000, 200000);
	ck_assert_int_eq(engt_run(&m, 10 * SEC), 1);
	check_transfer(&m);
	ck_assert_int_eq(engine_peer_eof(&m.s[0].e), MSG_EOF_OK);
	ck_assert_int_eq(engine_peer_eof(&m.s[1].e), MSG_EOF_OK);
	ck_assert_uint_eq(m.s[0].e.snd.retransmits, 0);
	/* acks are coalesced and piggy-backed: far fewer than data */
	ck_assert_uint_lt(m.s[1].e.acks_out, m.s[0].e.msgs_out / 2);
	/* within a round trip or two each side learns that the other has
	 * its final acks (done probes), so neither lingers */
	{
		uint64_t end = m.now + 50 * MS;

		while (m.now < end && !(engine_may_exit(&m.s[0].e, m.now) &&
					engine_may_exit(&m.s[1].e, m.now)))
			engt_step(&m);
		ck_assert(engine_may_exit(&m.s[0].e, m.now));
		ck_assert(engine_may_exit(&m.s[1].e, m.now));
	}
	engt_free(&m);
}
END_TEST

START_TEST(empty_streams)
{
	struct engt_sim m;

	engt_init(&m, 0, 0);
	ck_assert_int_eq(engt_run(&m, 10 * SEC), 1);
	check_transfer(&m);
	engt_free(&m);
}
END_TEST

START_TEST(failure_eof)
{
	struct engt_sim m;

	engt_init(&m, 5000, 100);
	m.s[0].eof = MSG_EOF_FAIL;
	ck_assert_int_eq(engt_run(&m, 10 * SEC), 1);
	check_transfer(&m);
	ck_assert_int_eq(engine_peer_eof(&m.s[1].e), MSG_EOF_FAIL);
	ck_assert_int_eq(engine_peer_eof(&m.s[0].e), MSG_EOF_OK);
	engt_free(&m);
}
END_TEST

START_TEST(lossy_transfer)
{
	struct engt_sim m;

	engt_init(&m, 400000, 300000);
	m.drop_every = 7;
	ck_assert_int_eq(engt_run(&m, 60 * SEC), 1);
	check_transfer(&m);
	ck_assert_uint_gt(m.s[0].e.snd.retransmits, 0);
	ck_assert_uint_gt(m.s[0].e.snd.cc.losses, 0);
	engt_free(&m);
}
END_TEST

START_TEST(reorder_and_duplicates)
{
	struct engt_sim m;

	engt_init(&m, 300000, 300000);
	m.dup_every = 5;
	m.delay_every = 11;
	ck_assert_int_eq(engt_run(&m, 60 * SEC), 1);
	check_transfer(&m);
	ck_assert_uint_gt(m.s[1].e.rcv.dups, 0);
	engt_free(&m);
}
END_TEST

START_TEST(everything_at_once)
{
	struct engt_sim m;

	engt_init(&m, 500000, 100000);
	m.drop_every = 13;
	m.dup_every = 9;
	m.delay_every = 4;
	m.latency = 20 * MS;
	ck_assert_int_eq(engt_run(&m, 120 * SEC), 1);
	check_transfer(&m);
	engt_free(&m);
}
END_TEST

START_TEST(peer_vanishes)
{
	struct engt_sim m;
	int r;

	engt_init(&m, 200000, 0);
	m.s[1].stalled = 1;
	/* let the connection start, then cut the link */
	for (int i = 0; i < 50; i++)
		engt_step(&m);
	m.cut = 1;
	r = engt_run(&m, 200 * SEC);
	ck_assert_int_lt(r, 0); /* given up: data (and EOFs) outstanding */
	/* not before the give-up time */
	ck_assert_uint_ge(m.now, 1000 * SEC + 60 * SEC);
	engt_free(&m);
}
END_TEST

START_TEST(idle_keepalive)
{
	struct engt_sim m;
	uint64_t end;

	engt_init(&m, 100, 100);
	m.s[0].src_len = 0;
	m.s[1].src_len = 0;
	m.s[0].fed = m.s[1].fed = 0;
	m.s[0].eof_given = m.s[1].eof_given = 1; /* children stay silent */
	end = m.now + 300 * SEC;
	while (m.now < end)
		ck_assert_int_eq(engt_step(&m), 0);
	/* probes went both ways, nobody gave up */
	ck_assert_uint_gt(m.sent[0], 5);
	ck_assert_uint_gt(m.sent[1], 5);
	/* a silent peer is given up after keepalive + giveup */
	m.cut = 1;
	end = m.now + 200 * SEC;
	{
		int r = 0;

		while (m.now < end && (r = engt_step(&m)) == 0)
			;
		ck_assert_int_lt(r, 0);
	}
	engt_free(&m);
}
END_TEST

START_TEST(child_closes_input)
{
	struct engt_sim m;

	engt_init(&m, 400000, 300000);
	m.s[1].closed = 1;
	engine_child_closed(&m.s[1].e);
	ck_assert_int_eq(engt_run(&m, 30 * SEC), 1);
	/* side 0's data was acked and discarded, the other way flowed */
	ck_assert_uint_eq(m.s[1].got, 0);
	ck_assert_uint_eq(m.s[0].got, 300000);
	ck_assert(memcmp(m.s[0].dst, m.s[1].src, 300000) == 0);
	engt_free(&m);
}
END_TEST

START_TEST(child_stops_reading)
{
	struct engt_sim m;
	uint64_t end;

	engt_init(&m, 1000000, 300000);
	m.s[1].stalled = 1;
	end = m.now + 20 * SEC;
	while (m.now < end)
		ck_assert_int_ge(engt_step(&m), 0);
	/* the other direction finished meanwhile */
	ck_assert_uint_eq(m.s[0].got, 300000);
	/* the receiver holds at most its buffer */
	ck_assert_uint_le(m.s[1].e.rcv.got.contig, 256 * 1024);
	m.s[1].stalled = 0;
	ck_assert_int_eq(engt_run(&m, 120 * SEC), 1);
	check_transfer(&m);
	engt_free(&m);
}
END_TEST

static Suite *transfer_suite(void)
{
	Suite *s = suite_create("msgpipe_engine_transfer");
	TCase *core = tcase_create("core");
	TCase *net = tcase_create("network");
	TCase *child = tcase_create("child");

	tcase_set_timeout(net, 60);
	tcase_add_test(core, clean_transfer);
	tcase_add_test(core, empty_streams);
	tcase_add_test(core, failure_eof);
	tcase_add_test(net, lossy_transfer);
	tcase_add_test(net, reorder_and_duplicates);
	tcase_add_test(net, everything_at_once);
	tcase_add_test(net, peer_vanishes);
	tcase_add_test(net, idle_keepalive);
	tcase_add_test(child, child_closes_input);
	tcase_add_test(child, child_stops_reading);
	suite_add_tcase(s, core);
	suite_add_tcase(s, net);
	suite_add_tcase(s, child);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	log_init("test_msgpipe_engine_transfer");
	log_set_level(LOG_FATAL);
	sr = srunner_create(transfer_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
