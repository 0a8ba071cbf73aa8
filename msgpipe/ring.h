/*
 * A byte ring addressed by absolute stream position: the byte at position
 * pos lives at index pos % cap, so either queue finds a block by its
 * stream position alone. The queues (sendq.h, recvq.h) decide which
 * positions are valid; the ring only maps positions to memory.
 */
#ifndef RING_H
#define RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct ring {
	uint8_t *p;
	size_t cap;
};

int ring_init(struct ring *r, size_t cap);
void ring_free(struct ring *r);
/* n bytes from pos as one or two iovecs (0 when n is 0); n <= cap. */
int ring_iov(const struct ring *r, uint64_t pos, size_t n,
	     struct iovec iov[2]);
void ring_put(struct ring *r, uint64_t pos, const uint8_t *src, size_t n);
void ring_get(const struct ring *r, uint64_t pos, uint8_t *dst, size_t n);

#endif
