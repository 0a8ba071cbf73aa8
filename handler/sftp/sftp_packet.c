/*
 * SFTP v3 wire pieces: request layouts read by more than one file,
 * attributes, status codes and reply framing. Replies are written in place
 * into s->out (reserve, fill, patch the length, commit): no intermediate
 * message buffer.
 */
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "log.h"
#include "sftp_priv.h"

int sftp_req_head(struct sftp_req *rq, const uint8_t *p, uint32_t len)
{
	memset(rq, 0, sizeof *rq);
	rd_init(&rq->rd, p, len);
	if (rd_u8(&rq->rd, &rq->type) < 0)
		return SFTP_HEAD_EMPTY;
	if (rq->type == SSH_FXP_INIT)
		return SFTP_HEAD_OK;
	return rd_be32(&rq->rd, &rq->id) < 0 ? SFTP_HEAD_NO_ID : SFTP_HEAD_OK;
}

int sftp_rd_handle(struct rd *r, const uint8_t **p, uint32_t *n)
{
	return rd_string(r, p, n, SFTP_HANDLE_WIRE_MAX);
}

int sftp_read_req_parse(struct rd *r, struct sftp_read_req *q)
{
	memset(q, 0, sizeof *q);
	if (sftp_rd_handle(r, &q->handle, &q->handle_len) < 0)
		return SFTP_READ_BAD_HANDLE;
	rd_be64(r, &q->off);
	rd_be32(r, &q->len);
	return rd_ok(r) ? SFTP_READ_OK : SFTP_READ_BAD;
}

int sftp_attrs_get(struct rd *r, struct sftp_attrs *a)
{
	uint32_t count;

	memset(a, 0, sizeof *a);
	if (rd_be32(r, &a->flags) < 0)
		return -1;
	if (a->flags & SSH_FILEXFER_ATTR_SIZE)
		rd_be64(r, &a->size);
	if (a->flags & SSH_FILEXFER_ATTR_UIDGID) {
		rd_be32(r, &a->uid);
		rd_be32(r, &a->gid);
	}
	if (a->flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		rd_be32(r, &a->perm);
	if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
		rd_be32(r, &a->atime);
		rd_be32(r, &a->mtime);
	}
	if ((a->flags & SSH_FILEXFER_ATTR_EXTENDED) && rd_be32(r, &count) == 0) {
		/* Each pair takes at least 8 bytes of a bounded packet, so
		 * the loop is bounded too; unknown pairs are ignored. */
		while (count-- > 0 && rd_ok(r)) {
			const uint8_t *p;
			uint32_t n;

			rd_string(r, &p, &n, SFTP_MAX_PACKET);
			rd_string(r, &p, &n, SFTP_MAX_PACKET);
		}
	}
	return rd_ok(r) ? 0 : -1;
}

void sftp_attrs_put(struct wr *w, const struct sftp_attrs *a)
{
	uint32_t f = a->flags & ~SSH_FILEXFER_ATTR_EXTENDED;

	wr_be32(w, f);
	if (f & SSH_FILEXFER_ATTR_SIZE)
		wr_be64(w, a->size);
	if (f & SSH_FILEXFER_ATTR_UIDGID) {
		wr_be32(w, a->uid);
		wr_be32(w, a->gid);
	}
	if (f & SSH_FILEXFER_ATTR_PERMISSIONS)
		wr_be32(w, a->perm);
	if (f & SSH_FILEXFER_ATTR_ACMODTIME) {
		wr_be32(w, a->atime);
		wr_be32(w, a->mtime);
	}
}

void sftp_attrs_from_stat(struct sftp_attrs *a, const struct stat *st)
{
	a->flags = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID |
		   SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_ACMODTIME;
	a->size = (uint64_t)st->st_size;
	a->uid = (uint32_t)st->st_uid;
	a->gid = (uint32_t)st->st_gid;
	a->perm = (uint32_t)st->st_mode;
	a->atime = (uint32_t)st->st_atime;
	a->mtime = (uint32_t)st->st_mtime;
}

/* The same mapping as OpenSSH's errno_to_portable(), so clients that
 * special-case codes behave the same. */
int sftp_errno_status(int err)
{
	switch (err) {
	case 0:
		return SSH_FX_OK;
	case ENOENT:
	case ENOTDIR:
	case EBADF:
	case ELOOP:
		return SSH_FX_NO_SUCH_FILE;
	case EPERM:
	case EACCES:
	case EFAULT:
		return SSH_FX_PERMISSION_DENIED;
	case ENAMETOOLONG:
	case EINVAL:
		return SSH_FX_BAD_MESSAGE;
	case ENOSYS:
		return SSH_FX_OP_UNSUPPORTED;
	default:
		return SSH_FX_FAILURE;
	}
}

const char *sftp_status_text(int code)
{
	static const char *const text[] = {
		"Success", "End of file", "No such file", "Permission denied",
		"Failure", "Bad message", "No connection", "Connection lost",
		"Operation unsupported"
	};

	if (code < 0 || (size_t)code >= sizeof text / sizeof text[0])
		return "Unknown error";
	return text[code];
}

void sftp_reply_begin(struct sftp_state *st, struct wr *w, uint8_t type,
		      uint32_t id, size_t max)
{
	uint8_t *p = buf_reserve(&st->s->out, max);

	wr_init(w, p, p ? max : 0);
	wr_be32(w, 0);
	wr_u8(w, type);
	if (type != SSH_FXP_VERSION)
		wr_be32(w, id);
}

void sftp_reply_end(struct sftp_state *st, struct wr *w, uint32_t id)
{
	if (!wr_ok(w)) {
		/* A reply that outgrew its bound is a bug here, not the
		 * client's fault: answer something it can match. */
		log_error("sftp: reply to request %u too large", id);
		if (w->cap >= 64) {
			wr_init(w, w->p, w->cap);
			wr_be32(w, 0);
			wr_u8(w, SSH_FXP_STATUS);
			wr_be32(w, id);
			wr_be32(w, SSH_FX_FAILURE);
			wr_cstring(w, "reply too large");
			wr_cstring(w, "");
		} else {
			return;
		}
	}
	be32_put(w->p, (uint32_t)(w->len - 4));
	buf_commit(&st->s->out, w->len);
}

int sftp_status(struct sftp_state *st, uint32_t id, int code,
		 const char *msg)
{
	struct wr w;

	if (!msg)
		msg = sftp_status_text(code);
	sftp_reply_begin(st, &w, SSH_FXP_STATUS, id, 64 + strlen(msg));
	wr_be32(&w, (uint32_t)code);
	wr_cstring(&w, msg);
	wr_cstring(&w, "");
	sftp_reply_end(st, &w, id);
	return 0;
}

/* A FAILURE says which one ("No space left on device", "Disk quota
 * exceeded", "Input/output error"): the code alone leaves the user
 * guessing. The other codes name their cause already. */
int sftp_status_errno(struct sftp_state *st, uint32_t id, int err)
{
	int code = sftp_errno_status(err);

	sftp_status(st, id, code,
		    code == SSH_FX_FAILURE && err ? strerror(err) : NULL);
	return 0;
}

int sftp_invalid_handle(struct sftp_state *st, uint32_t id)
{
	return sftp_status(st, id, SSH_FX_FAILURE, "invalid handle");
}

int sftp_bad_message(struct sftp_state *st, struct sftp_req *rq,
		      const char *what)
{
	st->stats.bad++;
	log_warn("sftp: malformed %s request %u (type %u)", what, rq->id,
		 rq->type);
	sftp_status(st, rq->id, SSH_FX_BAD_MESSAGE, NULL);
	return 0;
}

int sftp_reply_attrs(struct sftp_state *st, uint32_t id,
		      const struct stat *sb)
{
	struct sftp_attrs a;
	struct wr w;

	sftp_attrs_from_stat(&a, sb);
	sftp_reply_begin(st, &w, SSH_FXP_ATTRS, id, 64);
	sftp_attrs_put(&w, &a);
	sftp_reply_end(st, &w, id);
	return 0;
}

int sftp_reply_name1(struct sftp_state *st, uint32_t id, const char *name)
{
	size_t n = strlen(name);
	struct wr w;

	sftp_reply_begin(st, &w, SSH_FXP_NAME, id, 64 + 2 * n);
	wr_be32(&w, 1);
	wr_string(&w, name, n);
	wr_string(&w, name, n);
	wr_be32(&w, 0);
	sftp_reply_end(st, &w, id);
	return 0;
}

int sftp_get_path(struct sftp_state *st, struct sftp_req *rq, char *dst)
{
	if (rd_cstring(&rq->rd, dst, SFTP_PATH_MAX) < 0) {
		sftp_bad_message(st, rq, "path");
		return -1;
	}
	return 0;
}

int sftp_get_handle(struct sftp_state *st, struct sftp_req *rq,
		    const uint8_t **p, uint32_t *n)
{
	if (sftp_rd_handle(&rq->rd, p, n) < 0) {
		sftp_bad_message(st, rq, "handle");
		return -1;
	}
	return 0;
}
