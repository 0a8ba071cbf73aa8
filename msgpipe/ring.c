#include "ring.h"

#include <stdlib.h>
#include <string.h>

int ring_init(struct ring *r, size_t cap)
{
	r->p = malloc(cap ? cap : 1);
	r->cap = r->p ? cap : 0;
	return r->p ? 0 : -1;
}

void ring_free(struct ring *r)
{
	free(r->p);
	r->p = NULL;
}

int ring_iov(const struct ring *r, uint64_t pos, size_t n,
	     struct iovec iov[2])
{
	size_t at, first;

	if (n == 0)
		return 0;
	at = (size_t)(pos % r->cap);
	first = r->cap - at < n ? r->cap - at : n;
	iov[0].iov_base = r->p + at;
	iov[0].iov_len = first;
	if (first == n)
		return 1;
	iov[1].iov_base = r->p;
	iov[1].iov_len = n - first;
	return 2;
}

void ring_put(struct ring *r, uint64_t pos, const uint8_t *src, size_t n)
{
	struct iovec iov[2];
	int k = ring_iov(r, pos, n, iov);

	for (int i = 0; i < k; i++) {
		memcpy(iov[i].iov_base, src, iov[i].iov_len);
		src += iov[i].iov_len;
	}
}

void ring_get(const struct ring *r, uint64_t pos, uint8_t *dst, size_t n)
{
	struct iovec iov[2];
	int k = ring_iov(r, pos, n, iov);

	for (int i = 0; i < k; i++) {
		memcpy(dst, iov[i].iov_base, iov[i].iov_len);
		dst += iov[i].iov_len;
	}
}
