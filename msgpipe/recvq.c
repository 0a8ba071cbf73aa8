#include "recvq.h"

#include <stdlib.h>
#include <string.h>

int recvq_init(struct recvq *q, size_t cap)
{
	memset(q, 0, sizeof *q);
	q->p = malloc(cap ? cap : 1);
	if (!q->p)
		return -1;
	q->cap = cap;
	return 0;
}

void recvq_free(struct recvq *q)
{
	free(q->p);
	q->p = NULL;
}

void recvq_store(struct recvq *q, uint64_t pos, const uint8_t *src, size_t n)
{
	size_t at = (size_t)(pos % q->cap);
	size_t first = q->cap - at < n ? q->cap - at : n;

	memcpy(q->p + at, src, first);
	if (first < n)
		memcpy(q->p, src + first, n - first);
}

int recvq_data(const struct recvq *q, uint64_t ready, struct iovec iov[2])
{
	size_t len, at, first;

	if (ready <= q->base)
		return 0;
	len = (size_t)(ready - q->base);
	at = (size_t)(q->base % q->cap);
	first = q->cap - at < len ? q->cap - at : len;
	iov[0].iov_base = q->p + at;
	iov[0].iov_len = first;
	if (first == len)
		return 1;
	iov[1].iov_base = q->p;
	iov[1].iov_len = len - first;
	return 2;
}

void recvq_consume(struct recvq *q, size_t n)
{
	q->base += n;
}
