/*
 * The receiving half of the reliability engine: data from messages placed
 * in the receive window (out of order allowed), the ranges received, the
 * peer's EOF and what can be written to the child. No I/O.
 */
#ifndef RECEIVER_H
#define RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "acks.h"
#include "message.h"
#include "recvq.h"

enum recv_result {
	RECV_NEW,       /* new bytes (or a new EOF) accepted */
	RECV_DUP,       /* nothing new: already had all of it */
	RECV_DROPPED,   /* outside the window or too many holes */
	RECV_BAD        /* inconsistent with what we know: a violation */
};

struct receiver {
	struct recvq q;
	struct rangeset got;
	enum msg_eof eof;   /* peer's EOF once seen */
	uint64_t eof_pos;
	int discard;        /* the child's input is closed: drop on arrival */
	uint64_t bytes;     /* statistics: new bytes accepted */
	uint64_t dups;
	uint64_t dropped;
};

int receiver_init(struct receiver *r, size_t bufsize);
void receiver_free(struct receiver *r);
/* Checks m's data and EOF against what we know, stores what fits. */
enum recv_result receiver_on_data(struct receiver *r, const struct msg *m);
/* Bytes [q.base, ready) can be written to the child. */
static inline uint64_t receiver_ready(const struct receiver *r)
{
	return r->got.contig;
}
/* Range 1 of our acks: the contiguous prefix, the EOF counting once
 * every byte before it arrived. */
uint64_t receiver_ack_first(const struct receiver *r);
/* The child stopped taking input: everything is consumed from now on. */
void receiver_discard(struct receiver *r);
/* Consumes n bytes written to the child. */
void receiver_consumed(struct receiver *r, size_t n);
/* 1 when the EOF has arrived and every byte before it was consumed. */
int receiver_finished(const struct receiver *r);

#endif
