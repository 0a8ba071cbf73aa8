#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

int buf_init(struct buf *b, size_t cap)
{
	b->data = malloc(cap ? cap : 1);
	b->start = b->end = b->touched = 0;
	b->cap = b->data ? cap : 0;
	return b->data ? 0 : -1;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->start = b->end = b->cap = b->touched = 0;
}

void buf_free_secret(struct buf *b)
{
	if (b->data)
		sodium_memzero(b->data, b->touched);
	buf_free(b);
}

void buf_consume(struct buf *b, size_t n)
{
	if (n > buf_len(b))
		n = buf_len(b);
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

void buf_clear(struct buf *b)
{
	b->start = b->end = 0;
}

uint8_t *buf_reserve(struct buf *b, size_t n)
{
	if (n > buf_room(b))
		return NULL;
	if (n > b->cap - b->end) {
		/* Compacting costs one move of the unread bytes; it only
		 * happens when the tail is short, so it stays amortised. */
		memmove(b->data, b->data + b->start, buf_len(b));
		b->end -= b->start;
		b->start = 0;
	}
	return b->data + b->end;
}

void buf_commit(struct buf *b, size_t n)
{
	if (n > b->cap - b->end)
		n = b->cap - b->end;
	b->end += n;
	if (b->end > b->touched)
		b->touched = b->end;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	uint8_t *dst = buf_reserve(b, n);

	if (!dst)
		return -1;
	if (n)
		memcpy(dst, p, n);
	buf_commit(b, n);
	return 0;
}

ssize_t buf_read_fd(struct buf *b, int fd)
{
	size_t room = buf_room(b);
	size_t tail = b->cap - b->end;
	uint8_t *dst;
	ssize_t r;

	if (room == 0) {
		errno = ENOBUFS;
		return -1;
	}
	/* Read into the free tail; compact only when the tail has shrunk
	 * below half of the free space, so a reader that consumes a little
	 * at a time does not move the unread bytes on every read. */
	if (tail < room / 2 || tail == 0) {
		dst = buf_reserve(b, room);
		tail = room;
	} else {
		dst = b->data + b->end;
	}
	do
		r = read(fd, dst, tail);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		buf_commit(b, (size_t)r);
	return r;
}

ssize_t buf_write_fd(struct buf *b, int fd)
{
	ssize_t w;

	do
		w = write(fd, buf_data(b), buf_len(b));
	while (w < 0 && errno == EINTR);
	if (w > 0)
		buf_consume(b, (size_t)w);
	return w;
}
