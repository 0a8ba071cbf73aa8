/*
 * Unit tests for msgpipe/engine.c: two engines joined by a simulated link
 * (latency, loss, duplication, reordering) and driven by a fake clock.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"

#define US 1000ULL
#define MS (1000ULL * 1000)
#define SEC (1000ULL * 1000 * 1000)
#define LINK_MAX 20000

struct side {
	struct engine e;
	uint8_t *src;      /* what the child writes */
	size_t src_len, fed;
	enum msg_eof eof;  /* how the child's output ends */
	int eof_given;
	uint8_t *dst;      /* what the child read */
	size_t got, dst_cap;
	int closed;        /* the child closed its input */
	int stalled;       /* the child does not read */
};

struct pkt {
	uint64_t at;
	int to;
	size_t n;
	uint8_t b[MSG_MAX];
};

struct sim {
	struct side s[2];
	struct pkt *q;
	size_t nq;
	uint64_t now;
	unsigned seq;
	/* link behaviour: every Nth message (0 = never) */
	unsigned drop_every, dup_every, delay_every;
	uint64_t latency;
	int cut;           /* nothing goes through any more */
	int cut_to;        /* only messages to side 0 go through... */
	unsigned sent[2];
};

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) & 0xff);
	return p;
}

static void side_init(struct side *s, enum engine_role role, size_t len,
		      unsigned seed, size_t expect, uint64_t now)
{
	struct engine_cfg cfg = { role, 256 * 1024, 256 * 1024, 60 * SEC,
				  10 * SEC };

	memset(s, 0, sizeof *s);
	ck_assert_int_eq(engine_init(&s->e, &cfg, now), 0);
	s->src = pattern(len, seed);
	s->src_len = len;
	s->eof = MSG_EOF_OK;
	s->dst_cap = expect + 1;
	s->dst = malloc(s->dst_cap);
}

static void sim_init(struct sim *m, size_t a_len, size_t b_len)
{
	memset(m, 0, sizeof *m);
	m->now = 1000 * SEC;
	m->latency = 100 * US;
	m->q = calloc(LINK_MAX, sizeof *m->q);
	side_init(&m->s[0], ROLE_CLIENT, a_len, 1, b_len, m->now);
	side_init(&m->s[1], ROLE_SERVER, b_len, 2, a_len, m->now);
}

static void sim_free(struct sim *m)
{
	for (int i = 0; i < 2; i++) {
		engine_free(&m->s[i].e);
		free(m->s[i].src);
		free(m->s[i].dst);
	}
	free(m->q);
}

static void link_put(struct sim *m, int to, const uint8_t *f, size_t n,
		     uint64_t extra)
{
	struct pkt *p;

	ck_assert_uint_lt(m->nq, LINK_MAX);
	p = &m->q[m->nq++];
	p->at = m->now + m->latency + extra;
	p->to = to;
	p->n = n;
	memcpy(p->b, f, n);
}

static void link_send(struct sim *m, int from, const uint8_t *f, size_t n)
{
	unsigned k = ++m->seq;

	ck_assert_uint_eq((size_t)f[0] * 16 + 1, n);
	m->sent[from]++;
	if (m->cut)
		return;
	if (m->drop_every && k % m->drop_every == 0)
		return;
	if (m->delay_every && k % m->delay_every == 0) {
		link_put(m, !from, f, n, 3 * m->latency); /* reordered */
		return;
	}
	link_put(m, !from, f, n, 0);
	if (m->dup_every && k % m->dup_every == 0)
		link_put(m, !from, f, n, m->latency / 2);
}

static void side_io(struct sim *m, struct side *s)
{
	struct sendq *q = engine_sendq(&s->e);
	struct iovec iov[2];
	int k;

	/* the child writes */
	while (s->fed < s->src_len && (k = sendq_space(q, iov))) {
		size_t c = iov[0].iov_len;

		if (c > s->src_len - s->fed)
			c = s->src_len - s->fed;
		memcpy(iov[0].iov_base, s->src + s->fed, c);
		sendq_commit(q, c);
		s->fed += c;
	}
	if (s->fed == s->src_len && !s->eof_given) {
		engine_child_eof(&s->e, s->eof);
		s->eof_given = 1;
	}
	/* the child reads */
	while (!s->stalled && !s->closed &&
	       (k = engine_child_data(&s->e, iov))) {
		size_t c = iov[0].iov_len;

		ck_assert_uint_le(s->got + c, s->dst_cap);
		memcpy(s->dst + s->got, iov[0].iov_base, c);
		s->got += c;
		engine_child_wrote(&s->e, c);
	}
	(void)m;
}

static void sim_deliver(struct sim *m)
{
	size_t i = 0;

	while (i < m->nq) {
		struct pkt *p = &m->q[i];

		if (p->at > m->now) {
			i++;
			continue;
		}
		engine_input(&m->s[p->to].e, m->now, p->b + 1, p->n - 1);
		m->q[i] = m->q[--m->nq];
	}
}

static int sim_step(struct sim *m)
{
	uint8_t f[MSG_FRAME_MAX];
	uint64_t next = 0;
	int status = ENGINE_DONE;

	sim_deliver(m);
	for (int i = 0; i < 2; i++) {
		struct side *s = &m->s[i];
		enum engine_status st;
		size_t n;

		side_io(m, s);
		st = engine_tick(&s->e, m->now);
		if (st == ENGINE_GIVEUP)
			return -1 - i;
		if (st != ENGINE_DONE)
			status = ENGINE_RUNNING;
		while ((n = engine_output(&s->e, m->now, f, sizeof f)))
			link_send(m, i, f, n);
	}
	/* jump to the next event */
	for (int i = 0; i < 2; i++) {
		uint64_t d = engine_deadline(&m->s[i].e, m->now);

		if (d && (!next || d < next))
			next = d;
	}
	for (size_t i = 0; i < m->nq; i++)
		if (!next || m->q[i].at < next)
			next = m->q[i].at;
	if (!next || next <= m->now)
		next = m->now + 1;
	m->now = next;
	return status == ENGINE_DONE ? 1 : 0;
}

/* Runs until both engines are done; returns the step result. */
static int sim_run(struct sim *m, uint64_t limit)
{
	uint64_t end = m->now + limit;
	int r = 0;

	while (m->now < end && (r = sim_step(m)) == 0)
		;
	return r;
}

static void check_transfer(struct sim *m)
{
	ck_assert_uint_eq(m->s[1].got, m->s[0].src_len);
	ck_assert_uint_eq(m->s[0].got, m->s[1].src_len);
	ck_assert(memcmp(m->s[1].dst, m->s[0].src, m->s[0].src_len) == 0);
	ck_assert(memcmp(m->s[0].dst, m->s[1].src, m->s[1].src_len) == 0);
}

START_TEST(clean_transfer)
{
	struct sim m;

	sim_init(&m, 300000, 200000);
	ck_assert_int_eq(sim_run(&m, 10 * SEC), 1);
	check_transfer(&m);
	ck_assert_int_eq(engine_peer_eof(&m.s[0].e), MSG_EOF_OK);
	ck_assert_int_eq(engine_peer_eof(&m.s[1].e), MSG_EOF_OK);
	ck_assert_uint_eq(m.s[0].e.snd.retransmits, 0);
	/* acks are coalesced and piggy-backed: far fewer than data */
	ck_assert_uint_lt(m.s[1].e.acks_out, m.s[0].e.msgs_out / 2);
	/* the client learns within a round trip or two that the server
	 * has its final ack, so it need not linger */
	{
		uint64_t end = m.now + 50 * MS;

		while (m.now < end && !m.s[0].e.peer_has_fin)
			sim_step(&m);
		ck_assert(m.s[0].e.peer_has_fin);
		ck_assert_uint_le(engine_linger_until(&m.s[0].e), m.now);
	}
	sim_free(&m);
}
END_TEST

START_TEST(empty_streams)
{
	struct sim m;

	sim_init(&m, 0, 0);
	ck_assert_int_eq(sim_run(&m, 10 * SEC), 1);
	check_transfer(&m);
	sim_free(&m);
}
END_TEST

START_TEST(lossy_transfer)
{
	struct sim m;

	sim_init(&m, 400000, 300000);
	m.drop_every = 7;
	ck_assert_int_eq(sim_run(&m, 60 * SEC), 1);
	check_transfer(&m);
	ck_assert_uint_gt(m.s[0].e.snd.retransmits, 0);
	ck_assert_uint_gt(m.s[0].e.snd.cc.losses, 0);
	sim_free(&m);
}
END_TEST

START_TEST(reorder_and_duplicates)
{
	struct sim m;

	sim_init(&m, 300000, 300000);
	m.dup_every = 5;
	m.delay_every = 11;
	ck_assert_int_eq(sim_run(&m, 60 * SEC), 1);
	check_transfer(&m);
	ck_assert_uint_gt(m.s[1].e.rcv.dups, 0);
	sim_free(&m);
}
END_TEST

START_TEST(everything_at_once)
{
	struct sim m;

	sim_init(&m, 500000, 100000);
	m.drop_every = 13;
	m.dup_every = 9;
	m.delay_every = 4;
	m.latency = 20 * MS;
	ck_assert_int_eq(sim_run(&m, 120 * SEC), 1);
	check_transfer(&m);
	sim_free(&m);
}
END_TEST

START_TEST(failure_eof)
{
	struct sim m;

	sim_init(&m, 5000, 100);
	m.s[0].eof = MSG_EOF_FAIL;
	ck_assert_int_eq(sim_run(&m, 10 * SEC), 1);
	check_transfer(&m);
	ck_assert_int_eq(engine_peer_eof(&m.s[1].e), MSG_EOF_FAIL);
	ck_assert_int_eq(engine_peer_eof(&m.s[0].e), MSG_EOF_OK);
	sim_free(&m);
}
END_TEST

START_TEST(peer_vanishes)
{
	struct sim m;
	int r;

	sim_init(&m, 200000, 0);
	m.s[1].stalled = 1;
	/* let the connection start, then cut the link */
	for (int i = 0; i < 50; i++)
		sim_step(&m);
	m.cut = 1;
	r = sim_run(&m, 200 * SEC);
	ck_assert_int_lt(r, 0); /* given up: data (and EOFs) outstanding */
	/* not before the give-up time */
	ck_assert_uint_ge(m.now, 1000 * SEC + 60 * SEC);
	sim_free(&m);
}
END_TEST

START_TEST(idle_keepalive)
{
	struct sim m;
	uint64_t end;

	sim_init(&m, 100, 100);
	m.s[0].src_len = 0;
	m.s[1].src_len = 0;
	m.s[0].fed = m.s[1].fed = 0;
	m.s[0].eof_given = m.s[1].eof_given = 1; /* children stay silent */
	end = m.now + 300 * SEC;
	while (m.now < end)
		ck_assert_int_eq(sim_step(&m), 0);
	/* probes went both ways, nobody gave up */
	ck_assert_uint_gt(m.sent[0], 5);
	ck_assert_uint_gt(m.sent[1], 5);
	/* a silent peer is given up after keepalive + giveup */
	m.cut = 1;
	end = m.now + 200 * SEC;
	{
		int r = 0;

		while (m.now < end && (r = sim_step(&m)) == 0)
			;
		ck_assert_int_lt(r, 0);
	}
	sim_free(&m);
}
END_TEST

START_TEST(child_closes_input)
{
	struct sim m;

	sim_init(&m, 400000, 300000);
	m.s[1].closed = 1;
	engine_child_closed(&m.s[1].e);
	ck_assert_int_eq(sim_run(&m, 30 * SEC), 1);
	/* side 0's data was acked and discarded, the other way flowed */
	ck_assert_uint_eq(m.s[1].got, 0);
	ck_assert_uint_eq(m.s[0].got, 300000);
	ck_assert(memcmp(m.s[0].dst, m.s[1].src, 300000) == 0);
	sim_free(&m);
}
END_TEST

START_TEST(child_stops_reading)
{
	struct sim m;
	uint64_t end;

	sim_init(&m, 1000000, 300000);
	m.s[1].stalled = 1;
	end = m.now + 20 * SEC;
	while (m.now < end)
		ck_assert_int_ge(sim_step(&m), 0);
	/* the other direction finished meanwhile */
	ck_assert_uint_eq(m.s[0].got, 300000);
	/* the receiver holds at most its buffer */
	ck_assert_uint_le(m.s[1].e.rcv.got.contig, 256 * 1024);
	m.s[1].stalled = 0;
	ck_assert_int_eq(sim_run(&m, 120 * SEC), 1);
	check_transfer(&m);
	sim_free(&m);
}
END_TEST

START_TEST(refuses_bad_input)
{
	struct sim m;
	uint8_t b[64] = { 0 };

	sim_init(&m, 0, 0);
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
	sim_free(&m);
}
END_TEST

START_TEST(client_first_message_small)
{
	struct sim m;
	uint8_t f[MSG_FRAME_MAX];
	size_t n;

	sim_init(&m, 5000, 0);
	side_io(&m, &m.s[0]);
	/* the server says nothing before the client spoke */
	ck_assert_uint_eq(engine_output(&m.s[1].e, m.now, f, sizeof f), 0);
	while ((n = engine_output(&m.s[0].e, m.now, f, sizeof f)))
		ck_assert_uint_le(n - 1, MSG_CLIENT_FIRST_MAX);
	sim_free(&m);
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
	struct sim m;
	struct side *a;
	uint8_t f[MSG_FRAME_MAX];
	uint64_t start;
	int done = 0;

	sim_init(&m, 3, 0);
	a = &m.s[0];
	side_io(&m, a);
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
	sim_free(&m);
}
END_TEST

START_TEST(legacy_peer_small_window)
{
	struct sim m;
	struct side *a;
	uint8_t f[MSG_FRAME_MAX];
	int rounds = 0;

	sim_init(&m, 2000000, 0);
	a = &m.s[0];
	side_io(&m, a);
	engine_output(&a->e, m.now, f, sizeof f);
	/* a 192-byte pure ack, padded as curvecpmessage pads it */
	peer_msg(&a->e, m.now, 0, 0, MSG_EOF_NONE, 0, 192);
	ck_assert_int_eq(a->e.legacy_peer, 1);
	a->e.snd.cc.cwnd = a->e.snd.cc.max_cwnd; /* window wide open */
	for (; rounds < 100; rounds++) {
		m.now += MS;
		side_io(&m, a);
		while (engine_output(&a->e, m.now, f, sizeof f))
			;
		ck_assert_uint_le(a->e.snd.inflight, ENGINE_LEGACY_WINDOW);
	}
	ck_assert_uint_gt(a->e.snd.inflight, ENGINE_LEGACY_WINDOW / 2);
	/* our own messages are never padded */
	ck_assert_uint_eq(msg_size(0), 48);
	sim_free(&m);
}
END_TEST

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

START_TEST(legacy_peer_gets_range1_only)
{
	struct sim m;
	struct engine *e;
	uint8_t b[MSG_MAX], f[MSG_FRAME_MAX], data[1024];
	struct msg d, out;
	size_t n;

	sim_init(&m, 0, 0);
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
	sim_free(&m);
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("msgpipe_engine");
	TCase *core = tcase_create("core");
	TCase *net = tcase_create("network");
	TCase *child = tcase_create("child");

	tcase_set_timeout(net, 60);
	tcase_add_test(core, clean_transfer);
	tcase_add_test(core, empty_streams);
	tcase_add_test(core, failure_eof);
	tcase_add_test(core, refuses_bad_input);
	tcase_add_test(core, client_first_message_small);
	tcase_add_test(core, eof_unacked_by_finished_peer);
	tcase_add_test(core, legacy_peer_small_window);
	tcase_add_test(core, legacy_peer_gets_range1_only);
	tcase_add_test(net, lossy_transfer);
	tcase_add_test(net, spurious_timeout_restores_blocks);
	tcase_add_test(net, timeout_resends_first_hole_first);
	tcase_add_test(net, tail_retransmission_fills_the_hole);
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

	log_init("test_msgpipe_engine");
	log_set_level(LOG_FATAL);
	sr = srunner_create(engine_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
