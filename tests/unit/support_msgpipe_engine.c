/* msgpipe's engine test harness: see support_msgpipe_engine.h. */
#include <stdlib.h>
#include <string.h>

#include "support_msgpipe_engine.h"

#define US 1000ULL
#define SEC (1000ULL * 1000 * 1000)
#define LINK_MAX 20000

struct engt_pkt {
	uint64_t at;
	int to;
	size_t n;
	uint8_t b[MSG_MAX];
};

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) & 0xff);
	return p;
}

static void side_init(struct engt_side *s, enum engine_role role, size_t len,
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

void engt_init(struct engt_sim *m, size_t a_len, size_t b_len)
{
	memset(m, 0, sizeof *m);
	m->now = 1000 * SEC;
	m->latency = 100 * US;
	m->q = calloc(LINK_MAX, sizeof *m->q);
	side_init(&m->s[0], ROLE_CLIENT, a_len, 1, b_len, m->now);
	side_init(&m->s[1], ROLE_SERVER, b_len, 2, a_len, m->now);
}

void engt_free(struct engt_sim *m)
{
	for (int i = 0; i < 2; i++) {
		engine_free(&m->s[i].e);
		free(m->s[i].src);
		free(m->s[i].dst);
	}
	free(m->q);
}

static void link_put(struct engt_sim *m, int to, const uint8_t *f, size_t n,
		     uint64_t extra)
{
	struct engt_pkt *p;

	ck_assert_uint_lt(m->nq, LINK_MAX);
	p = &m->q[m->nq++];
	p->at = m->now + m->latency + extra;
	p->to = to;
	p->n = n;
	memcpy(p->b, f, n);
}

static void link_send(struct engt_sim *m, int from, const uint8_t *f, size_t n)
{
	unsigned k = ++m->seq;

	ck_assert_uint_eq((size_t)f[0] * 16 + 1, n);
	m->sent[from]++;
	if (m->cut)
		return;
	if (m->drop_every && k % m->drop_every == 0)
		return;
	if (m->drop) {
		struct msg d;

		ck_assert_int_eq(msg_decode(&d, f + 1, n - 1), MSG_OK);
		if (m->drop(m->drop_ctx, from, &d))
			return;
	}
	if (m->delay_every && k % m->delay_every == 0) {
		link_put(m, !from, f, n, 3 * m->latency); /* reordered */
		return;
	}
	link_put(m, !from, f, n, 0);
	if (m->dup_every && k % m->dup_every == 0)
		link_put(m, !from, f, n, m->latency / 2);
}

void engt_side_io(struct engt_sim *m, struct engt_side *s)
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

static void sim_deliver(struct engt_sim *m)
{
	size_t i = 0;

	while (i < m->nq) {
		struct engt_pkt *p = &m->q[i];

		if (p->at > m->now) {
			i++;
			continue;
		}
		if (!m->s[p->to].exited)
			engine_input(&m->s[p->to].e, m->now, p->b + 1,
				     p->n - 1);
		m->q[i] = m->q[--m->nq];
	}
}

int engt_step(struct engt_sim *m)
{
	uint8_t f[MSG_FRAME_MAX];
	uint64_t next = 0;
	int status = ENGINE_DONE;

	sim_deliver(m);
	for (int i = 0; i < 2; i++) {
		struct engt_side *s = &m->s[i];
		enum engine_status st;
		size_t n;

		if (s->exited)
			continue;
		engt_side_io(m, s);
		st = engine_tick(&s->e, m->now);
		if (st == ENGINE_GIVEUP)
			return -1 - i;
		if (st != ENGINE_DONE)
			status = ENGINE_RUNNING;
		while ((n = engine_output(&s->e, m->now, f, sizeof f)))
			link_send(m, i, f, n);
		if (m->model_exit && engine_may_exit(&s->e, m->now)) {
			s->exited = 1;
			s->exit_at = m->now;
		}
	}
	/* jump to the next event */
	for (int i = 0; i < 2; i++) {
		uint64_t d;

		if (m->s[i].exited)
			continue;
		d = engine_deadline(&m->s[i].e, m->now);
		/* as msgpipe's loop: a done engine wakes for its linger */
		if (engine_done(&m->s[i].e)) {
			uint64_t t = engine_linger_until(&m->s[i].e);

			if (t > m->now && (!d || t < d))
				d = t;
		}
		if (d && (!next || d < next))
			next = d;
	}
	for (size_t i = 0; i < m->nq; i++)
		if (!next || m->q[i].at < next)
			next = m->q[i].at;
	if (!next || next <= m->now)
		next = m->now + 1;
	m->now = next;
	if (m->model_exit)
		return m->s[0].exited && m->s[1].exited;
	return status == ENGINE_DONE ? 1 : 0;
}

int engt_run(struct engt_sim *m, uint64_t limit)
{
	uint64_t end = m->now + limit;
	int r = 0;

	while (m->now < end && (r = engt_step(m)) == 0)
		;
	return r;
}
