/*
 * msgpipe/engine.c message by message: what one engine makes of single
 * messages from its peer (bad input refused, the client's small first
 * message) and of curvecpmessage's habits (an EOF it never acks, padded
 * messages that mark a legacy peer, which then gets a small window and
 * range1-only acks). The harness is in support_msgpipe_engine.c.
 */
#include <check.h>
#include <string.h>

#include "log.h"
#include "support_msgpipe_engine.h"

#define MS (1000ULL * 1000)
#define SEC (1000ULL * 1000 * 1000)

START_TEST(refuses_bad_input)
{
	struct engt_sim m;
	uint8_t b[64] = { 0 };

	engt_init(&m, 0, 0);
	/* acknowledging bytes never sent */
	b[8] = 100;
	ck_assert_int_eq(engine_input(&m.s[1].e, m.now, b, 48), -1);
	b[8] = 0;
	ck_assert_int_eq(engine_input(&m.s[1].e, m.now, b, 47), -1);
	/* a data message, then an EOF contradicting it */
	b[0] = 1;
	b[38] = 16;
	ck_assert_int_eq(engine_input(&m.s[1].e, m.now, b, 64), 0);
	b[0] = 2;
	b[38] = 0;
	b[39] = 2048 >> 8;
	b[40] = 8;
	ck_assert_int_eq(engine_input(&m.s[1].e, m.now, b, 48), -1);
	ck_assert_uint_eq(m.s[1].e.bad_in, 3);
	engt_free(&m);
}
END_TEST

START_TEST(client_first_message_small)
{
	struct engt_sim m;
	uint8_t f[MSG_FRAME_MAX];
	size_t n;

	engt_init(&m, 5000, 0);
	engt_side_io(&m, &m.s[0]);
	/* the server says nothing before the client spoke */
	ck_assert_uint_eq(engine_output(&m.s[1].e, m.now, f, sizeof f), 0);
	while ((n = engine_output(&m.s[0].e, m.now, f, sizeof f)))
		ck_assert_uint_le(n - 1, MSG_CLIENT_FIRST_MAX);
	engt_free(&m);
}
END_TEST

/* A peer message with the given fields, encoded at size bytes (padded). */
static void peer_msg(struct engine *e, uint64_t now, uint32_t id,
		     uint64_t range1, enum msg_eof eof, uint64_t pos,
		     size_t size)
{
	uint8_t b[MSG_MAX];
	struct msg m;

	memset(&m, 0, sizeof m);
	m.id = id;
	m.range1 = range1;
	m.eof = eof;
	m.pos = pos;
	ck_assert_uint_gt(msg_encode(&m, b, sizeof b), 0);
	/* padding is zeros and D = 0, so a longer size stays valid */
	memset(b + 48, 0, size - 48);
	ck_assert_int_eq(engine_input(e, now, b, size), 0);
}

START_TEST(eof_unacked_by_finished_peer)
{
	struct engt_sim m;
	struct engt_side *a;
	uint8_t f[MSG_FRAME_MAX];
	uint64_t start;
	int done = 0;

	engt_init(&m, 3, 0);
	a = &m.s[0];
	engt_side_io(&m, a);
	while (engine_output(&a->e, m.now, f, sizeof f))
		;
	/* the peer acks the 3 data bytes (not the EOF) and ends its stream,
	 * then never says anything again: curvecpmessage does this */
	peer_msg(&a->e, m.now, 1, 3, MSG_EOF_OK, 0, 48);
	ck_assert(!engine_done(&a->e));
	start = m.now;
	while (m.now < start + 10 * SEC) {
		uint64_t d;

		if (engine_tick(&a->e, m.now) == ENGINE_DONE) {
			done = 1;
			break;
		}
		while (engine_output(&a->e, m.now, f, sizeof f))
			;
		d = engine_deadline(&a->e, m.now);
		m.now = d > m.now ? d : m.now + MS;
	}
	ck_assert(done);
	ck_assert_uint_ge(m.now, start + 200 * MS);
	ck_assert_uint_le(m.now, start + 3 * SEC + MS);
	ck_assert_int_eq(engine_peer_eof(&a->e), MSG_EOF_OK);
	engt_free(&m);
}
END_TEST

START_TEST(legacy_peer_small_window)
{
	struct engt_sim m;
	struct engt_side *a;
	uint8_t f[MSG_FRAME_MAX];
	int rounds = 0;

	engt_init(&m, 2000000, 0);
	a = &m.s[0];
	engt_side_io(&m, a);
	engine_output(&a->e, m.now, f, sizeof f);
	/* a 192-byte pure ack, padded as curvecpmessage pads it */
	peer_msg(&a->e, m.now, 0, 0, MSG_EOF_NONE, 0, 192);
	ck_assert_int_eq(a->e.legacy_peer, 1);
	a->e.snd.cc.cwnd = a->e.snd.cc.max_cwnd; /* window wide open */
	for (; rounds < 100; rounds++) {
		m.now += MS;
		engt_side_io(&m, a);
		while (engine_output(&a->e, m.now, f, sizeof f))
			;
		ck_assert_uint_le(a->e.snd.inflight, ENGINE_LEGACY_WINDOW);
	}
	ck_assert_uint_gt(a->e.snd.inflight, ENGINE_LEGACY_WINDOW / 2);
	/* our own messages are never padded */
	ck_assert_uint_eq(msg_size(0), 48);
	engt_free(&m);
}
END_TEST

START_TEST(legacy_peer_gets_range1_only)
{
	struct engt_sim m;
	struct engine *e;
	uint8_t b[MSG_MAX], f[MSG_FRAME_MAX], data[1024];
	struct msg d, out;
	size_t n;

	engt_init(&m, 0, 0);
	e = &m.s[0].e;
	memset(&d, 0, sizeof d);
	memset(data, 'q', sizeof data);
	/* padded data at 0 and 2048 (a hole between), 1088 bytes each */
	for (int i = 0; i < 2; i++) {
		d.id = (uint32_t)(i + 1);
		d.len = 1024;
		d.pos = (uint64_t)i * 2048;
		d.data = data;
		ck_assert_uint_gt(msg_encode(&d, b, sizeof b), 0);
		memset(b + 48, 0, 16); /* padding: 1088 instead of 1072 */
		memmove(b + 64, b + 48, 1024);
		memset(b + 48, 0, 16);
		ck_assert_int_eq(engine_input(e, m.now, b, 1088), 0);
	}
	ck_assert(e->legacy_peer);
	ck_assert_uint_eq(e->rcv.got.n, 1);
	n = engine_output(e, m.now, f, sizeof f);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(msg_decode(&out, f + 1, n - 1), MSG_OK);
	ck_assert_uint_eq(out.range1, 1024);
	ck_assert_uint_eq(out.gap1, 0);
	ck_assert_uint_eq(out.range[0], 0);
	engt_free(&m);
}
END_TEST

static Suite *peer_suite(void)
{
	Suite *s = suite_create("msgpipe_engine_peer");
	TCase *core = tcase_create("core");

	tcase_add_test(core, refuses_bad_input);
	tcase_add_test(core, client_first_message_small);
	tcase_add_test(core, eof_unacked_by_finished_peer);
	tcase_add_test(core, legacy_peer_small_window);
	tcase_add_test(core, legacy_peer_gets_range1_only);
	suite_add_tcase(s, core);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	log_init("test_msgpipe_engine_peer");
	log_set_level(LOG_FATAL);
	sr = srunner_create(peer_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
