/*
 * Outgoing stream bytes: a ring holding stream positions [base, end).
 * Bytes below base have been acknowledged and forgotten; the child's
 * output is appended at end. A byte lives at index pos % cap, so a block
 * is found by its stream position alone.
 */
#ifndef SENDQ_H
#define SENDQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ring.h"

struct sendq {
	struct ring r;
	uint64_t base;
	uint64_t end;
};

int sendq_init(struct sendq *q, size_t cap);
void sendq_free(struct sendq *q);
static inline size_t sendq_room(const struct sendq *q)
{
	return q->r.cap - (size_t)(q->end - q->base);
}
/* Free space as up to two segments for readv(2); returns the count. */
int sendq_space(const struct sendq *q, struct iovec iov[2]);
void sendq_commit(struct sendq *q, size_t n);
/* Copies n bytes from stream position pos (inside [base, end)). */
void sendq_copy(const struct sendq *q, uint64_t pos, uint8_t *dst, size_t n);
/* Forgets everything below pos. */
void sendq_release(struct sendq *q, uint64_t pos);

#endif
