/*
 * SETSTAT and FSETSTAT, and the attributes applied to a path that
 * lsetstat (sftp_ext.c) shares with SETSTAT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
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
 * later lookup by name can be raced onto another file. The policy has
 * allowed the owner change (or there is none) before. */
static int apply_attrs(const struct sftp_state *st, int fd,
		       const struct sftp_attrs *a, int nofollow)
{
	struct timespec ts[2];
	int fl = AT_EMPTY_PATH | (nofollow ? AT_SYMLINK_NOFOLLOW : 0);

	if (a->flags & SSH_FILEXFER_ATTR_PERMISSIONS &&
	    chmod_fd(fd, sftp_policy_mode(st, a->perm), fl) < 0)
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

/* An owner change the policy refuses: PERMISSION_DENIED, nothing set. */
static int owner_refused(struct sftp_state *st, uint32_t id, int fd,
			 const struct sftp_attrs *a)
{
	int ok = sftp_policy_owner(st, fd, a);

	if (ok > 0)
		return 0;
	if (ok < 0)
		sftp_status_errno(st, id, errno);
	else
		sftp_status(st, id, SSH_FX_PERMISSION_DENIED,
			    "ownership changes are not allowed");
	return 1;
}

/*
 * SETSTAT's size: the file open as pfd (O_PATH) must be a regular file,
 * checked before anything opens it for writing (opening a FIFO or a
 * device can block or have side effects); then the same inode is opened
 * O_WRONLY and truncated.
 */
static int truncate_path(struct sftp_state *st, const char *path, int pfd,
			 uint64_t size)
{
	struct stat want, got;
	int fd, r, err;

	if (size > INT64_MAX)
		return errno = EINVAL, -1;
	if (fstat(pfd, &want) < 0)
		return -1;
	/* truncate(2)'s answers, without opening what is not a file. */
	if (S_ISDIR(want.st_mode))
		return errno = EISDIR, -1;
	if (!S_ISREG(want.st_mode))
		return errno = EINVAL, -1;
	fd = sftp_path_open(st, path, O_WRONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &got) < 0 || got.st_dev != want.st_dev ||
	    got.st_ino != want.st_ino) {
		close(fd);
		return errno = EAGAIN, -1; /* swapped meanwhile: FAILURE */
	}
	r = ftruncate(fd, (off_t)size);
	err = errno;
	close(fd);
	errno = err;
	return r;
}

/* The attributes of a path (and, for SETSTAT, its size), all on one
 * O_PATH fd of the inode, owner policy first so a refusal sets nothing. */
static int setstat_fd(struct sftp_state *st, uint32_t id, const char *path,
		      const struct sftp_attrs *a, int nofollow)
{
	int fd = sftp_path_open(st, path, O_PATH | (nofollow ? O_NOFOLLOW : 0),
				0);
	int r = 0, err = 0;

	if (fd < 0)
		return sftp_status_errno(st, id, errno);
	if (owner_refused(st, id, fd, a)) {
		close(fd);
		return 0;
	}
	if (a->flags & SSH_FILEXFER_ATTR_SIZE)
		r = truncate_path(st, path, fd, a->size);
	if (r == 0)
		r = apply_attrs(st, fd, a, nofollow);
	err = errno;
	close(fd);
	return sftp_status_errno(st, id, r < 0 ? err : 0);
}

int sftp_setstat_path(struct sftp_state *st, uint32_t id, const char *path,
		      const struct sftp_attrs *a, int nofollow)
{
	return setstat_fd(st, id, path, a, nofollow);
}

/* SETSTAT follows symlinks (inside the root), as OpenSSH's does. */
int sftp_op_setstat(struct sftp_state *st, struct sftp_req *rq)
{
	char path[SFTP_PATH_MAX];
	struct sftp_attrs a;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	sftp_attrs_get(&rq->rd, &a);
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "SETSTAT");
	return setstat_fd(st, rq->id, path, &a, 0);
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
	if (owner_refused(st, rq->id, fd, &a))
		return 0;
	if ((a.flags & SSH_FILEXFER_ATTR_SIZE) &&
	    (a.size > INT64_MAX || ftruncate(fd, (off_t)a.size) < 0))
		return sftp_status_errno(st, rq->id,
					 a.size > INT64_MAX ? EINVAL : errno);
	if ((a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
	    fchmod(fd, sftp_policy_mode(st, a.perm)) < 0)
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
