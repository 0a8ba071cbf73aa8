/*
 * A bounded byte queue between a file descriptor and a parser.
 *
 * Bytes live in data[start..end). Readers look at buf_data()/buf_len() and
 * call buf_consume(); writers either buf_append() or buf_reserve() space,
 * fill it (read(2), pread(2), a decryptor) and buf_commit(). The capacity is
 * fixed at buf_init(), so memory stays bounded whatever the peer sends.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf {
	uint8_t *data;
	size_t start;
	size_t end;
	size_t cap;
	size_t touched; /* high-water mark of end: what a wipe must cover */
};

/* 0 on success, -1 (errno ENOMEM) when the allocation fails. */
int buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
/*
 * Wipes the contents before freeing (buffers that held plaintext or keys).
 * Only the part ever written is wiped, so a big buffer that a session
 * barely used is not faulted in just to be zeroed.
 */
void buf_free_secret(struct buf *b);

static inline const uint8_t *buf_data(const struct buf *b)
{
	return b->data + b->start;
}

static inline size_t buf_len(const struct buf *b)
{
	return b->end - b->start;
}

/* Bytes that can still be added (after compacting). */
static inline size_t buf_room(const struct buf *b)
{
	return b->cap - buf_len(b);
}

void buf_consume(struct buf *b, size_t n);
void buf_clear(struct buf *b);
/*
 * Contiguous space for n more bytes at the tail, compacting when needed;
 * NULL when n > buf_room(). Nothing is added until buf_commit().
 */
uint8_t *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *p, size_t n);

/*
 * One read(2) into the free space. Returns bytes read, 0 at EOF, -1 with
 * errno set (EAGAIN included). Never called with no room: returns -1/ENOBUFS.
 */
ssize_t buf_read_fd(struct buf *b, int fd);
/* One write(2) of the queued bytes; returns bytes written or -1 (errno). */
ssize_t buf_write_fd(struct buf *b, int fd);

#endif
