/*
 * SETSTAT and FSETSTAT, and the attributes applied to a path that
 * lsetstat (sftp_ext.c) shares with SETSTAT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sftp_priv.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static void attr_times(const struct sftp_attrs *a, struct timespec ts[2])
{
	ts[0].tv_sec = (time_t)a->atime;
	ts[0].tv_nsec = 0;
	ts[1].tv_sec = (time_t)a->mtime;
	ts[1].tv_nsec = 0;
}

/* chmod of an O_PATH fd: fchmodat2 (Linux 6.6), else through /proc (the
 * same inode; never a new lookup of the client's name). */
static int chmod_fd(int fd, mode_t mode, int fl)
{
	char p[64];

	if (syscall(SYS_fchmodat2, fd, "", mode, fl) == 0)
		return 0;
	if (errno != ENOSYS || (fl & AT_SYMLINK_NOFOLLOW))
		return -1;
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	return chmod(p, mode);
}

/* Mode, times and owner on an O_PATH fd: the inode openat2 found, so no
 * later lookup by name can be raced onto another file. */
static int apply_attrs(int fd, const struct sftp_attrs *a, int nofollow)
{
	struct timespec ts[2];
	int fl = AT_EMPTY_PATH | (nofollow ? AT_SYMLINK_NOFOLLOW : 0);

	if (a->flags & SSH_FILEXFER_ATTR_PERMISSIONS &&
	    chmod_fd(fd, (mode_t)(a->perm & 07777), fl) < 0)
		return -1;
	if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
		attr_times(a, ts);
		if (utimensat(fd, "", ts, fl) < 0)
			return -1;
	}
	if ((a->flags & SSH_FILEXFER_ATTR_UIDGID) &&
	    fchownat(fd, "", (uid_t)a->uid, (gid_t)a->gid, AT_EMPTY_PATH) < 0)
		return -1;
	return 0;
}

int sftp_setstat_path(struct sftp_state *st, uint32_t id, const char *path,
		      const struct sftp_attrs *a, int nofollow)
{
	int fd = sftp_path_open(st, path, O_PATH | (nofollow ? O_NOFOLLOW : 0),
				0);
	int r, err;

	if (fd < 0)
		return sftp_status_errno(st, id, errno);
	r = apply_attrs(fd, a, nofollow);
	err = errno;
	close(fd);
	return sftp_status_errno(st, id, r < 0 ? err : 0);
}

/* SETSTAT follows symlinks (inside the root), as OpenSSH's does. */
int sftp_op_setstat(struct sftp_state *st, struct sftp_req *rq)
{
	char path[SFTP_PATH_MAX];
	struct sftp_attrs a;
	int fd, r, err;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	sftp_attrs_get(&rq->rd, &a);
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "SETSTAT");
	if (a.flags & SSH_FILEXFER_ATTR_SIZE) {
		fd = sftp_path_open(st, path,
				    O_WRONLY | O_NONBLOCK | O_NOCTTY, 0);
		if (fd < 0)
			return sftp_status_errno(st, rq->id, errno);
		r = ftruncate(fd, (off_t)a.size);
		err = errno;
		close(fd);
		if (r < 0 || a.size > INT64_MAX)
			return sftp_status_errno(st, rq->id,
						 r < 0 ? err : EINVAL);
	}
	return sftp_setstat_path(st, rq->id, path, &a, 0);
}

int sftp_op_fsetstat(struct sftp_state *st, struct sftp_req *rq)
{
	struct sftp_handle *h;
	struct sftp_attrs a;
	struct timespec ts[2];
	const uint8_t *hp;
	uint32_t hn;
	int fd;

	if (sftp_get_handle(st, rq, &hp, &hn) < 0)
		return 0;
	sftp_attrs_get(&rq->rd, &a);
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "FSETSTAT");
	h = sftp_handle_find(&st->handles, hp, hn, SFTP_H_FREE);
	if (!h)
		return sftp_invalid_handle(st, rq->id);
	fd = sftp_handle_fd(h);
	if ((a.flags & SSH_FILEXFER_ATTR_SIZE) &&
	    (a.size > INT64_MAX || ftruncate(fd, (off_t)a.size) < 0))
		return sftp_status_errno(st, rq->id,
					 a.size > INT64_MAX ? EINVAL : errno);
	if ((a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
	    fchmod(fd, (mode_t)(a.perm & 07777)) < 0)
		return sftp_status_errno(st, rq->id, errno);
	attr_times(&a, ts);
	if ((a.flags & SSH_FILEXFER_ATTR_ACMODTIME) && futimens(fd, ts) < 0)
		return sftp_status_errno(st, rq->id, errno);
	if ((a.flags & SSH_FILEXFER_ATTR_UIDGID) &&
	    fchown(fd, (uid_t)a.uid, (gid_t)a.gid) < 0)
		return sftp_status_errno(st, rq->id, errno);
	sftp_status(st, rq->id, SSH_FX_OK, NULL);
	return 0;
}
