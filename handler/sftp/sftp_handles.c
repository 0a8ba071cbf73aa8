/*
 * The handle table: a fixed array sized from `limit sftp-handles`. A handle
 * on the wire is its slot and the slot's generation (8 bytes); closing
 * bumps the generation, so a stale handle names nothing instead of the
 * next file opened in the same slot.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "bytes.h"
#include "sftp_priv.h"

int sftp_handles_init(struct sftp_handles *t, uint32_t n)
{
	t->n = n;
	t->used = 0;
	t->h = calloc(n, sizeof *t->h);
	if (!t->h)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		t->h[i].fd = -1;
		t->h[i].gen = 1;
	}
	return 0;
}

struct sftp_handle *sftp_handle_new(struct sftp_handles *t)
{
	if (t->used >= t->n)
		return NULL;
	for (uint32_t i = 0; i < t->n; i++)
		if (t->h[i].kind == SFTP_H_FREE)
			return &t->h[i];
	return NULL;
}

void sftp_handle_commit(struct sftp_handles *t, struct sftp_handle *h,
			int kind)
{
	h->kind = kind;
	t->used++;
}

void sftp_handle_encode(const struct sftp_handles *t,
			const struct sftp_handle *h, uint8_t out[SFTP_HANDLE_LEN])
{
	be32_put(out, (uint32_t)(h - t->h));
	be32_put(out + 4, h->gen);
}

struct sftp_handle *sftp_handle_find(struct sftp_handles *t,
				     const uint8_t *p, uint32_t n, int kind)
{
	struct sftp_handle *h;
	uint32_t i, gen;
	struct rd r;

	rd_init(&r, p, n);
	rd_be32(&r, &i);
	rd_be32(&r, &gen);
	if (!rd_end(&r) || i >= t->n)
		return NULL;
	h = &t->h[i];
	if (h->kind == SFTP_H_FREE || h->gen != gen)
		return NULL;
	if (kind != SFTP_H_FREE && h->kind != kind)
		return NULL;
	return h;
}

int sftp_handle_fd(const struct sftp_handle *h)
{
	return h->kind == SFTP_H_DIR ? dirfd(h->dir) : h->fd;
}

int sftp_handle_close(struct sftp_handles *t, struct sftp_handle *h)
{
	int r = 0;

	if (h->kind == SFTP_H_DIR && h->dir)
		r = closedir(h->dir);
	else if (h->fd >= 0)
		r = close(h->fd);
	/* Linux closes the fd even when close() reports an error, so the
	 * slot is free either way; EINTR is not an error here. */
	if (r < 0 && errno == EINTR)
		r = 0;
	h->kind = SFTP_H_FREE;
	h->fd = -1;
	h->dir = NULL;
	h->eof = h->readable = h->writable = h->written = 0;
	h->wb_lo = h->wb_hi = 0;
	h->gen++;
	if (h->gen == 0)
		h->gen = 1;
	t->used--;
	return r;
}

void sftp_handles_free(struct sftp_handles *t)
{
	for (uint32_t i = 0; t->h && i < t->n; i++)
		if (t->h[i].kind != SFTP_H_FREE)
			sftp_handle_close(t, &t->h[i]);
	free(t->h);
	t->h = NULL;
	t->n = t->used = 0;
}
