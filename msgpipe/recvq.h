/*
 * Incoming stream bytes: a ring for stream positions [base, base + cap).
 * base is the first byte not yet written to the child; bytes may land
 * anywhere in the window out of order (the rangeset in acks.h says which
 * are present), and [base, ready) is what can be written now.
 */
#ifndef RECVQ_H
#define RECVQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ring.h"

struct recvq {
	struct ring r;
	uint64_t base;
};

int recvq_init(struct recvq *q, size_t cap);
void recvq_free(struct recvq *q);
/* Stores n bytes at stream position pos; the caller clipped them to the
 * window [base, base + cap). */
void recvq_store(struct recvq *q, uint64_t pos, const uint8_t *src, size_t n);
/* Bytes [base, ready) as up to two segments for writev(2). */
int recvq_data(const struct recvq *q, uint64_t ready, struct iovec iov[2]);
void recvq_consume(struct recvq *q, size_t n);
static inline uint64_t recvq_limit(const struct recvq *q)
{
	return q->base + q->r.cap;
}

#endif
