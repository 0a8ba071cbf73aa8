#include "wire.h"

#include <string.h>

#include "bytes.h"

void rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

size_t rd_left(const struct rd *r)
{
	return r->len - r->off;
}

int rd_ok(const struct rd *r)
{
	return !r->err;
}

int rd_end(const struct rd *r)
{
	return !r->err && r->off == r->len;
}

/* The single place where a read is checked against the bounds. */
static const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

int rd_u8(struct rd *r, uint8_t *v)
{
	const uint8_t *p = rd_take(r, 1);

	if (!p)
		return -1;
	*v = p[0];
	return 0;
}

#define RD_INT(name, type, size, get)                 \
	int name(struct rd *r, type *v)               \
	{                                             \
		const uint8_t *p = rd_take(r, size); \
		if (!p)                               \
			return -1;                    \
		*v = get(p);                          \
		return 0;                             \
	}

RD_INT(rd_be16, uint16_t, 2, be16_get)
RD_INT(rd_be32, uint32_t, 4, be32_get)
RD_INT(rd_be64, uint64_t, 8, be64_get)
RD_INT(rd_le16, uint16_t, 2, le16_get)
RD_INT(rd_le32, uint32_t, 4, le32_get)
RD_INT(rd_le64, uint64_t, 8, le64_get)

int rd_bytes(struct rd *r, void *dst, size_t n)
{
	const uint8_t *p = rd_take(r, n);

	if (!p)
		return -1;
	if (n)
		memcpy(dst, p, n);
	return 0;
}

int rd_view(struct rd *r, const uint8_t **p, size_t n)
{
	const uint8_t *q = rd_take(r, n);

	if (!q)
		return -1;
	*p = q;
	return 0;
}

int rd_skip(struct rd *r, size_t n)
{
	return rd_take(r, n) ? 0 : -1;
}

int rd_string(struct rd *r, const uint8_t **p, uint32_t *n, uint32_t max)
{
	size_t save = r->off;
	uint32_t len;

	if (rd_be32(r, &len) < 0)
		return -1;
	if (len > max || len > rd_left(r)) {
		r->off = save;
		r->err = 1;
		return -1;
	}
	*p = rd_take(r, len);
	*n = len;
	return 0;
}

int rd_cstring(struct rd *r, char *dst, size_t dstsize)
{
	size_t save = r->off;
	const uint8_t *p;
	uint32_t n;
	size_t max = dstsize ? dstsize - 1 : 0;

	if (dstsize == 0 || rd_string(r, &p, &n, max > UINT32_MAX ? UINT32_MAX : (uint32_t)max) < 0) {
		r->err = 1;
		return -1;
	}
	if (memchr(p, 0, n)) {
		r->off = save;
		r->err = 1;
		return -1;
	}
	memcpy(dst, p, n);
	dst[n] = 0;
	return 0;
}

void wr_init(struct wr *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

int wr_ok(const struct wr *w)
{
	return !w->err;
}

size_t wr_room(const struct wr *w)
{
	return w->cap - w->len;
}

uint8_t *wr_reserve(struct wr *w, size_t n)
{
	uint8_t *p;

	if (w->err || n > w->cap - w->len) {
		w->err = 1;
		return NULL;
	}
	p = w->p + w->len;
	w->len += n;
	return p;
}

int wr_u8(struct wr *w, uint8_t v)
{
	uint8_t *p = wr_reserve(w, 1);

	if (!p)
		return -1;
	p[0] = v;
	return 0;
}

#define WR_INT(name, type, size, put)                \
	int name(struct wr *w, type v)               \
	{                                            \
		uint8_t *p = wr_reserve(w, size);    \
		if (!p)                              \
			return -1;                   \
		put(p, v);                           \
		return 0;                            \
	}

WR_INT(wr_be16, uint16_t, 2, be16_put)
WR_INT(wr_be32, uint32_t, 4, be32_put)
WR_INT(wr_be64, uint64_t, 8, be64_put)
WR_INT(wr_le16, uint16_t, 2, le16_put)
WR_INT(wr_le32, uint32_t, 4, le32_put)
WR_INT(wr_le64, uint64_t, 8, le64_put)

int wr_bytes(struct wr *w, const void *src, size_t n)
{
	uint8_t *p = wr_reserve(w, n);

	if (!p)
		return -1;
	if (n)
		memcpy(p, src, n);
	return 0;
}

int wr_zero(struct wr *w, size_t n)
{
	uint8_t *p = wr_reserve(w, n);

	if (!p)
		return -1;
	memset(p, 0, n);
	return 0;
}

int wr_string(struct wr *w, const void *src, size_t n)
{
	if (n > UINT32_MAX || 4 + n > wr_room(w) || w->err) {
		w->err = 1;
		return -1;
	}
	wr_be32(w, (uint32_t)n);
	return wr_bytes(w, src, n);
}

int wr_cstring(struct wr *w, const char *s)
{
	return wr_string(w, s, strlen(s));
}
