/*
 * The opened export and everything that touches its file: positional
 * reads and writes, fdatasync, fallocate for trims and zeroes, fadvise for
 * the cache hint, SEEK_DATA/SEEK_HOLE for extents.
 *
 * Nothing here caches data: every write goes to the kernel's page cache
 * for the file, which every connection (each its own process) shares, and
 * fdatasync() writes back every dirty page of the file whoever dirtied it.
 * That is why a FLUSH on one connection covers the others' completed
 * writes and the export can advertise NBD_FLAG_CAN_MULTI_CONN.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "nbd_priv.h"

/* The zeroes written when no fallocate mode can zero a range. */
static const uint8_t zero_block[64 * 1024];

static int open_rw_refused(int err)
{
	return err == EACCES || err == EPERM || err == EROFS || err == ETXTBSY;
}

static uint32_t open_error(int err)
{
	if (err == ENOENT || err == ENOTDIR || err == ELOOP ||
	    err == ENAMETOOLONG || err == ENXIO || err == ENODEV ||
	    err == EISDIR)
		return NBD_REP_ERR_UNKNOWN;
	if (err == EACCES || err == EPERM)
		return NBD_REP_ERR_POLICY;
	/* Out of fds, memory, an I/O error: the client may come back. */
	return NBD_REP_ERR_SHUTDOWN;
}

/* O_NONBLOCK so that a FIFO or a device waiting for a carrier cannot hang
 * the open; it is cleared once the file is known to be a disk. */
static int open_file(const char *path, int rw)
{
	int fl = (rw ? O_RDWR : O_RDONLY) | O_NOCTTY | O_CLOEXEC | O_NONBLOCK;
	int fd;

	do
		fd = open(path, fl);
	while (fd < 0 && errno == EINTR);
	return fd;
}

static int disk_size(struct nbd_disk *d, int *err)
{
	struct stat sb;
	off_t end;

	if (fstat(d->fd, &sb) < 0)
		return *err = errno, -1;
	if (S_ISREG(sb.st_mode)) {
		d->size = (uint64_t)sb.st_size;
		return 0;
	}
	if (!S_ISBLK(sb.st_mode))
		return *err = 0, -1;
	d->bdev = 1;
	end = lseek(d->fd, 0, SEEK_END);
	if (end < 0)
		return *err = errno, -1;
	d->size = (uint64_t)end;
	return 0;
}

uint32_t nbd_disk_open(struct nbd_disk *d, const struct nbd_export *e,
		       int want_rw, int *err)
{
	memset(d, 0, sizeof *d);
	d->fd = open_file(e->path, want_rw);
	d->rw = want_rw;
	if (d->fd < 0 && want_rw && open_rw_refused(errno)) {
		log_warn("nbd: export %s: %s is not writable (%s): serving it "
			 "read-only", e->name, e->path, strerror(errno));
		d->fd = open_file(e->path, 0);
		d->rw = 0;
	}
	if (d->fd < 0) {
		*err = errno;
		return open_error(*err);
	}
	if (disk_size(d, err) < 0) {
		nbd_disk_close(d);
		return *err ? open_error(*err) : NBD_REP_ERR_UNKNOWN;
	}
	if (fcntl(d->fd, F_SETFL, fcntl(d->fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		*err = errno;
		nbd_disk_close(d);
		return open_error(*err);
	}
	return 0;
}

void nbd_disk_close(struct nbd_disk *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

uint16_t nbd_disk_flags(const struct nbd_disk *d, int structured)
{
	/* FLUSH works on a read-only fd too; CACHE is always a hint. */
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
		     NBD_FLAG_SEND_CACHE | NBD_FLAG_CAN_MULTI_CONN;

	if (d->rw)
		f |= NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM |
		     NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_FAST_ZERO;
	else
		f |= NBD_FLAG_READ_ONLY;
	if (structured)
		f |= NBD_FLAG_SEND_DF;
	return f;
}

int nbd_io_pread(int fd, uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0) {
			memset(p, 0, n);
			return 0;
		}
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int nbd_io_pread_nowait(int fd, uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		struct iovec v = { p, n };
		ssize_t r = preadv2(fd, &v, 1, (off_t)off, RWF_NOWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0) {
			memset(p, 0, n);
			return 0;
		}
		/* A short read is the cached part: the next call says EAGAIN,
		 * or reads what arrived meanwhile. */
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int nbd_io_pwrite(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t r = pwrite(fd, p, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			return ENOSPC;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int nbd_io_flush(struct nbd_disk *d)
{
	int r;

	do
		r = fdatasync(d->fd);
	while (r < 0 && errno == EINTR);
	return r < 0 ? errno : 0;
}

/* An fallocate mode the file (system) does not have, as opposed to a
 * failure of one it has. Block devices also refuse unaligned ranges. */
static int mode_missing(const struct nbd_disk *d, int err)
{
	return err == EOPNOTSUPP || err == ENOSYS ||
	       (d->bdev && err == EINVAL);
}

static int try_fallocate(struct nbd_disk *d, int mode, uint64_t off,
			 uint64_t len, int *missing)
{
	int r;

	if (*missing)
		return EOPNOTSUPP;
	do
		r = fallocate(d->fd, mode, (off_t)off, (off_t)len);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	/* Remember a mode the file system lacks, not a bad range. */
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		*missing = 1;
	return errno;
}

int nbd_io_trim(struct nbd_disk *d, uint64_t off, uint32_t len)
{
	uint64_t end = off + len;
	int r;

	/* A block device discards whole sectors: shrink to them. */
	if (d->bdev) {
		off = (off + 511) & ~(uint64_t)511;
		end &= ~(uint64_t)511;
	}
	if (end <= off)
		return 0;
	r = try_fallocate(d, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
			  end - off, &d->no_punch);
	/* A trim is a hint: a file system without holes ignores it. */
	return r && mode_missing(d, r) ? 0 : r;
}

static int write_zeroes(struct nbd_disk *d, uint64_t off, uint64_t len)
{
	while (len > 0) {
		size_t n = len < sizeof zero_block ? (size_t)len :
			   sizeof zero_block;
		int r = nbd_io_pwrite(d->fd, zero_block, n, off);

		if (r)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

/* Holes and ZERO_RANGE, in the order the flags prefer; EOPNOTSUPP when no
 * fast way worked. For a block device ZERO_RANGE may fall back to writing
 * inside the kernel, so it does not count as fast there; its PUNCH_HOLE
 * never falls back. */
static int zero_fast(struct nbd_disk *d, uint64_t off, uint64_t len,
		     int no_hole, int fast)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	const int zero = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	int r;

	if (!no_hole) {
		r = try_fallocate(d, punch, off, len, &d->no_punch);
		if (!r || !mode_missing(d, r))
			return r;
	}
	if (!(d->bdev && fast)) {
		r = try_fallocate(d, zero, off, len, &d->no_zero_range);
		if (!r || !mode_missing(d, r))
			return r;
	}
	if (no_hole && !d->bdev && !d->no_alloc) {
		/* Punch, then allocate again: zeroes with no hole left. */
		r = try_fallocate(d, punch, off, len, &d->no_punch);
		if (!r)
			r = try_fallocate(d, FALLOC_FL_KEEP_SIZE, off, len,
					  &d->no_alloc);
		if (!r || !mode_missing(d, r))
			return r;
	}
	return EOPNOTSUPP;
}

int nbd_io_zero(struct nbd_disk *d, uint64_t off, uint32_t len,
		uint16_t flags)
{
	int fast = (flags & NBD_CMD_FLAG_FAST_ZERO) != 0;
	int r;

	if (len == 0)
		return 0;
	r = zero_fast(d, off, len, (flags & NBD_CMD_FLAG_NO_HOLE) != 0, fast);
	if (r != EOPNOTSUPP)
		return r;
	/* Writing zeroes is what a fast zero must not turn into. */
	if (fast)
		return ENOTSUP;
	return write_zeroes(d, off, len);
}

int nbd_io_cache(struct nbd_disk *d, uint64_t off, uint32_t len)
{
	if (len == 0)
		return 0;
	/* Starts readahead of the range into the page cache. */
	return posix_fadvise(d->fd, (off_t)off, (off_t)len,
			     POSIX_FADV_WILLNEED);
}

void nbd_extent_at(int fd, uint64_t pos, uint64_t end, int *hole,
		   uint64_t *ext_end)
{
	off_t data = lseek(fd, (off_t)pos, SEEK_DATA);
	off_t next;

	*hole = 0;
	*ext_end = end;
	if (data < 0) {
		/* ENXIO: no data from pos to the end of the file. Anything
		 * else: no SEEK_DATA here, so everything is data. */
		*hole = errno == ENXIO;
		return;
	}
	if ((uint64_t)data > pos) {
		*hole = 1;
		if ((uint64_t)data < end)
			*ext_end = (uint64_t)data;
		return;
	}
	next = lseek(fd, (off_t)pos, SEEK_HOLE);
	if (next > 0 && (uint64_t)next > pos && (uint64_t)next < end)
		*ext_end = (uint64_t)next;
}

size_t nbd_extents(int fd, uint64_t off, uint64_t end, struct nbd_extent *e,
		   size_t max)
{
	size_t n = 0;

	while (off < end && max > 0) {
		uint64_t ext_end;
		uint32_t flags;
		int hole;

		nbd_extent_at(fd, off, end, &hole, &ext_end);
		flags = hole ? NBD_STATE_HOLE | NBD_STATE_ZERO : 0;
		if (n > 0 && e[n - 1].flags == flags) {
			e[n - 1].len += (uint32_t)(ext_end - off);
		} else if (n < max) {
			e[n].len = (uint32_t)(ext_end - off);
			e[n].flags = flags;
			n++;
		} else {
			break;
		}
		off = ext_end;
	}
	return n;
}
