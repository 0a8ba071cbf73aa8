#include "sendq.h"

int sendq_init(struct sendq *q, size_t cap)
{
	q->base = q->end = 0;
	return ring_init(&q->r, cap);
}

void sendq_free(struct sendq *q)
{
	ring_free(&q->r);
}

int sendq_space(const struct sendq *q, struct iovec iov[2])
{
	return ring_iov(&q->r, q->end, sendq_room(q), iov);
}

void sendq_commit(struct sendq *q, size_t n)
{
	if (n > sendq_room(q))
		n = sendq_room(q);
	q->end += n;
}

void sendq_copy(const struct sendq *q, uint64_t pos, uint8_t *dst, size_t n)
{
	ring_get(&q->r, pos, dst, n);
}

void sendq_release(struct sendq *q, uint64_t pos)
{
	if (pos > q->end)
		pos = q->end;
	if (pos > q->base)
		q->base = pos;
}
