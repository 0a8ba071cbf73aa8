/*
 * msgpipe's teardown with a fake clock: each side stops exactly when
 * msgpipe's loop would (engine_may_exit), so a side that stops too early
 * leaves the other retransmitting to nobody until it gives up (111). The
 * rule under test (docs/msgpipe.md, "Finishing"): a done side keeps
 * answering and sends done probes until the peer confirms it has the final
 * acks, or has been quiet for a bounded time. The harness is in
 * support_msgpipe_engine.c.
 */
#include <check.h>
#include <string.h>

#include "log.h"
#include "support_msgpipe_engine.h"

#define MS (1000ULL * 1000)
#define SEC (1000ULL * 1000 * 1000)
#define LEN 3000

struct dropper {
	int from;           /* side whose messages are dropped */
	uint64_t range1;    /* ... when they acknowledge this far */
	unsigned left;      /* ... this many times */
	unsigned dropped;
	int cut_after_done; /* side 0's first message once done: cut all */
	struct engt_sim *m;
};

static int drop_final_acks(void *ctx, int from, const struct msg *msg)
{
	struct dropper *d = ctx;

	if (from != d->from || !d->left || msg->range1 < d->range1)
		return 0;
	d->left--;
	d->dropped++;
	return 1;
}

static void check_streams(const struct engt_sim *m)
{
	ck_assert_uint_eq(m->s[1].got, m->s[0].src_len);
	ck_assert_uint_eq(m->s[0].got, m->s[1].src_len);
	ck_assert(memcmp(m->s[1].dst, m->s[0].src, m->s[0].src_len) == 0);
	ck_assert(memcmp(m->s[0].dst, m->s[1].src, m->s[1].src_len) == 0);
}

/*
 * The server has the client's whole stream, but its acknowledgements of
 * the client's last block and EOF are lost again and again while the
 * client backs off its retransmissions. The server must not stop until
 * the client has them: both end done, the client's EOF acknowledged (not
 * given up on), nobody gives up.
 */
START_TEST(lost_final_acks)
{
	for (unsigned n = 1; n <= 6; n++) {
		struct engt_sim m;
		struct dropper d = { .from = 1, .range1 = LEN, .left = n };
		int r;

		engt_init(&m, LEN, LEN);
		m.model_exit = 1;
		m.drop = drop_final_acks;
		m.drop_ctx = &d;
		r = engt_run(&m, 120 * SEC);
		ck_assert_msg(r == 1, "%u acks lost: step result %d (-1 - i: "
			      "side i gave up)", n, r);
		ck_assert_uint_eq(d.dropped, n);
		check_streams(&m);
		ck_assert(m.s[0].e.snd.eof_acked);
		ck_assert(!m.s[0].e.eof_given_up);
		ck_assert(m.s[1].e.snd.eof_acked);
		/* bounded: well inside the 60 s give-up */
		ck_assert_uint_lt(m.s[0].exit_at, 1000 * SEC + 20 * SEC);
		ck_assert_uint_lt(m.s[1].exit_at, 1000 * SEC + 20 * SEC);
		engt_free(&m);
	}
}
END_TEST

/* The same the other way round: the client's acks of the server's end. */
START_TEST(lost_final_acks_to_server)
{
	for (unsigned n = 1; n <= 6; n++) {
		struct engt_sim m;
		struct dropper d = { .from = 0, .range1 = LEN, .left = n };

		engt_init(&m, LEN, LEN);
		m.model_exit = 1;
		m.drop = drop_final_acks;
		m.drop_ctx = &d;
		ck_assert_int_eq(engt_run(&m, 120 * SEC), 1);
		check_streams(&m);
		ck_assert(m.s[1].e.snd.eof_acked);
		ck_assert(!m.s[1].e.eof_given_up);
		engt_free(&m);
	}
}
END_TEST

/* No loss: each side proves to the other that it is done, so neither
 * waits out the quiet period. */
START_TEST(clean_teardown_no_linger)
{
	struct engt_sim m;

	engt_init(&m, LEN, LEN);
	m.model_exit = 1;
	ck_assert_int_eq(engt_run(&m, 60 * SEC), 1);
	check_streams(&m);
	for (int i = 0; i < 2; i++) {
		struct engine *e = &m.s[i].e;

		ck_assert_msg(e->fin_acked || e->peer_settled,
			      "side %d stopped on the quiet period", i);
		ck_assert_uint_lt(m.s[i].exit_at, e->last_heard + 10 * MS);
	}
	engt_free(&m);
}
END_TEST

/* Once side 0 is done, the link dies: it still stops, after the bounded
 * quiet period (2 to 4 s), with exit status unaffected (it is done). */
static int cut_when_done(void *ctx, int from, const struct msg *msg)
{
	struct dropper *d = ctx;

	(void)msg;
	if (engine_done(&d->m->s[0].e) && d->m->s[0].e.done_probe_id)
		d->cut_after_done = 1;
	(void)from;
	return d->cut_after_done;
}

START_TEST(peer_vanishes_linger_bounded)
{
	struct engt_sim m;
	struct dropper d = { 0 };
	uint64_t quiet;

	engt_init(&m, LEN, LEN);
	d.m = &m;
	m.model_exit = 1;
	m.drop = cut_when_done;
	m.drop_ctx = &d;
	engt_run(&m, 60 * SEC);
	ck_assert(m.s[0].exited);
	ck_assert(engine_done(&m.s[0].e));
	quiet = engine_linger_quiet(&m.s[0].e);
	ck_assert_uint_ge(quiet, 2 * SEC);
	ck_assert_uint_le(quiet, 4 * SEC);
	ck_assert_uint_ge(m.s[0].exit_at, m.s[0].e.last_heard + quiet);
	ck_assert_uint_le(m.s[0].exit_at, m.s[0].e.last_heard + quiet + 2 * MS);
	engt_free(&m);
}
END_TEST

static Suite *teardown_suite(void)
{
	Suite *s = suite_create("msgpipe_teardown");
	TCase *tc = tcase_create("linger");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lost_final_acks);
	tcase_add_test(tc, lost_final_acks_to_server);
	tcase_add_test(tc, clean_teardown_no_linger);
	tcase_add_test(tc, peer_vanishes_linger_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	log_init("test_msgpipe_teardown");
	log_set_level(LOG_FATAL);
	sr = srunner_create(teardown_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
