/*
 * File requests: OPEN, CLOSE, READ, WRITE and the STATs (the SETSTATs are
 * in sftp_setstat.c). READ preads straight into s->out behind the reply
 * header; WRITE pwrites straight from the packet in s->in: file data is
 * never copied in user space.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "sftp_priv.h"

static int open_flags(uint32_t pflags)
{
	int f;

	if ((pflags & SSH_FXF_READ) && (pflags & SSH_FXF_WRITE))
		f = O_RDWR;
	else if (pflags & SSH_FXF_WRITE)
		f = O_WRONLY;
	else
		f = O_RDONLY;
	if (pflags & SSH_FXF_APPEND)
		f |= O_APPEND;
	if (pflags & SSH_FXF_CREAT)
		f |= O_CREAT;
	if (pflags & SSH_FXF_TRUNC)
		f |= O_TRUNC;
	if (pflags & SSH_FXF_EXCL)
		f |= O_EXCL;
	/* Never block the loop on a FIFO or become a controlling tty. */
	return f | O_NOCTTY | O_NONBLOCK;
}

/* Opens, telling whether the file was created (for the session log). */
static int open_counting(struct sftp_state *st, const char *path, int f,
			 mode_t mode, int *created)
{
	int fd;

	*created = 0;
	if ((f & O_CREAT) && !(f & O_EXCL)) {
		fd = sftp_path_open(st, path, f | O_EXCL, mode);
		if (fd >= 0 || errno != EEXIST) {
			*created = fd >= 0;
			return fd;
		}
	}
	fd = sftp_path_open(st, path, f, mode);
	*created = fd >= 0 && (f & O_EXCL);
	return fd;
}

/* The type OPEN found is one a client may open (sftp_policy.c). */
static int openable(int fd, const struct stat *want)
{
	struct stat got;

	if (fstat(fd, &got) < 0 || !sftp_policy_openable(&got))
		return 0;
	return !want || (got.st_dev == want->st_dev &&
			 got.st_ino == want->st_ino);
}

/*
 * OPEN: what the path names is looked at first through an O_PATH fd,
 * which opens nothing, and opened only when the policy allows its type:
 * opening a FIFO or a device can block or act (a tape rewinds, a
 * watchdog arms). The file then opened must be the one looked at. -1
 * with errno, or with *why set when the type is refused.
 */
static int open_file(struct sftp_state *st, const char *path, int f,
		     mode_t mode, int *created, const char **why)
{
	struct stat want;
	int probe = -1, fd, r;

	*why = NULL;
	*created = 0;
	if (!((f & O_CREAT) && (f & O_EXCL))) {
		probe = sftp_path_open(st, path, O_PATH, 0);
		if (probe < 0 && (errno != ENOENT || !(f & O_CREAT)))
			return -1;
	}
	if (probe >= 0) {
		r = fstat(probe, &want);
		close(probe);
		if (r < 0)
			return -1;
		if (!sftp_policy_openable(&want)) {
			*why = "not a regular file";
			return -1;
		}
	}
	fd = open_counting(st, path, f, mode, created);
	if (fd >= 0 && !openable(fd, probe >= 0 ? &want : NULL)) {
		close(fd);
		*why = "not a regular file";
		return -1;
	}
	return fd;
}

int sftp_op_open(struct sftp_state *st, struct sftp_req *rq)
{
	char path[SFTP_PATH_MAX];
	uint8_t hs[SFTP_HANDLE_LEN];
	struct sftp_handle *h;
	struct sftp_attrs a;
	uint32_t pflags;
	const char *why;
	int f, fd, created;
	mode_t mode;
	struct wr w;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	rd_be32(&rq->rd, &pflags);
	sftp_attrs_get(&rq->rd, &a);
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "OPEN");
	if (!sftp_permitted(st, rq->type, NULL, 0, pflags))
		return sftp_status(st, rq->id, SSH_FX_PERMISSION_DENIED, NULL);
	h = sftp_handle_new(&st->handles);
	if (!h)
		return sftp_status(st, rq->id, SSH_FX_FAILURE,
				   "too many open handles");
	f = open_flags(pflags);
	mode = (a.flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		       ? sftp_policy_mode(st, a.perm)
		       : 0666;
	fd = open_file(st, path, f, mode, &created, &why);
	if (fd < 0 && why)
		return sftp_status(st, rq->id, SSH_FX_FAILURE, why);
	if (fd < 0)
		return sftp_status_errno(st, rq->id, errno);
	h->fd = fd;
	h->readable = (f & O_ACCMODE) != O_WRONLY;
	h->writable = (f & O_ACCMODE) != O_RDONLY;
	sftp_handle_commit(&st->handles, h, SFTP_H_FILE);
	st->stats.opened++;
	st->stats.created += (unsigned)created;
	sftp_handle_encode(&st->handles, h, hs);
	sftp_reply_begin(st, &w, SSH_FXP_HANDLE, rq->id, 64);
	wr_string(&w, hs, sizeof hs);
	sftp_reply_end(st, &w, rq->id);
	return 0;
}

int sftp_op_close(struct sftp_state *st, struct sftp_req *rq)
{
	struct sftp_handle *h;
	const uint8_t *hp;
	uint32_t hn;
	int err = 0;

	if (sftp_get_handle(st, rq, &hp, &hn) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "CLOSE");
	h = sftp_handle_find(&st->handles, hp, hn, SFTP_H_FREE);
	if (!h)
		return sftp_invalid_handle(st, rq->id);
	/* /dev/null has nothing to sync (EINVAL): not an error. */
	if (st->sync_close && h->kind == SFTP_H_FILE && h->written &&
	    fdatasync(h->fd) < 0 && errno != EINVAL)
		err = errno;
	if (sftp_handle_close(&st->handles, h) < 0 && !err)
		err = errno;
	sftp_status_errno(st, rq->id, err);
	return 0;
}

/* DATA: pread straight into s->out, behind the reply's header. */
static int reply_data(struct sftp_state *st, uint32_t id, int fd,
		      uint64_t off, uint32_t len)
{
	uint8_t *count;
	ssize_t n;
	struct wr w;

	sftp_reply_begin(st, &w, SSH_FXP_DATA, id, SFTP_DATA_HDR + (size_t)len);
	count = wr_reserve(&w, 4);
	if (!count)
		return sftp_status(st, id, SSH_FX_FAILURE, NULL);
	do
		n = pread(fd, w.p + w.len, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sftp_status_errno(st, id, errno);
	if (n == 0)
		return sftp_status(st, id, SSH_FX_EOF, NULL);
	be32_put(count, (uint32_t)n);
	wr_reserve(&w, (size_t)n);
	sftp_reply_end(st, &w, id);
	st->stats.read += (uint64_t)n;
	return 0;
}

int sftp_op_read(struct sftp_state *st, struct sftp_req *rq)
{
	struct sftp_read_req q;
	struct sftp_handle *h;
	int bad = sftp_read_req_parse(&rq->rd, &q);

	/* A bad handle is named as the other handle requests name it. */
	if (bad || !rd_end(&rq->rd))
		return sftp_bad_message(st, rq, bad == SFTP_READ_BAD_HANDLE
						? "handle" : "READ");
	h = sftp_handle_find(&st->handles, q.handle, q.handle_len,
			     SFTP_H_FILE);
	if (!h)
		return sftp_invalid_handle(st, rq->id);
	if (q.off > INT64_MAX)
		return sftp_status_errno(st, rq->id, EINVAL);
	return reply_data(st, rq->id, h->fd, q.off,
			  q.len > st->max_data ? st->max_data : q.len);
}

/*
 * Durable uploads are synced at CLOSE; left alone, the kernel would hold
 * the whole file dirty until then and CLOSE would wait for all of it.
 * Starting write-back of each few MiB as they arrive (without waiting)
 * lets the disk work while the upload runs, so the fdatasync at CLOSE
 * has little left. Only a hint: a failure here is reported by fdatasync.
 */
#define SFTP_WRITEBACK_STEP (4u << 20)

static void start_writeback(struct sftp_handle *h, uint64_t off, size_t len)
{
	uint64_t end = off + len;

	if (h->wb_hi == h->wb_lo) {
		h->wb_lo = off;
		h->wb_hi = end;
	} else {
		h->wb_lo = off < h->wb_lo ? off : h->wb_lo;
		h->wb_hi = end > h->wb_hi ? end : h->wb_hi;
	}
	if (h->wb_hi - h->wb_lo < SFTP_WRITEBACK_STEP)
		return;
	(void)sync_file_range(h->fd, (off_t)h->wb_lo,
			      (off_t)(h->wb_hi - h->wb_lo),
			      SYNC_FILE_RANGE_WRITE);
	h->wb_lo = h->wb_hi = 0;
}

int sftp_op_write(struct sftp_state *st, struct sftp_req *rq)
{
	struct sftp_handle *h;
	const uint8_t *hp, *data;
	uint32_t hn, len;
	uint64_t off;
	size_t done = 0;

	if (sftp_get_handle(st, rq, &hp, &hn) < 0)
		return 0;
	rd_be64(&rq->rd, &off);
	rd_string(&rq->rd, &data, &len, SFTP_MAX_PACKET);
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "WRITE");
	h = sftp_handle_find(&st->handles, hp, hn, SFTP_H_FILE);
	if (!h)
		return sftp_invalid_handle(st, rq->id);
	if (off > INT64_MAX - (uint64_t)len)
		return sftp_status_errno(st, rq->id, EINVAL);
	while (done < len) {
		ssize_t n = pwrite(h->fd, data + done, len - done,
				   (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sftp_status_errno(st, rq->id,
						 n < 0 ? errno : ENOSPC);
		done += (size_t)n;
		h->written = 1;
		st->stats.written += (uint64_t)n;
	}
	if (st->sync_close)
		start_writeback(h, off, len);
	sftp_status(st, rq->id, SSH_FX_OK, NULL);
	return 0;
}

static int stat_path(struct sftp_state *st, struct sftp_req *rq, int flags)
{
	char path[SFTP_PATH_MAX];
	struct stat sb;
	int fd, r;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	/* OpenSSH's client sends v4+ flags after the path of STAT/LSTAT
	 * only to newer servers; accept nothing else. */
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "STAT");
	fd = sftp_path_open(st, path, O_PATH | flags, 0);
	if (fd < 0)
		return sftp_status_errno(st, rq->id, errno);
	r = fstat(fd, &sb);
	close(fd);
	if (r < 0)
		return sftp_status_errno(st, rq->id, errno);
	sftp_reply_attrs(st, rq->id, &sb);
	return 0;
}

int sftp_op_stat(struct sftp_state *st, struct sftp_req *rq)
{
	stat_path(st, rq, rq->type == SSH_FXP_LSTAT ? O_NOFOLLOW : 0);
	return 0;
}

int sftp_op_fstat(struct sftp_state *st, struct sftp_req *rq)
{
	struct sftp_handle *h;
	const uint8_t *hp;
	struct stat sb;
	uint32_t hn;

	if (sftp_get_handle(st, rq, &hp, &hn) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "FSTAT");
	h = sftp_handle_find(&st->handles, hp, hn, SFTP_H_FREE);
	if (!h)
		return sftp_invalid_handle(st, rq->id);
	if (fstat(sftp_handle_fd(h), &sb) < 0)
		return sftp_status_errno(st, rq->id, errno);
	sftp_reply_attrs(st, rq->id, &sb);
	return 0;
}
