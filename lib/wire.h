/*
 * The one bounds-checked API for wire data.
 *
 * A reader is a cursor over (pointer, length). Every getter either succeeds
 * and advances, or fails, consumes nothing and sets the sticky error flag, so
 * a parser can read a whole message and test rd_ok()/rd_end() once at the
 * end. A writer fills a caller-owned array the same way: an overflow sets the
 * error flag and writes nothing.
 */
#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>
#include <stdint.h>

struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
};

struct wr {
	uint8_t *p;
	size_t cap;
	size_t len;
	int err;
};

void rd_init(struct rd *r, const void *p, size_t len);
size_t rd_left(const struct rd *r);
int rd_ok(const struct rd *r);
/* True when no error happened and every byte was consumed. */
int rd_end(const struct rd *r);

int rd_u8(struct rd *r, uint8_t *v);
int rd_be16(struct rd *r, uint16_t *v);
int rd_be32(struct rd *r, uint32_t *v);
int rd_be64(struct rd *r, uint64_t *v);
int rd_le16(struct rd *r, uint16_t *v);
int rd_le32(struct rd *r, uint32_t *v);
int rd_le64(struct rd *r, uint64_t *v);
/* Copies n bytes out. */
int rd_bytes(struct rd *r, void *dst, size_t n);
/* Points *p at the next n bytes inside the message, without copying. */
int rd_view(struct rd *r, const uint8_t **p, size_t n);
int rd_skip(struct rd *r, size_t n);
/*
 * A be32-length-prefixed string (SFTP, our frames): *p points inside the
 * message, *n is its length, which must be at most max.
 */
int rd_string(struct rd *r, const uint8_t **p, uint32_t *n, uint32_t max);
/*
 * The same, copied into dst as a NUL-terminated C string. Fails when the
 * string holds a NUL byte or does not fit in dstsize-1 bytes.
 */
int rd_cstring(struct rd *r, char *dst, size_t dstsize);

void wr_init(struct wr *w, void *p, size_t cap);
int wr_ok(const struct wr *w);
size_t wr_room(const struct wr *w);
int wr_u8(struct wr *w, uint8_t v);
int wr_be16(struct wr *w, uint16_t v);
int wr_be32(struct wr *w, uint32_t v);
int wr_be64(struct wr *w, uint64_t v);
int wr_le16(struct wr *w, uint16_t v);
int wr_le32(struct wr *w, uint32_t v);
int wr_le64(struct wr *w, uint64_t v);
int wr_bytes(struct wr *w, const void *p, size_t n);
int wr_zero(struct wr *w, size_t n);
/* be32 length then the bytes. */
int wr_string(struct wr *w, const void *p, size_t n);
int wr_cstring(struct wr *w, const char *s);
/* Reserves n bytes to fill later (a length patched in afterwards). */
uint8_t *wr_reserve(struct wr *w, size_t n);

#endif
