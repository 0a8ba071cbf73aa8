/*
 * Acknowledgement bookkeeping, both ways.
 *
 * Receiving: a set of stream byte ranges received beyond the contiguous
 * prefix, turned into the six ranges of an outgoing message.
 * Sending: the six ranges of an incoming message, turned back into
 * absolute [start, stop) intervals for the send queue.
 */
#ifndef ACKS_H
#define ACKS_H

#include <stddef.h>
#include <stdint.h>

#include "message.h"

#define ACKS_MAX_RANGES 6
/* Holes we remember; data that would open one more is dropped (unacked). */
#define RANGESET_MAX 128

struct range {
	uint64_t start;
	uint64_t stop; /* exclusive */
};

struct rangeset {
	uint64_t contig;                 /* every byte below it received */
	struct range r[RANGESET_MAX];    /* sorted, disjoint, above contig+1 */
	size_t n;
};

void rangeset_init(struct rangeset *s);
/*
 * Adds [start, stop). Returns 1 if new bytes were added, 0 if all were
 * already there, -1 if remembering it needs more than RANGESET_MAX holes
 * (nothing is added then).
 */
int rangeset_add(struct rangeset *s, uint64_t start, uint64_t stop);
/* 1 if every byte of [start, stop) has been received. */
int rangeset_has(const struct rangeset *s, uint64_t start, uint64_t stop);

/*
 * Fills the ack fields of m: range 1 = [0, first) where first is contig
 * (plus one when the EOF is complete), then the lowest received ranges
 * above it; ranges longer than a u16 are split with zero gaps, and a gap
 * too large for its field ends the list. Never acks more than it holds.
 */
void acks_fill(struct msg *m, uint64_t first, const struct rangeset *s);

/*
 * Absolute intervals acknowledged by m, in order, empty ones left out and
 * touching ones merged. Returns how many (0..6).
 */
size_t acks_ranges(const struct msg *m, struct range out[ACKS_MAX_RANGES]);

#endif
