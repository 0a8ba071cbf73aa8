#include "sender.h"

#include <stdlib.h>
#include <string.h>

/* Reordering allowed before a block counts as lost. */
#define REO_MIN (100ULL * 1000)
/* Our receiver acks within 1 ms; a little slack on a busy machine. */
#define TAIL_ACK_DELAY (2ULL * 1000 * 1000)

static struct block *blk_at(const struct sender *s, uint64_t b)
{
	return &s->blk[b % s->blk_cap];
}

int sender_init(struct sender *s, size_t bufsize, uint64_t now)
{
	memset(s, 0, sizeof *s);
	/* Blocks are cut when sent, so small ones only appear when the
	 * child writes slowly and little is in flight; room for half-full
	 * blocks on average is plenty. */
	s->blk_cap = bufsize / 512 + 64;
	s->xq_cap = 2 * s->blk_cap;
	s->rq_cap = s->blk_cap;
	if (sendq_init(&s->q, bufsize) < 0)
		return -1;
	s->blk = calloc(s->blk_cap, sizeof *s->blk);
	s->xq = calloc(s->xq_cap, sizeof *s->xq);
	s->rq = calloc(s->rq_cap, sizeof *s->rq);
	if (!s->blk || !s->xq || !s->rq) {
		sender_free(s);
		return -1;
	}
	cc_init(&s->cc, bufsize, now);
	return 0;
}

void sender_free(struct sender *s)
{
	sendq_free(&s->q);
	free(s->blk);
	free(s->xq);
	free(s->rq);
	s->blk = NULL;
	s->xq = NULL;
	s->rq = NULL;
}

void sender_set_eof(struct sender *s, enum msg_eof how)
{
	if (s->eof == MSG_EOF_NONE)
		s->eof = how;
}

/* End of what has been cut into blocks, the EOF counting as one byte. */
static uint64_t ack_limit(const struct sender *s)
{
	return s->next_pos + (s->eof_block ? 1 : 0);
}

int sender_ack_valid(const struct sender *s, uint64_t stop)
{
	return stop <= ack_limit(s);
}

int sender_data_acked(const struct sender *s)
{
	if (s->bhead == s->btail)
		return s->q.base == s->q.end && s->eof != MSG_EOF_NONE;
	return s->btail - s->bhead == 1 && blk_at(s, s->bhead)->eof &&
	       s->q.base == s->q.end;
}

/* An entry is live while its block is lost and waiting. */
static int rq_live(const struct sender *s, uint64_t b)
{
	const struct block *k;

	if (b < s->bhead || b >= s->btail)
		return 0;
	k = &s->blk[b % s->blk_cap];
	return !k->acked && k->lost;
}

/* Drops entries whose blocks were acked or resent meanwhile. */
static void rq_compact(struct sender *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->rq_len; i++) {
		uint64_t b = s->rq[(s->rq_head + i) % s->rq_cap];

		if (rq_live(s, b))
			s->rq[(s->rq_head + n++) % s->rq_cap] = b;
	}
	s->rq_len = n;
}

static void rq_push(struct sender *s, uint64_t b)
{
	/* Live entries are at most one per live block; stale ones go when
	 * the ring fills. */
	if (s->rq_len == s->rq_cap)
		rq_compact(s);
	s->rq[(s->rq_head + s->rq_len) % s->rq_cap] = b;
	s->rq_len++;
}

/* Queues b to go out before anything else (it may be queued twice: the
 * later entry is stale by the time it is reached). */
static void rq_push_front(struct sender *s, uint64_t b)
{
	if (s->rq_len == s->rq_cap)
		rq_compact(s);
	if (s->rq_len == s->rq_cap)
		return;
	s->rq_head = (s->rq_head + s->rq_cap - 1) % s->rq_cap;
	s->rq[s->rq_head] = b;
	s->rq_len++;
}

static void mark_lost(struct sender *s, uint64_t b)
{
	struct block *k = blk_at(s, b);

	if (k->acked || k->lost)
		return;
	k->lost = 1;
	s->inflight -= k->len;
	rq_push(s, b);
}

static int xmit_stale(const struct sender *s, const struct xmit *x)
{
	const struct block *k;

	if (x->blk < s->bhead)
		return 1;
	k = blk_at(s, x->blk);
	return k->acked || k->lost || k->xmit_seq != x->seq;
}

static void xq_pop(struct sender *s)
{
	s->xq_head = (s->xq_head + 1) % s->xq_cap;
	s->xq_len--;
}

static struct xmit *xq_front(struct sender *s)
{
	while (s->xq_len) {
		struct xmit *x = &s->xq[s->xq_head];

		if (!xmit_stale(s, x))
			return x;
		xq_pop(s);
	}
	return NULL;
}

/* Drops stale entries from the middle too; only when the ring is full. */
static void xq_compact(struct sender *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->xq_len; i++) {
		struct xmit x = s->xq[(s->xq_head + i) % s->xq_cap];

		if (!xmit_stale(s, &x))
			s->xq[(s->xq_head + n++) % s->xq_cap] = x;
	}
	s->xq_len = n;
}

static void block_acked(struct sender *s, struct block *k)
{
	if (k->acked)
		return;
	k->acked = 1;
	if (!k->lost)
		s->inflight -= k->len;
	/* A lost block's queue entry is skipped when popped. */
	s->acked_bytes += k->len;
	cc_on_ack(&s->cc, k->len ? k->len : 1);
	if (k->sent_at > s->rack_at)
		s->rack_at = k->sent_at;
	if (k->eof)
		s->eof_acked = 1;
}

static uint64_t block_span(const struct block *k)
{
	return k->eof ? 1 : k->len;
}

/* First live block whose position is >= pos (btail if none). */
static uint64_t find_block(const struct sender *s, uint64_t pos)
{
	uint64_t lo = s->bhead, hi = s->btail;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (blk_at(s, mid)->pos < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void apply_range(struct sender *s, const struct range *r)
{
	for (uint64_t b = find_block(s, r->start); b < s->btail; b++) {
		struct block *k = blk_at(s, b);

		if (k->pos + block_span(k) > r->stop)
			break;
		block_acked(s, k);
	}
}

static void release_front(struct sender *s)
{
	while (s->bhead < s->btail && blk_at(s, s->bhead)->acked) {
		struct block *k = blk_at(s, s->bhead);

		sendq_release(&s->q, k->pos + k->len);
		s->bhead++;
	}
}

static uint64_t reo_window(const struct sender *s)
{
	uint64_t w = s->cc.srtt / 4;

	return w < REO_MIN ? REO_MIN : w;
}

static void detect_losses(struct sender *s, uint64_t now)
{
	uint64_t reo = reo_window(s);
	struct xmit *x;

	(void)now;
	while ((x = xq_front(s)) && x->at + reo < s->rack_at) {
		uint64_t seq = x->seq, b = x->blk;

		xq_pop(s);
		mark_lost(s, b);
		cc_on_loss(&s->cc, seq, s->seq);
	}
}

/*
 * A timeout turned out spurious: the blocks it declared lost are in
 * flight after all. Put them back, oldest first, ahead of everything sent
 * since (all of which is younger), instead of resending them in a burst.
 */
static void restore_lost(struct sender *s)
{
	while (s->rq_len && s->xq_len < s->xq_cap) {
		size_t last = (s->rq_head + s->rq_len - 1) % s->rq_cap;
		uint64_t b = s->rq[last];
		struct block *k;
		struct xmit *x;

		s->rq_len--;
		if (b < s->bhead)
			continue;
		k = blk_at(s, b);
		if (k->acked || !k->lost)
			continue;
		k->lost = 0;
		s->inflight += k->len;
		s->xq_head = (s->xq_head + s->xq_cap - 1) % s->xq_cap;
		s->xq_len++;
		x = &s->xq[s->xq_head];
		x->blk = b;
		x->seq = k->xmit_seq;
		x->at = k->sent_at;
	}
}

void sender_on_ack(struct sender *s, const struct msg *m, uint64_t now)
{
	struct range r[ACKS_MAX_RANGES];
	size_t n = acks_ranges(m, r);
	uint64_t acked_before = s->acked_bytes + s->bhead;

	if (m->acked_id) {
		size_t i = m->acked_id % SENDER_IDLOG;

		if (s->ids[i].id == m->acked_id && s->ids[i].at) {
			if (cc_check_undo(&s->cc, s->ids[i].at))
				restore_lost(s);
			if (now >= s->ids[i].at)
				cc_rtt_sample(&s->cc, now - s->ids[i].at);
			s->ids[i].at = 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		apply_range(s, &r[i]);
	release_front(s);
	if (s->acked_bytes + s->bhead != acked_before)
		s->tail_sent = 0;
	detect_losses(s, now);
}

/* Next valid block in the retransmit queue, dropping stale entries. */
static struct block *rq_front(struct sender *s, uint64_t *bn)
{
	while (s->rq_len) {
		uint64_t b = s->rq[s->rq_head];

		if (rq_live(s, b)) {
			*bn = b;
			return blk_at(s, b);
		}
		s->rq_head = (s->rq_head + 1) % s->rq_cap;
		s->rq_len--;
	}
	return NULL;
}

int sender_peek(struct sender *s, size_t maxlen, uint32_t *len)
{
	uint64_t b;
	struct block *k;
	uint64_t avail;

	if (s->xq_len == s->xq_cap)
		xq_compact(s);
	if (s->xq_len == s->xq_cap)
		return 0;
	k = rq_front(s, &b);
	if (k) {
		*len = k->len;
		return 1;
	}
	if (s->btail - s->bhead >= s->blk_cap)
		return 0;
	avail = s->q.end - s->next_pos;
	if (avail) {
		*len = (uint32_t)(avail < maxlen ? avail : maxlen);
		return 1;
	}
	if (s->eof != MSG_EOF_NONE && !s->eof_block) {
		*len = 0;
		return 1;
	}
	return 0;
}

static uint64_t new_block(struct sender *s, size_t maxlen)
{
	uint64_t avail = s->q.end - s->next_pos;
	uint64_t b = s->btail++;
	struct block *k = blk_at(s, b);

	memset(k, 0, sizeof *k);
	k->pos = s->next_pos;
	if (avail) {
		k->len = (uint32_t)(avail < maxlen ? avail : maxlen);
		s->next_pos += k->len;
	} else {
		k->eof = (uint8_t)s->eof;
		s->eof_block = 1;
	}
	return b;
}

void sender_take(struct sender *s, size_t maxlen, uint64_t now, uint32_t id,
		 struct msg *m, uint8_t *buf)
{
	uint64_t b;
	struct block *k = rq_front(s, &b);
	struct xmit *x;

	s->tail_force = 0;
	if (k) {
		s->rq_head = (s->rq_head + 1) % s->rq_cap;
		s->rq_len--;
		k->lost = 0;
		s->retransmits++;
	} else {
		b = new_block(s, maxlen);
		k = blk_at(s, b);
	}
	k->sent_at = now;
	k->xmit_seq = s->seq++;
	k->tries++;
	s->inflight += k->len;
	x = &s->xq[(s->xq_head + s->xq_len) % s->xq_cap];
	x->blk = b;
	x->seq = k->xmit_seq;
	x->at = now;
	s->xq_len++;
	s->ids[id % SENDER_IDLOG].id = id;
	s->ids[id % SENDER_IDLOG].at = now;
	m->id = id;
	m->pos = k->pos;
	m->len = (uint16_t)k->len;
	m->eof = (enum msg_eof)k->eof;
	if (k->len)
		sendq_copy(&s->q, k->pos, buf, k->len);
	m->data = buf;
}

uint64_t sender_rto_at(struct sender *s)
{
	struct xmit *x = xq_front(s);

	return x ? x->at + cc_rto(&s->cc) : 0;
}

int sender_check_rto(struct sender *s, uint64_t now)
{
	uint64_t at = sender_rto_at(s);
	struct xmit *x;

	if (at == 0 || now < at)
		return 0;
	/* Like TCP after a timeout: everything unacknowledged is lost and
	 * goes out again under a minimal window. */
	cc_on_timeout(&s->cc, s->seq);
	cc_mark_timeout(&s->cc, now);
	while ((x = xq_front(s))) {
		uint64_t b = x->blk;

		xq_pop(s);
		mark_lost(s, b);
	}
	/* The first unacknowledged block goes first, as in TCP: it is what
	 * holds the receiver back, and its latest copy may be the youngest
	 * transmission, last in the queue just built. */
	if (rq_live(s, s->bhead))
		rq_push_front(s, s->bhead);
	return 1;
}

/* Two round trips plus the peer's ack delay: no RTO floor, which is
 * sized for paths far slower than the loopback-like ones this saves. */
static uint64_t tail_timeout(const struct sender *s)
{
	return 2 * s->cc.srtt + 4 * s->cc.rttvar + TAIL_ACK_DELAY;
}

uint64_t sender_tail_at(struct sender *s)
{
	struct xmit *x;

	if (s->tail_sent || s->cc.srtt == 0)
		return 0;
	x = xq_front(s);
	return x ? x->at + tail_timeout(s) : 0;
}

int sender_check_tail(struct sender *s, uint64_t now)
{
	uint64_t at = sender_tail_at(s);
	struct block *k;

	if (at == 0 || now < at)
		return 0;
	s->tail_sent = 1;
	if (s->bhead == s->btail)
		return 0;
	k = blk_at(s, s->bhead);
	if (k->acked)
		return 0;
	/* The hole may already wait in the retransmit queue behind others
	 * while blocks beyond the reach of the peer's ack ranges hold the
	 * window full: it goes first, and past the window (tail_force). */
	mark_lost(s, s->bhead);
	rq_push_front(s, s->bhead);
	s->tail_force = rq_live(s, s->bhead);
	return s->tail_force;
}
