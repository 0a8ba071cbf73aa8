#include "recvq.h"

int recvq_init(struct recvq *q, size_t cap)
{
	q->base = 0;
	return ring_init(&q->r, cap);
}

void recvq_free(struct recvq *q)
{
	ring_free(&q->r);
}

void recvq_store(struct recvq *q, uint64_t pos, const uint8_t *src, size_t n)
{
	ring_put(&q->r, pos, src, n);
}

int recvq_data(const struct recvq *q, uint64_t ready, struct iovec iov[2])
{
	if (ready <= q->base)
		return 0;
	return ring_iov(&q->r, q->base, (size_t)(ready - q->base), iov);
}

void recvq_consume(struct recvq *q, size_t n)
{
	q->base += n;
}
