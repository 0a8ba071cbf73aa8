/*
 * The in-flight message queue of one lossylink direction: a bounded
 * min-heap ordered by delivery time, then arrival order, so messages that
 * draw no extra delay keep their order and held ones are overtaken.
 */
#ifndef LINKQUEUE_H
#define LINKQUEUE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LQ_MSG_MAX (1 + 68 * 16)

struct lq_msg {
	uint64_t due;
	uint64_t seq;
	size_t len;
	uint8_t data[LQ_MSG_MAX];
};

struct lq {
	struct lq_msg *slot;
	size_t *heap;     /* slot indices, heap-ordered */
	size_t *freelist; /* unused slot indices */
	size_t n, nfree, cap;
	uint64_t seq;
};

static inline int lq_init(struct lq *q, size_t cap)
{
	memset(q, 0, sizeof *q);
	q->slot = calloc(cap, sizeof *q->slot);
	q->heap = calloc(cap, sizeof *q->heap);
	q->freelist = calloc(cap, sizeof *q->freelist);
	if (!q->slot || !q->heap || !q->freelist)
		return -1;
	q->cap = q->nfree = cap;
	for (size_t i = 0; i < cap; i++)
		q->freelist[i] = cap - 1 - i;
	return 0;
}

static inline void lq_free(struct lq *q)
{
	free(q->slot);
	free(q->heap);
	free(q->freelist);
	memset(q, 0, sizeof *q);
}

static inline int lq_before(const struct lq *q, size_t a, size_t b)
{
	const struct lq_msg *x = &q->slot[q->heap[a]], *y = &q->slot[q->heap[b]];

	return x->due < y->due || (x->due == y->due && x->seq < y->seq);
}

static inline void lq_swap(struct lq *q, size_t a, size_t b)
{
	size_t t = q->heap[a];

	q->heap[a] = q->heap[b];
	q->heap[b] = t;
}

/* -1 when the queue is full (the message is dropped) or too long. */
static inline int lq_push(struct lq *q, uint64_t due, const uint8_t *p,
			  size_t len)
{
	size_t i, s;

	if (q->nfree == 0 || len > LQ_MSG_MAX)
		return -1;
	s = q->freelist[--q->nfree];
	q->slot[s].due = due;
	q->slot[s].seq = q->seq++;
	q->slot[s].len = len;
	memcpy(q->slot[s].data, p, len);
	i = q->n++;
	q->heap[i] = s;
	while (i > 0 && lq_before(q, i, (i - 1) / 2)) {
		lq_swap(q, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return 0;
}

/* The earliest message if it is due at now. */
static inline int lq_peek(const struct lq *q, uint64_t now,
			  const uint8_t **p, size_t *len)
{
	const struct lq_msg *m;

	if (q->n == 0)
		return 0;
	m = &q->slot[q->heap[0]];
	if (m->due > now)
		return 0;
	*p = m->data;
	*len = m->len;
	return 1;
}

static inline void lq_pop(struct lq *q)
{
	size_t i = 0;

	if (q->n == 0)
		return;
	q->freelist[q->nfree++] = q->heap[0];
	q->heap[0] = q->heap[--q->n];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && lq_before(q, c + 1, c))
			c++;
		if (!lq_before(q, c, i))
			break;
		lq_swap(q, i, c);
		i = c;
	}
}

/* Delivery time of the earliest message, 0 when empty. */
static inline uint64_t lq_next_due(const struct lq *q)
{
	return q->n ? q->slot[q->heap[0]].due : 0;
}

#endif
