/*
 * The sending half of the reliability engine: stream bytes cut into
 * blocks (one block per message), transmissions in time order, selective
 * acknowledgements applied to blocks, loss detection and retransmission.
 *
 * Loss detection is time based (RACK-like): once a block sent at time t
 * is acknowledged, every block still unacknowledged whose last
 * transmission is older than t by more than a reordering allowance is
 * lost. The retransmission timer covers the tail. No I/O, no clock reads.
 */
#ifndef SENDER_H
#define SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "acks.h"
#include "congestion.h"
#include "message.h"
#include "sendq.h"

#define SENDER_IDLOG 4096

struct block {
	uint64_t pos;
	uint64_t sent_at;   /* last transmission */
	uint64_t xmit_seq;  /* last transmission's number */
	uint32_t len;
	uint32_t tries;
	uint8_t eof;        /* enum msg_eof: an EOF block has len 0 */
	uint8_t acked;
	uint8_t lost;       /* waiting in the retransmit queue */
};

struct xmit {
	uint64_t blk;  /* block number */
	uint64_t seq;
	uint64_t at;
};

struct sender {
	struct sendq q;
	struct cc cc;
	struct block *blk;
	size_t blk_cap;
	uint64_t bhead, btail;   /* live block numbers [bhead, btail) */
	struct xmit *xq;         /* transmissions, oldest first */
	size_t xq_cap, xq_head, xq_len;
	uint64_t *rq;            /* blocks to retransmit, in loss order */
	size_t rq_cap, rq_head, rq_len;
	uint64_t next_pos;       /* first byte not yet in a block */
	uint64_t seq;            /* next transmission number */
	uint64_t inflight;       /* bytes sent, unacked, not deemed lost */
	uint64_t rack_at;        /* newest send time known delivered */
	enum msg_eof eof;        /* the child's output ended this way */
	int eof_block;           /* the EOF block exists */
	int eof_acked;
	int tail_sent;           /* tail retransmission made, no progress since */
	int tail_force;          /* it goes next, whatever the window */
	uint64_t acked_bytes;    /* statistics */
	uint64_t retransmits;
	struct {
		uint32_t id;
		uint64_t at;
	} ids[SENDER_IDLOG];
};

int sender_init(struct sender *s, size_t bufsize, uint64_t now);
void sender_free(struct sender *s);

/* The child's output ended (after every byte already queued). */
void sender_set_eof(struct sender *s, enum msg_eof how);

/* 1 if an ack up to stop (exclusive) acknowledges nothing unsent. */
int sender_ack_valid(const struct sender *s, uint64_t stop);
/*
 * Applies the acks of an incoming message (validated by the caller),
 * takes an RTT sample from its acked id, then detects losses.
 */
void sender_on_ack(struct sender *s, const struct msg *m, uint64_t now);

/*
 * What would be sent next, at most maxlen data bytes: returns 1 and sets
 * *len (0 for an EOF block) when something is ready, 0 otherwise.
 */
int sender_peek(struct sender *s, size_t maxlen, uint32_t *len);
/*
 * Takes that block and records its transmission with message id; fills
 * m's data fields (m->data points into buf, MSG_DATA_MAX bytes).
 */
void sender_take(struct sender *s, size_t maxlen, uint64_t now, uint32_t id,
		 struct msg *m, uint8_t *buf);

/* Retransmission timer: returns 1 when it fired (losses marked). */
int sender_check_rto(struct sender *s, uint64_t now);
/* When the timer fires, 0 if nothing is outstanding. */
uint64_t sender_rto_at(struct sender *s);

static inline int sender_outstanding(const struct sender *s)
{
	return s->bhead != s->btail;
}
/*
 * Tail loss repair, well before the retransmission timeout: when the
 * oldest outstanding transmission has gone unanswered for about two
 * round trips, the first unacknowledged block is resent once (its ack
 * then lets time-based detection find the other losses). Once per
 * stall: another needs progress first. 0: not armed.
 */
uint64_t sender_tail_at(struct sender *s);
/*
 * Returns 1 when it queued the first unacknowledged block to go next
 * (tail_force: the caller sends it even if the window is full).
 */
int sender_check_tail(struct sender *s, uint64_t now);

/* Every byte and the EOF acknowledged. */
static inline int sender_done(const struct sender *s)
{
	return s->eof_acked && s->bhead == s->btail;
}
/* Every data byte acknowledged; only the EOF may be pending. */
int sender_data_acked(const struct sender *s);

#endif
