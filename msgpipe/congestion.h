/*
 * RTT estimate, retransmission timeout and congestion window: pure
 * arithmetic on nanosecond times, no clock reads, so tests drive it
 * directly. See docs/msgpipe.md ("Congestion control") for the reasoning.
 */
#ifndef CONGESTION_H
#define CONGESTION_H

#include <stdint.h>

#define CC_BLOCK 1024ULL                       /* bytes per full message */
#define CC_INIT_CWND (16 * CC_BLOCK)
#define CC_MIN_CWND (2 * CC_BLOCK)
#define CC_RTO_INIT (1000ULL * 1000 * 1000)    /* before any sample */
#define CC_RTO_MIN (100ULL * 1000 * 1000)
#define CC_RTO_MAX (1000ULL * 1000 * 1000)
#define CC_RTT_FLOOR (20ULL * 1000)            /* pacing never below 20 us */
#define CC_BURST_MIN (32 * CC_BLOCK)           /* pacing bucket size */

struct cc {
	uint64_t srtt;     /* 0 until the first sample */
	uint64_t rttvar;
	uint64_t min_rtt;
	unsigned backoff;  /* RTO multiplier exponent after timeouts */
	uint64_t cwnd;     /* bytes */
	uint64_t ssthresh;
	uint64_t max_cwnd;
	uint64_t acked_acc; /* congestion avoidance: bytes acked this round */
	uint64_t recover;  /* transmissions up to this seq are one loss event */
	uint64_t credit;   /* pacing bucket, bytes */
	uint64_t credit_at;/* time the bucket was last refilled */
	/* After a timeout: the window before it, restored if an ack shows a
	 * transmission sent before the timeout arrived after all (the
	 * timeout was spurious: the path was slow, not lossy). */
	uint64_t undo_cwnd, undo_ssthresh;
	uint64_t undo_before; /* time of the timeout; 0: nothing to undo */
	uint64_t undos;
	uint64_t losses;   /* loss events (statistics) */
	uint64_t timeouts;
};

void cc_init(struct cc *c, uint64_t max_cwnd, uint64_t now);
/* One round-trip sample (RFC 6298 alpha 1/8, beta 1/4); resets backoff. */
void cc_rtt_sample(struct cc *c, uint64_t rtt);
/* Current retransmission timeout, backoff included, clamped. */
uint64_t cc_rto(const struct cc *c);
/* bytes newly acknowledged: slow start or additive increase. */
void cc_on_ack(struct cc *c, uint64_t bytes);
/*
 * A block sent as transmission seq was lost; next_seq is the next
 * transmission number. Only the first loss of a round halves the window.
 * Returns 1 when this started a new loss event.
 */
int cc_on_loss(struct cc *c, uint64_t seq, uint64_t next_seq);
/* The retransmission timer fired: window to the minimum, RTO doubles. */
void cc_on_timeout(struct cc *c, uint64_t next_seq);
/* The retransmission timer fired at now (after cc_on_timeout). */
void cc_mark_timeout(struct cc *c, uint64_t now);
/*
 * An acknowledgement answered a transmission sent at sent_at: undoes a
 * spurious timeout's window cut (returns 1), or confirms the timeout was
 * real (returns 0).
 */
int cc_check_undo(struct cc *c, uint64_t sent_at);
/* Pacing rate in bytes per second (cwnd over srtt, with a floor on srtt). */
uint64_t cc_rate(const struct cc *c);
/* Size of the pacing bucket: about a millisecond of sending. */
uint64_t cc_burst(const struct cc *c);
/* Refills the pacing bucket up to now. */
void cc_refill(struct cc *c, uint64_t now);
/* 1 if bytes may leave now (window and pacing both allow it). */
int cc_can_send(const struct cc *c, uint64_t inflight, uint64_t bytes);
void cc_sent(struct cc *c, uint64_t bytes);
/* When the bucket will hold bytes again (now if it already does). */
uint64_t cc_pace_at(const struct cc *c, uint64_t now, uint64_t bytes);

#endif
