#include "sendq.h"

#include <stdlib.h>
#include <string.h>

int sendq_init(struct sendq *q, size_t cap)
{
	memset(q, 0, sizeof *q);
	q->p = malloc(cap ? cap : 1);
	if (!q->p)
		return -1;
	q->cap = cap;
	return 0;
}

void sendq_free(struct sendq *q)
{
	free(q->p);
	q->p = NULL;
}

int sendq_space(const struct sendq *q, struct iovec iov[2])
{
	size_t room = sendq_room(q), at, first;

	if (room == 0)
		return 0;
	at = (size_t)(q->end % q->cap);
	first = q->cap - at < room ? q->cap - at : room;
	iov[0].iov_base = q->p + at;
	iov[0].iov_len = first;
	if (first == room)
		return 1;
	iov[1].iov_base = q->p;
	iov[1].iov_len = room - first;
	return 2;
}

void sendq_commit(struct sendq *q, size_t n)
{
	if (n > sendq_room(q))
		n = sendq_room(q);
	q->end += n;
}

void sendq_copy(const struct sendq *q, uint64_t pos, uint8_t *dst, size_t n)
{
	size_t at = (size_t)(pos % q->cap);
	size_t first = q->cap - at < n ? q->cap - at : n;

	memcpy(dst, q->p + at, first);
	if (first < n)
		memcpy(dst + first, q->p, n - first);
}

void sendq_release(struct sendq *q, uint64_t pos)
{
	if (pos > q->end)
		pos = q->end;
	if (pos > q->base)
		q->base = pos;
}
