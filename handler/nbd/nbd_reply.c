/*
 * Replies: option replies in the handshake, simple replies and structured
 * reply chunks in transmission. Each message is built with the wire
 * writer straight into reserved space at the tail of s->out and committed
 * whole, or not at all when there is no room.
 */
#include <errno.h>
#include <string.h>

#include "nbd_priv.h"

/* Points w at n reserved bytes at the tail of out; NULL when no room. */
static uint8_t *reserve(struct buf *out, struct wr *w, size_t n)
{
	uint8_t *p = buf_reserve(out, n);

	if (p)
		wr_init(w, p, n);
	return p;
}

static int commit(struct buf *out, struct wr *w)
{
	if (!wr_ok(w))
		return -1;
	buf_commit(out, w->len);
	return 0;
}

static size_t msg_len(const char *msg)
{
	size_t n = msg ? strlen(msg) : 0;

	return n > NBD_MSG_MAX ? NBD_MSG_MAX : n;
}

int nbd_opt_begin(struct buf *out, struct wr *w, uint32_t opt,
		  uint32_t type, size_t len)
{
	if (len > UINT32_MAX || !reserve(out, w, NBD_OPT_REPLY_LEN + len))
		return -1;
	wr_be64(w, NBD_REP_MAGIC);
	wr_be32(w, opt);
	wr_be32(w, type);
	wr_be32(w, (uint32_t)len);
	return 0;
}

int nbd_opt_end(struct buf *out, struct wr *w)
{
	/* The length in the header must be what was written. */
	if (w->len != w->cap)
		return -1;
	return commit(out, w);
}

int nbd_put_opt_reply(struct buf *out, uint32_t opt, uint32_t type,
		      const void *data, size_t len)
{
	struct wr w;

	if (nbd_opt_begin(out, &w, opt, type, len) < 0)
		return -1;
	wr_bytes(&w, data, len);
	return nbd_opt_end(out, &w);
}

int nbd_put_opt_error(struct buf *out, uint32_t opt, uint32_t type,
		      const char *msg)
{
	return nbd_put_opt_reply(out, opt, type, msg, msg_len(msg));
}

int nbd_put_simple(struct buf *out, uint64_t handle, uint32_t err)
{
	struct wr w;

	if (!reserve(out, &w, NBD_SIMPLE_LEN))
		return -1;
	wr_be32(&w, NBD_SIMPLE_REPLY_MAGIC);
	wr_be32(&w, err);
	wr_be64(&w, handle);
	return commit(out, &w);
}

void nbd_chunk_hdr(struct wr *w, uint16_t flags, uint16_t type,
		   uint64_t handle, uint32_t len)
{
	wr_be32(w, NBD_STRUCTURED_REPLY_MAGIC);
	wr_be16(w, flags);
	wr_be16(w, type);
	wr_be64(w, handle);
	wr_be32(w, len);
}

int nbd_put_none(struct buf *out, uint64_t handle)
{
	struct wr w;

	if (!reserve(out, &w, NBD_CHUNK_LEN))
		return -1;
	nbd_chunk_hdr(&w, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, handle, 0);
	return commit(out, &w);
}

int nbd_put_hole(struct buf *out, uint16_t flags, uint64_t handle,
		 uint64_t off, uint32_t len)
{
	struct wr w;

	if (!reserve(out, &w, NBD_CHUNK_LEN + 12))
		return -1;
	nbd_chunk_hdr(&w, flags, NBD_REPLY_TYPE_OFFSET_HOLE, handle, 12);
	wr_be64(&w, off);
	wr_be32(&w, len);
	return commit(out, &w);
}

int nbd_put_error_chunk(struct buf *out, uint64_t handle, uint32_t err,
			const char *msg, int has_off, uint64_t off)
{
	size_t n = msg_len(msg);
	size_t len = 6 + n + (has_off ? 8 : 0);
	struct wr w;

	if (!reserve(out, &w, NBD_CHUNK_LEN + len))
		return -1;
	nbd_chunk_hdr(&w, NBD_REPLY_FLAG_DONE,
		      has_off ? NBD_REPLY_TYPE_ERROR_OFFSET :
				NBD_REPLY_TYPE_ERROR,
		      handle, (uint32_t)len);
	wr_be32(&w, err);
	wr_be16(&w, (uint16_t)n);
	wr_bytes(&w, msg, n);
	if (has_off)
		wr_be64(&w, off);
	return commit(out, &w);
}

int nbd_put_block_status(struct buf *out, uint64_t handle, uint32_t id,
			 const struct nbd_extent *e, size_t n)
{
	size_t len = 4 + 8 * n;
	struct wr w;

	if (n == 0 || n > NBD_EXTENTS_MAX ||
	    !reserve(out, &w, NBD_CHUNK_LEN + len))
		return -1;
	nbd_chunk_hdr(&w, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
		      handle, (uint32_t)len);
	wr_be32(&w, id);
	for (size_t i = 0; i < n; i++) {
		wr_be32(&w, e[i].len);
		wr_be32(&w, e[i].flags);
	}
	return commit(out, &w);
}

uint32_t nbd_errno_map(int err)
{
	switch (err) {
	case 0:
		return 0;
	case EPERM:
	case EACCES:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case EINVAL:
		return NBD_EINVAL;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return NBD_ENOSPC;
	case EOVERFLOW:
		return NBD_EOVERFLOW;
	case ENOTSUP:
		return NBD_ENOTSUP;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}

const char *nbd_err_name(uint32_t err)
{
	switch (err) {
	case 0:
		return "OK";
	case NBD_EPERM:
		return "EPERM";
	case NBD_EIO:
		return "EIO";
	case NBD_ENOMEM:
		return "ENOMEM";
	case NBD_EINVAL:
		return "EINVAL";
	case NBD_ENOSPC:
		return "ENOSPC";
	case NBD_EOVERFLOW:
		return "EOVERFLOW";
	case NBD_ENOTSUP:
		return "ENOTSUP";
	case NBD_ESHUTDOWN:
		return "ESHUTDOWN";
	default:
		return "E?";
	}
}
