#include "engine.h"

#include <string.h>

#include "log.h"

#define SEC (1000ULL * 1000 * 1000)
#define MS (1000ULL * 1000)

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int engine_init(struct engine *e, const struct engine_cfg *cfg, uint64_t now)
{
	memset(e, 0, sizeof *e);
	e->cfg = *cfg;
	e->start = now;
	e->last_heard = now;
	e->next_id = 1;
	if (sender_init(&e->snd, cfg->sendbuf, now) < 0)
		return -1;
	if (receiver_init(&e->rcv, cfg->recvbuf) < 0) {
		sender_free(&e->snd);
		return -1;
	}
	if (cfg->role == ROLE_CLIENT)
		e->hello_at = now;
	else if (cfg->role == ROLE_CLIENT_FIRST)
		e->hello_at = now + SEC;
	return 0;
}

void engine_free(struct engine *e)
{
	sender_free(&e->snd);
	receiver_free(&e->rcv);
}

static uint32_t take_id(struct engine *e)
{
	uint32_t id = e->next_id++;

	if (e->next_id == 0)
		e->next_id = 1;
	return id;
}

static int acks_valid(const struct engine *e, const struct msg *m)
{
	struct range r[ACKS_MAX_RANGES];
	size_t n = acks_ranges(m, r);

	for (size_t i = 0; i < n; i++)
		if (!sender_ack_valid(&e->snd, r[i].stop))
			return 0;
	return 1;
}

/* Decides how soon the message just received must be acknowledged. */
static void owe_ack(struct engine *e, const struct msg *m,
		    enum recv_result res, uint64_t now)
{
	int in_order = res == RECV_NEW && e->rcv.got.n == 0 &&
		       m->eof == MSG_EOF_NONE && m->len > 0;

	if (m->id == 0)
		return;
	e->ack_id = m->id;
	if (!in_order || e->legacy_peer) {
		/* Holes, duplicates, drops, EOFs and probes: tell the
		 * sender at once so it can repair or finish quickly.
		 * curvecpmessage times its sending by per-message acks. */
		e->ack_now = 1;
		return;
	}
	if (++e->ack_count >= ENGINE_ACK_EVERY)
		e->ack_now = 1;
	else if (!e->ack_due)
		e->ack_due = now + ENGINE_ACK_DELAY;
}

void engine_refused(struct engine *e, const char *why)
{
	/* A peer sending garbage must not flood the log. */
	e->bad_in++;
	if (e->bad_in <= ENGINE_BAD_LOGGED)
		log_warn("dropping message: %s", why);
	if (e->bad_in == ENGINE_BAD_LOGGED)
		log_warn("further refused messages are only counted");
}

int engine_input(struct engine *e, uint64_t now, const uint8_t *p, size_t n)
{
	struct msg m;
	enum msg_error err = msg_decode(&m, p, n);
	enum recv_result res = RECV_DUP;

	if (err != MSG_OK) {
		engine_refused(e, msg_error_str(err));
		return -1;
	}
	if (!acks_valid(e, &m)) {
		engine_refused(e, "acknowledges bytes never sent");
		return -1;
	}
	if (m.id != 0 && (m.len > 0 || m.eof != MSG_EOF_NONE)) {
		res = receiver_on_data(&e->rcv, &m);
		if (res == RECV_BAD) {
			/* A block keeps its position and length for life and
			 * only the last one carries the EOF, so no peer
			 * following the protocol, even a lossy or reordered
			 * one, can send this: CurveCP authenticates the peer,
			 * so it is the peer's own fault and fatal. */
			engine_refused(e, "data inconsistent with the "
					  "stream's EOF");
			e->violation = 1;
			return -1;
		}
	}
	e->msgs_in++;
	if (n > msg_size(m.len) && !e->legacy_peer) {
		e->legacy_peer = 1;
		log_info("peer pads its messages (curvecpmessage?): at most "
			 "%u bytes in flight", ENGINE_LEGACY_WINDOW);
	}
	e->peer_spoke = 1;
	e->last_heard = now;
	if (m.eof != MSG_EOF_NONE && res == RECV_NEW && m.eof == MSG_EOF_FAIL &&
	    !e->failure_logged) {
		e->failure_logged = 1;
		log_warn("peer sent failure EOF");
	}
	if (e->probe_active && m.acked_id == e->probe_id)
		e->probe_active = 0;
	if (e->done_probe_id && m.acked_id &&
	    (int32_t)(m.acked_id - e->done_probe_id) >= 0)
		e->fin_acked = 1;
	/* A msgpipe peer probes only with nothing outstanding, so a probe
	 * at its EOF position means its whole stream, EOF included, was
	 * acknowledged and it knows it. curvecpmessage makes no such
	 * promise: it gets the quiet linger. */
	if (m.id && m.len == 0 && m.eof == MSG_EOF_NONE && !e->legacy_peer &&
	    e->rcv.eof != MSG_EOF_NONE && m.pos == e->rcv.eof_pos &&
	    e->rcv.got.contig == e->rcv.eof_pos)
		e->peer_settled = 1;
	sender_on_ack(&e->snd, &m, now);
	owe_ack(e, &m, res, now);
	return 0;
}

static void fill_acks(struct engine *e, struct msg *m)
{
	static const struct rangeset none;

	/* curvecpmessage applies each range on its own, so a block cut by
	 * the split of a long range is never acknowledged, and its backoff
	 * then stalls it: it gets range 1 only, as it sends itself. */
	acks_fill(m, receiver_ack_first(&e->rcv),
		  e->legacy_peer ? &none : &e->rcv.got);
	m->acked_id = e->ack_id;
	e->ack_now = 0;
	e->ack_count = 0;
	e->ack_due = 0;
}

static size_t emit(struct engine *e, uint64_t now, struct msg *m,
		   uint8_t *out, size_t cap)
{
	(void)now;
	fill_acks(e, m);
	e->msgs_out++;
	e->we_spoke = 1;
	return msg_encode_frame(m, out, cap);
}

static size_t max_data(const struct engine *e)
{
	if (e->cfg.role != ROLE_SERVER && !e->peer_spoke)
		return MSG_CLIENT_FIRST_MAX - MSG_HEADER;
	return MSG_DATA_MAX;
}

static uint64_t probe_due(const struct engine *e)
{
	uint64_t iv;

	if (e->probe_active) {
		iv = cc_rto(&e->snd.cc);
		for (unsigned i = 0; i < e->probe_tries && iv < CC_RTO_MAX; i++)
			iv *= 2;
		return e->probe_at + (iv > CC_RTO_MAX ? CC_RTO_MAX : iv);
	}
	if (!e->we_spoke && e->hello_at)
		return e->hello_at;
	/* Done, either role: the done probe carries our final acks and
	 * asks the peer to confirm them (retried on the schedule above
	 * until it does), unless the peer already said it needs nothing. */
	if (!e->fin_acked && !e->peer_settled && engine_done(e))
		return e->start;
	if (!e->peer_spoke || sender_outstanding(&e->snd))
		return 0;
	return e->last_heard + e->cfg.keepalive_ns;
}

static size_t send_probe(struct engine *e, uint64_t now, uint8_t *out,
			 size_t cap)
{
	struct msg m = { 0 };

	if (!e->probe_active) {
		e->probe_active = 1;
		e->probe_tries = 0;
		if (e->we_spoke)
			log_debug("sending a probe");
	} else {
		e->probe_tries++;
	}
	e->probe_id = take_id(e);
	e->probe_at = now;
	if (!e->done_probe_id && engine_done(e))
		e->done_probe_id = e->probe_id;
	m.id = e->probe_id;
	m.pos = e->snd.next_pos;
	return emit(e, now, &m, out, cap);
}

static int window_open(const struct engine *e, uint32_t len)
{
	return !e->legacy_peer ||
	       e->snd.inflight + len <= ENGINE_LEGACY_WINDOW;
}

size_t engine_output(struct engine *e, uint64_t now, uint8_t *out, size_t cap)
{
	uint8_t data[MSG_DATA_MAX];
	struct msg m = { 0 };
	size_t maxlen = max_data(e);
	uint32_t len;
	uint64_t pd;

	if (cap < MSG_FRAME_MAX)
		return 0;
	if (e->cfg.role == ROLE_SERVER && !e->peer_spoke)
		return 0;
	cc_refill(&e->snd.cc, now);
	if (sender_peek(&e->snd, maxlen, &len) && window_open(e, len) &&
	    (cc_can_send(&e->snd.cc, e->snd.inflight, len) ||
	     e->snd.tail_force)) {
		sender_take(&e->snd, maxlen, now, take_id(e), &m, data);
		cc_sent(&e->snd.cc, msg_size(len));
		e->probe_active = 0; /* data carries the question now */
		return emit(e, now, &m, out, cap);
	}
	pd = probe_due(e);
	if (pd && now >= pd)
		return send_probe(e, now, out, cap);
	if (e->ack_id && (e->ack_now || (e->ack_due && now >= e->ack_due))) {
		e->acks_out++;
		return emit(e, now, &m, out, cap);
	}
	return 0;
}

/* Our EOF is the only thing unacknowledged and the peer has finished:
 * some peers (curvecpmessage) exit without acking it, so wait a while. */
static int eof_wait_over(struct engine *e, uint64_t now)
{
	uint64_t wait;

	if (e->snd.eof_acked || !e->snd.eof_block ||
	    !sender_data_acked(&e->snd) || e->rcv.eof == MSG_EOF_NONE ||
	    e->rcv.got.contig != e->rcv.eof_pos) {
		e->eof_unacked_at = 0;
		return 0;
	}
	if (!e->eof_unacked_at)
		e->eof_unacked_at = now;
	wait = clamp(4 * cc_rto(&e->snd.cc), 200 * MS, 3 * SEC);
	return now >= e->eof_unacked_at + wait;
}

enum engine_status engine_tick(struct engine *e, uint64_t now)
{
	if (e->violation)
		return ENGINE_VIOLATION;
	if (log_get_level() >= LOG_DEBUG && sender_outstanding(&e->snd)) {
		const struct block *k =
			&e->snd.blk[e->snd.bhead % e->snd.blk_cap];

		if (sender_check_rto(&e->snd, now))
			log_debug("retransmission timeout: first unacked "
				  "block at %llu (%u bytes%s, sent %u times), "
				  "%llu in flight, rto now %llu us",
				  (unsigned long long)k->pos, k->len,
				  k->eof ? ", EOF" : "", k->tries,
				  (unsigned long long)e->snd.inflight,
				  (unsigned long long)(cc_rto(&e->snd.cc) /
						       1000));
	} else {
		sender_check_rto(&e->snd, now);
	}
	/* curvecpmessage paces its acks its own way: RTO only there. */
	if (!e->legacy_peer && sender_check_tail(&e->snd, now))
		log_debug("tail retransmission: block at %llu",
			  (unsigned long long)e->snd.blk[e->snd.bhead %
							 e->snd.blk_cap].pos);
	if (!e->eof_given_up && eof_wait_over(e, now)) {
		e->eof_given_up = 1;
		log_info("peer finished without acknowledging our EOF");
	}
	if (engine_done(e))
		return ENGINE_DONE;
	if (now < e->last_heard + e->cfg.giveup_ns || e->eof_given_up)
		return ENGINE_RUNNING;
	/* A peer that never spoke is given up too: curvecpserver starts
	 * us only with the client's first message already queued. */
	if (sender_outstanding(&e->snd) || e->probe_active || !e->peer_spoke)
		return ENGINE_GIVEUP;
	return ENGINE_RUNNING;
}

static void earliest(uint64_t *d, uint64_t t)
{
	if (t && (!*d || t < *d))
		*d = t;
}

uint64_t engine_deadline(struct engine *e, uint64_t now)
{
	uint64_t d = 0;
	uint32_t len;

	if (e->cfg.role == ROLE_SERVER && !e->peer_spoke)
		return e->last_heard + e->cfg.giveup_ns;
	earliest(&d, sender_rto_at(&e->snd));
	if (!e->legacy_peer)
		earliest(&d, sender_tail_at(&e->snd));
	earliest(&d, probe_due(e));
	if (e->ack_id && e->ack_now)
		earliest(&d, now);
	earliest(&d, e->ack_due);
	if (sender_peek(&e->snd, max_data(e), &len) && window_open(e, len) &&
	    e->snd.tail_force) {
		earliest(&d, now);
	} else if (sender_peek(&e->snd, max_data(e), &len) &&
		   window_open(e, len) &&
		   e->snd.inflight + len <= e->snd.cc.cwnd) {
		/* Wake for a batch (a quarter of the bucket, at least a few
		 * messages), not for every message. */
		uint64_t batch = cc_burst(&e->snd.cc) / 4;

		if (batch < ENGINE_PACE_BATCH * msg_size(len))
			batch = ENGINE_PACE_BATCH * msg_size(len);
		earliest(&d, cc_pace_at(&e->snd.cc, now, batch));
	}
	if (sender_outstanding(&e->snd) || e->probe_active || !e->peer_spoke)
		earliest(&d, e->last_heard + e->cfg.giveup_ns);
	if (e->eof_unacked_at)
		earliest(&d, e->eof_unacked_at +
				     clamp(4 * cc_rto(&e->snd.cc), 200 * MS,
					   3 * SEC));
	return d;
}

int engine_done(const struct engine *e)
{
	return (sender_done(&e->snd) || e->eof_given_up) &&
	       receiver_finished(&e->rcv);
}

/*
 * Without proof, the peer may still be retransmitting its last blocks to
 * get our final acks: those come at least every CC_RTO_MAX (its backed-off
 * RTO), and our done probes go out as often. Quiet for two of those means
 * several messages in a row were lost, or the peer is gone. curvecpmessage
 * exits once its EOF is acknowledged and never confirms ours: the short
 * window it has always had.
 */
uint64_t engine_linger_quiet(const struct engine *e)
{
	uint64_t rto = cc_rto(&e->snd.cc);

	if (e->legacy_peer)
		return clamp(2 * rto, 60 * MS, 2 * SEC);
	return clamp(8 * rto, 2 * CC_RTO_MAX, 4 * CC_RTO_MAX);
}

uint64_t engine_linger_until(const struct engine *e)
{
	if (e->fin_acked || e->peer_settled)
		return e->start; /* it needs nothing more from us */
	return e->last_heard + engine_linger_quiet(e);
}

int engine_may_exit(const struct engine *e, uint64_t now)
{
	/* An ack still owed (the peer's done probe) goes out first. */
	return engine_done(e) && !e->ack_now && !e->ack_due &&
	       now >= engine_linger_until(e);
}

void engine_child_eof(struct engine *e, enum msg_eof how)
{
	sender_set_eof(&e->snd, how);
}

int engine_child_data(const struct engine *e, struct iovec iov[2])
{
	return recvq_data(&e->rcv.q, receiver_ready(&e->rcv), iov);
}

void engine_child_wrote(struct engine *e, size_t n)
{
	receiver_consumed(&e->rcv, n);
}

void engine_child_closed(struct engine *e)
{
	receiver_discard(&e->rcv);
}

enum msg_eof engine_peer_eof(const struct engine *e)
{
	return receiver_finished(&e->rcv) ? e->rcv.eof : MSG_EOF_NONE;
}
