#include "congestion.h"

#define MS (1000ULL * 1000)

void cc_init(struct cc *c, uint64_t max_cwnd, uint64_t now)
{
	*c = (struct cc){ 0 };
	c->max_cwnd = max_cwnd < CC_MIN_CWND ? CC_MIN_CWND : max_cwnd;
	c->cwnd = CC_INIT_CWND < c->max_cwnd ? CC_INIT_CWND : c->max_cwnd;
	c->ssthresh = c->max_cwnd;
	c->credit = CC_BURST_MIN;
	c->credit_at = now;
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

void cc_rtt_sample(struct cc *c, uint64_t rtt)
{
	if (rtt == 0)
		rtt = 1;
	if (c->srtt == 0) {
		c->srtt = rtt;
		c->rttvar = rtt / 2;
		c->min_rtt = rtt;
	} else {
		c->rttvar = (3 * c->rttvar + absdiff(c->srtt, rtt)) / 4;
		c->srtt = (7 * c->srtt + rtt) / 8;
		if (rtt < c->min_rtt)
			c->min_rtt = rtt;
	}
	c->backoff = 0;
}

uint64_t cc_rto(const struct cc *c)
{
	uint64_t rto, var;

	if (c->srtt == 0) {
		rto = CC_RTO_INIT;
	} else {
		/* Granularity term: the peer may delay its ack by 1 ms. */
		var = 4 * c->rttvar;
		rto = c->srtt + (var > 2 * MS ? var : 2 * MS);
	}
	if (rto < CC_RTO_MIN)
		rto = CC_RTO_MIN;
	for (unsigned i = 0; i < c->backoff && rto < CC_RTO_MAX; i++)
		rto *= 2;
	return rto > CC_RTO_MAX ? CC_RTO_MAX : rto;
}

void cc_on_ack(struct cc *c, uint64_t bytes)
{
	if (c->cwnd < c->ssthresh) {
		c->cwnd += bytes;
	} else {
		/* One block more per window's worth of acknowledged bytes. */
		c->acked_acc += bytes;
		while (c->acked_acc >= c->cwnd) {
			c->acked_acc -= c->cwnd;
			c->cwnd += CC_BLOCK;
		}
	}
	if (c->cwnd > c->max_cwnd)
		c->cwnd = c->max_cwnd;
}

int cc_on_loss(struct cc *c, uint64_t seq, uint64_t next_seq)
{
	if (seq < c->recover)
		return 0;
	c->recover = next_seq;
	c->losses++;
	c->cwnd /= 2;
	if (c->cwnd < CC_MIN_CWND)
		c->cwnd = CC_MIN_CWND;
	c->ssthresh = c->cwnd;
	c->acked_acc = 0;
	return 1;
}

void cc_on_timeout(struct cc *c, uint64_t next_seq)
{
	c->timeouts++;
	if (!c->undo_before) {
		c->undo_cwnd = c->cwnd;
		c->undo_ssthresh = c->ssthresh;
	}
	c->ssthresh = c->cwnd / 2 > CC_MIN_CWND ? c->cwnd / 2 : CC_MIN_CWND;
	c->cwnd = CC_MIN_CWND;
	c->acked_acc = 0;
	c->recover = next_seq;
	if (c->backoff < 16)
		c->backoff++;
}

void cc_mark_timeout(struct cc *c, uint64_t now)
{
	c->undo_before = now ? now : 1;
}

int cc_check_undo(struct cc *c, uint64_t sent_at)
{
	int undo;

	if (!c->undo_before)
		return 0;
	undo = sent_at < c->undo_before;
	if (undo) {
		c->cwnd = c->undo_cwnd;
		c->ssthresh = c->undo_ssthresh;
		c->backoff = 0;
		c->undos++;
	}
	c->undo_before = 0;
	return undo;
}

uint64_t cc_rate(const struct cc *c)
{
	uint64_t rtt = c->srtt ? c->srtt : CC_RTO_INIT / 4;
	uint64_t w = c->cwnd;

	if (rtt < CC_RTT_FLOOR)
		rtt = CC_RTT_FLOOR;
	/* Twice the window per RTT in slow start so it can still double. */
	if (c->cwnd < c->ssthresh)
		w *= 2;
	else
		w += w / 4;
	/* w < 2^40, so w * 1e9 fits in 64 bits. */
	return w * 1000000000ULL / rtt;
}

uint64_t cc_burst(const struct cc *c)
{
	/* About a millisecond of sending, so poll wake-ups stay rare. */
	uint64_t b = cc_rate(c) / 1000;

	return b < CC_BURST_MIN ? CC_BURST_MIN : b;
}

void cc_refill(struct cc *c, uint64_t now)
{
	uint64_t dt, add, cap = cc_burst(c);

	if (now <= c->credit_at)
		return;
	dt = now - c->credit_at;
	c->credit_at = now;
	if (dt > 1000ULL * MS) /* idle for a second: the bucket is full */
		dt = 1000ULL * MS;
	add = cc_rate(c) / 1000 * dt / 1000000;
	c->credit = c->credit + add > cap ? cap : c->credit + add;
}

int cc_can_send(const struct cc *c, uint64_t inflight, uint64_t bytes)
{
	return inflight + bytes <= c->cwnd && c->credit >= bytes;
}

void cc_sent(struct cc *c, uint64_t bytes)
{
	c->credit = c->credit > bytes ? c->credit - bytes : 0;
}

uint64_t cc_pace_at(const struct cc *c, uint64_t now, uint64_t bytes)
{
	uint64_t need, rate;

	if (c->credit >= bytes)
		return now;
	need = bytes - c->credit;
	rate = cc_rate(c) / 1000; /* bytes per ms */
	if (rate == 0)
		rate = 1;
	return now + (need * 1000000 + rate - 1) / rate;
}
