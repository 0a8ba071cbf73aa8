/*
 * copy-data (OpenSSH's extension): a server-side copy between two open
 * file handles, done in bounded steps so one tiny request cannot hold the
 * loop or write without end:
 *
 * - the request is checked and the first step runs at once; a copy that
 *   fits in it is answered like any request;
 * - a longer one goes on in later loop passes (the module's deadline() is
 *   "now" while one is pending, and each timeout() runs one step of at
 *   most SFTP_COPY_STEP bytes), while the requests behind it are served;
 *   its STATUS comes when it ends, after theirs;
 * - only data is copied: holes in the source (SEEK_DATA/SEEK_HOLE) stay
 *   holes in the destination (punched where the destination had data);
 * - it stops when the client's input ends (the client is gone or done),
 *   answered with FAILURE; one copy at a time (a second copy-data waits).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sftp_priv.h"

/* Whether [a, a+alen) and [b, b+blen) meet; a length of 0 is "to EOF". */
static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			  uint64_t blen)
{
	int a_before_b_end = blen == 0 || a < b + blen;
	int b_before_a_end = alen == 0 || b < a + alen;

	return a_before_b_end && b_before_a_end;
}

/* One chunk through the scratch buffer, when copy_file_range cannot
 * (other file systems). Bytes copied, 0 at EOF, -1 error. */
static ssize_t chunk_rw(struct sftp_state *st, int rfd, uint64_t ro, int wfd,
			uint64_t wo, size_t want)
{
	ssize_t n, m;

	if (!st->scratch && !(st->scratch = malloc(SFTP_SCRATCH)))
		return -1;
	if (want > SFTP_SCRATCH)
		want = SFTP_SCRATCH;
	do
		n = pread(rfd, st->scratch, want, (off_t)ro);
	while (n < 0 && errno == EINTR);
	for (ssize_t off = 0; n > 0 && off < n; off += m) {
		m = pwrite(wfd, st->scratch + off, (size_t)(n - off),
			   (off_t)(wo + (uint64_t)off));
		if (m < 0 && errno == EINTR)
			m = 0;
		else if (m <= 0)
			return -1;
	}
	return n;
}

/* One chunk of data: copy_file_range (reflinks, in-kernel copies), else
 * the scratch buffer for good. */
static ssize_t chunk(struct sftp_state *st, struct sftp_copy *c, uint64_t ro,
		     uint64_t wo, size_t want)
{
	loff_t r = (loff_t)ro, w = (loff_t)wo;
	ssize_t n;

	if (!c->plain) {
		do
			n = copy_file_range(c->rfd, &r, c->wfd, &w, want, 0);
		while (n < 0 && errno == EINTR);
		if (n >= 0 || (errno != EXDEV && errno != EINVAL &&
			       errno != EOPNOTSUPP && errno != ENOSYS &&
			       errno != EBADF))
			return n;
		c->plain = 1;
	}
	return chunk_rw(st, c->rfd, ro, c->wfd, wo, want);
}

/* Zeros written through the scratch buffer where holes cannot be
 * punched: at most *budget bytes; how many, or -1. */
static int64_t write_zeros(struct sftp_state *st, int wfd, uint64_t wo,
			   uint64_t n, uint64_t *budget)
{
	uint64_t done = 0;

	if (!st->scratch && !(st->scratch = malloc(SFTP_SCRATCH)))
		return -1;
	memset(st->scratch, 0, SFTP_SCRATCH);
	if (n > *budget)
		n = *budget;
	while (done < n) {
		size_t want = n - done < SFTP_SCRATCH ? (size_t)(n - done)
						      : SFTP_SCRATCH;
		ssize_t m = pwrite(wfd, st->scratch, want, (off_t)(wo + done));

		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0)
			return -1;
		done += (uint64_t)m;
	}
	*budget -= done;
	return (int64_t)done;
}

/*
 * The destination's [wo, wo+n) must read as zeros: punched where it holds
 * data (beyond its end it reads as zeros already), else zeros written.
 * How many bytes of the range are done (all, or what the budget allowed
 * of the zeros), or -1.
 */
static int64_t zero_dest(struct sftp_state *st, struct sftp_copy *c,
			 uint64_t wo, uint64_t n, uint64_t *budget)
{
	struct stat ws;
	uint64_t part = n;

	if (fstat(c->wfd, &ws) < 0)
		return -1;
	if (wo >= (uint64_t)ws.st_size)
		return (int64_t)n;
	if (part > (uint64_t)ws.st_size - wo)
		part = (uint64_t)ws.st_size - wo;
	if (fallocate(c->wfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)wo, (off_t)part) == 0)
		return (int64_t)n;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -1;
	return write_zeros(st, c->wfd, wo, part, budget);
}

/* The source's end for this copy: its range's, or its size now. */
static int source_end(struct sftp_copy *c, uint64_t *end)
{
	struct stat rs;

	if (fstat(c->rfd, &rs) < 0)
		return -1;
	*end = (uint64_t)rs.st_size;
	if (c->len && c->roff + c->len < *end)
		*end = c->roff + c->len;
	if (*end < c->roff)
		*end = c->roff;
	return 0;
}

/*
 * One extent from the copy's position: a hole (zeroed in the
 * destination) or data (copied, at most budget bytes). 1 when the copy
 * is complete, 0 to go on, -1 error.
 */
static int extent(struct sftp_state *st, struct sftp_copy *c,
		  uint64_t *budget)
{
	uint64_t pos = c->roff + c->done, end, data, hole;
	off_t d, h;
	ssize_t n;

	if (source_end(c, &end) < 0)
		return -1;
	if (pos >= end)
		return 1;
	d = lseek(c->rfd, (off_t)pos, SEEK_DATA);
	if (d < 0 && errno != ENXIO)
		return -1;
	data = d < 0 || (uint64_t)d > end ? end : (uint64_t)d;
	if (data > pos) {
		int64_t z = zero_dest(st, c, c->woff + c->done, data - pos,
				      budget);

		if (z < 0)
			return -1;
		c->done += (uint64_t)z;
		return 0;
	}
	h = lseek(c->rfd, (off_t)pos, SEEK_HOLE);
	hole = h < 0 || (uint64_t)h > end ? end : (uint64_t)h;
	if (hole - pos > *budget)
		hole = pos + *budget;
	if (hole - pos > (1u << 30))
		hole = pos + (1u << 30);
	n = chunk(st, c, pos, c->woff + c->done, (size_t)(hole - pos));
	if (n < 0)
		return -1;
	if (n == 0)
		return 1; /* the source shrank meanwhile: its EOF */
	c->done += (uint64_t)n;
	c->copied += (uint64_t)n;
	*budget -= (uint64_t)n;
	return 0;
}

/* The destination is as long as what was copied, holes at its end too. */
static int extend_dest(struct sftp_copy *c)
{
	struct stat ws;
	uint64_t want = c->woff + c->done;

	if (fstat(c->wfd, &ws) < 0)
		return -1;
	if ((uint64_t)ws.st_size < want && ftruncate(c->wfd, (off_t)want) < 0)
		return -1;
	return 0;
}

static void copy_end(struct sftp_state *st, int err, const char *why)
{
	struct sftp_copy *c = &st->copy;

	st->stats.written += c->copied;
	/* Stopped at the session's end with the output full: nobody left
	 * to tell. */
	if (buf_room(&st->s->out) < SFTP_SMALL_REPLY)
		;
	else if (why)
		sftp_status(st, c->id, SSH_FX_FAILURE, why);
	else
		sftp_status_errno(st, c->id, err);
	close(c->rfd);
	close(c->wfd);
	memset(c, 0, sizeof *c);
	c->rfd = c->wfd = -1;
}

int sftp_copy_step(struct sftp_state *st)
{
	struct sftp_copy *c = &st->copy;
	uint64_t budget = st->copy_step;
	int r = 0;

	if (!c->active)
		return 0;
	if (buf_room(&st->s->out) < SFTP_SMALL_REPLY)
		return 0; /* its STATUS must fit: the core calls on drain */
	for (int i = 0; r == 0 && budget > 0 && i < SFTP_COPY_EXTENTS; i++)
		r = extent(st, c, &budget);
	if (r == 1 && extend_dest(c) < 0)
		r = -1;
	if (r != 0)
		copy_end(st, r < 0 ? errno : 0, NULL);
	return 0;
}

void sftp_copy_stop(struct sftp_state *st, const char *why)
{
	if (!st->copy.active)
		return;
	log_info("sftp: copy-data (request %u) stopped after %llu bytes: %s",
		 st->copy.id, (unsigned long long)st->copy.done, why);
	copy_end(st, 0, why);
}

/* Both handles' fds are duplicated: a CLOSE meanwhile does not end the
 * copy, nor make it write to whatever file reuses the number. */
static int copy_begin(struct sftp_state *st, uint32_t id,
		      const struct sftp_handle *rh, uint64_t roff,
		      uint64_t len, const struct sftp_handle *wh,
		      uint64_t woff)
{
	struct sftp_copy *c = &st->copy;

	c->rfd = fcntl(rh->fd, F_DUPFD_CLOEXEC, 0);
	c->wfd = c->rfd < 0 ? -1 : fcntl(wh->fd, F_DUPFD_CLOEXEC, 0);
	if (c->wfd < 0) {
		int err = errno;

		if (c->rfd >= 0)
			close(c->rfd);
		c->rfd = -1;
		return sftp_status_errno(st, id, err);
	}
	c->active = 1;
	c->id = id;
	c->roff = roff;
	c->len = len;
	c->woff = woff;
	return sftp_copy_step(st);
}

int sftp_ext_copy_data(struct sftp_state *st, struct sftp_req *rq,
		       struct sftp_handle *rh, uint64_t roff, uint64_t len,
		       struct sftp_handle *wh, uint64_t woff)
{
	struct stat rs, ws;

	if (!rh || !wh)
		return sftp_invalid_handle(st, rq->id);
	if (!rh->readable || !wh->writable)
		return sftp_status(st, rq->id, SSH_FX_PERMISSION_DENIED, NULL);
	if (roff > INT64_MAX || woff > INT64_MAX || len > INT64_MAX ||
	    roff > INT64_MAX - len || woff > INT64_MAX - len)
		return sftp_status_errno(st, rq->id, EINVAL);
	if (fstat(rh->fd, &rs) < 0 || fstat(wh->fd, &ws) < 0)
		return sftp_status_errno(st, rq->id, errno);
	/* A device has no end ("to EOF" of /dev/zero): files only. */
	if (!S_ISREG(rs.st_mode) || !S_ISREG(ws.st_mode))
		return sftp_status(st, rq->id, SSH_FX_FAILURE,
				   "not a regular file");
	if (rs.st_dev == ws.st_dev && rs.st_ino == ws.st_ino &&
	    ranges_overlap(roff, len, woff, len))
		return sftp_status(st, rq->id, SSH_FX_FAILURE,
				   "overlapping ranges");
	wh->written = 1;
	return copy_begin(st, rq->id, rh, roff, len, wh, woff);
}
