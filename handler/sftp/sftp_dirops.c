/*
 * Name requests: OPENDIR, READDIR, REMOVE, MKDIR, RMDIR, REALPATH, RENAME,
 * READLINK, SYMLINK. Those that change a name act on the final component
 * through an *at() call on the parent directory that openat2 resolved,
 * never following that final name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "sftp_priv.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

int sftp_op_opendir(struct sftp_state *st, struct sftp_req *rq)
{
	char path[SFTP_PATH_MAX];
	uint8_t hs[SFTP_HANDLE_LEN];
	struct sftp_handle *h;
	struct stat sb;
	struct wr w;
	int fd;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "OPENDIR");
	h = sftp_handle_new(&st->handles);
	if (!h)
		return sftp_status(st, rq->id, SSH_FX_FAILURE,
				   "too many open handles");
	fd = sftp_path_open(st, path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return sftp_status_errno(st, rq->id, errno);
	if (fstat(fd, &sb) < 0 || !(h->dir = fdopendir(fd))) {
		int err = errno;

		close(fd);
		return sftp_status_errno(st, rq->id, err);
	}
	h->dev = sb.st_dev;
	h->ino = sb.st_ino;
	h->fd = -1;
	sftp_handle_commit(&st->handles, h, SFTP_H_DIR);
	sftp_handle_encode(&st->handles, h, hs);
	sftp_reply_begin(st, &w, SSH_FXP_HANDLE, rq->id, 64);
	wr_string(&w, hs, sizeof hs);
	sftp_reply_end(st, &w, rq->id);
	return 0;
}

/* lstat of an entry; ".." of the root is the root itself, as in a chroot,
 * so nothing about the directory above ROOT is shown. */
static int entry_stat(struct sftp_state *st, struct sftp_handle *h,
		      const char *name, struct stat *sb)
{
	if (strcmp(name, "..") == 0 && h->dev == st->root_dev &&
	    h->ino == st->root_ino)
		return fstat(st->root_fd, sb);
	return fstatat(dirfd(h->dir), name, sb, AT_SYMLINK_NOFOLLOW);
}

/* Adds one entry; 0 when it did not fit (nothing written). */
static int put_entry(struct sftp_state *st, struct wr *w, const char *name,
		     const struct stat *sb, time_t now)
{
	char longname[SFTP_PATH_MAX];
	struct sftp_attrs a;
	size_t nl = strlen(name), ll;

	sftp_longname(&st->ids, longname, sizeof longname, name, sb, now);
	ll = strlen(longname);
	if (wr_room(w) < 8 + nl + ll + 32)
		return 0;
	wr_string(w, name, nl);
	wr_string(w, longname, ll);
	sftp_attrs_from_stat(&a, sb);
	sftp_attrs_put(w, &a);
	return 1;
}

int sftp_op_readdir(struct sftp_state *st, struct sftp_req *rq)
{
	struct sftp_handle *h;
	const uint8_t *hp;
	uint8_t *countp;
	uint32_t hn, count = 0;
	time_t now = time(NULL);
	struct wr w;

	if (sftp_get_handle(st, rq, &hp, &hn) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "READDIR");
	h = sftp_handle_find(&st->handles, hp, hn, SFTP_H_DIR);
	if (!h)
		return sftp_invalid_handle(st, rq->id);
	if (h->eof)
		return sftp_status(st, rq->id, SSH_FX_EOF, NULL);
	sftp_reply_begin(st, &w, SSH_FXP_NAME, rq->id, SFTP_READDIR_REPLY);
	countp = wr_reserve(&w, 4);
	while (count < SFTP_READDIR_ENTRIES && wr_ok(&w)) {
		long pos = telldir(h->dir);
		struct dirent *de;
		struct stat sb;

		errno = 0;
		de = readdir(h->dir);
		if (!de) {
			if (errno && count == 0)
				return sftp_status_errno(st, rq->id, errno);
			h->eof = !errno;
			break;
		}
		if (entry_stat(st, h, de->d_name, &sb) < 0)
			continue; /* gone since readdir: skip, as OpenSSH */
		if (!put_entry(st, &w, de->d_name, &sb, now)) {
			seekdir(h->dir, pos);
			break;
		}
		count++;
	}
	if (count == 0)
		return sftp_status(st, rq->id, SSH_FX_EOF, NULL);
	if (countp)
		be32_put(countp, count);
	sftp_reply_end(st, &w, rq->id);
	return 0;
}

/* Parent fd and final name of a path; -1 after an error reply. */
static int parent_of(struct sftp_state *st, struct sftp_req *rq,
		     const char *path, char *name, size_t namesize)
{
	int fd = sftp_path_parent(st, path, name, namesize);

	if (fd < 0)
		sftp_status_errno(st, rq->id, errno);
	return fd;
}

/* REMOVE and RMDIR: unlinkat never follows the final name. */
static int remove_common(struct sftp_state *st, struct sftp_req *rq,
			 int flags)
{
	char path[SFTP_PATH_MAX], name[SFTP_PATH_MAX];
	int pfd, r, err;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "REMOVE");
	pfd = parent_of(st, rq, path, name, sizeof name);
	if (pfd < 0)
		return 0;
	r = unlinkat(pfd, name, flags);
	err = errno;
	close(pfd);
	if (r == 0)
		st->stats.removed++;
	return sftp_status_errno(st, rq->id, r < 0 ? err : 0);
}

int sftp_op_remove(struct sftp_state *st, struct sftp_req *rq)
{
	return remove_common(st, rq, 0);
}

int sftp_op_rmdir(struct sftp_state *st, struct sftp_req *rq)
{
	return remove_common(st, rq, AT_REMOVEDIR);
}

int sftp_op_mkdir(struct sftp_state *st, struct sftp_req *rq)
{
	char path[SFTP_PATH_MAX], name[SFTP_PATH_MAX];
	struct sftp_attrs a;
	mode_t mode;
	int pfd, r, err;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	sftp_attrs_get(&rq->rd, &a);
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "MKDIR");
	mode = (a.flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		       ? sftp_policy_mode(st, a.perm)
		       : 0777;
	pfd = parent_of(st, rq, path, name, sizeof name);
	if (pfd < 0)
		return 0;
	r = mkdirat(pfd, name, mode);
	err = errno;
	close(pfd);
	if (r == 0)
		st->stats.created++;
	return sftp_status_errno(st, rq->id, r < 0 ? err : 0);
}

int sftp_op_realpath(struct sftp_state *st, struct sftp_req *rq)
{
	char path[SFTP_PATH_MAX], out[SFTP_PATH_MAX];

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "REALPATH");
	if (sftp_realpath(st, path, out, sizeof out) < 0)
		return sftp_status_errno(st, rq->id, errno);
	return sftp_reply_name1(st, rq->id, out);
}

/* SSH_FXP_RENAME refuses to replace (OpenSSH does it with link+unlink;
 * RENAME_NOREPLACE is the atomic form). */
static int rename_noreplace(int ofd, const char *oname, int nfd,
			    const char *nname)
{
	struct stat sb;

	if (renameat2(ofd, oname, nfd, nname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* File systems without RENAME_NOREPLACE: check, then rename. */
	if (fstatat(nfd, nname, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(ofd, oname, nfd, nname);
}

int sftp_rename_paths(struct sftp_state *st, struct sftp_req *rq,
		      const char *from, const char *to, int posix)
{
	char oname[SFTP_PATH_MAX], nname[SFTP_PATH_MAX];
	int ofd, nfd, r, err;

	ofd = parent_of(st, rq, from, oname, sizeof oname);
	if (ofd < 0)
		return 0;
	nfd = parent_of(st, rq, to, nname, sizeof nname);
	if (nfd < 0) {
		close(ofd);
		return 0;
	}
	if (posix)
		r = renameat(ofd, oname, nfd, nname);
	else
		r = rename_noreplace(ofd, oname, nfd, nname);
	err = errno;
	close(ofd);
	close(nfd);
	return sftp_status_errno(st, rq->id, r < 0 ? err : 0);
}

int sftp_op_rename(struct sftp_state *st, struct sftp_req *rq)
{
	char from[SFTP_PATH_MAX], to[SFTP_PATH_MAX];
	uint32_t flags;

	if (sftp_get_path(st, rq, from) < 0 || sftp_get_path(st, rq, to) < 0)
		return 0;
	/* Some v3 clients append v5's flags word; OpenSSH ignores it. */
	if (rd_left(&rq->rd) == 4)
		rd_be32(&rq->rd, &flags);
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "RENAME");
	return sftp_rename_paths(st, rq, from, to, 0);
}

int sftp_op_readlink(struct sftp_state *st, struct sftp_req *rq)
{
	char path[SFTP_PATH_MAX], target[SFTP_PATH_MAX];
	struct stat sb;
	ssize_t n;
	int fd, err;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "READLINK");
	fd = sftp_path_open(st, path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return sftp_status_errno(st, rq->id, errno);
	/* readlinkat(fd, "") says ENOENT for a non-link; readlink(2)
	 * and OpenSSH say EINVAL. */
	if (fstat(fd, &sb) == 0 && !S_ISLNK(sb.st_mode)) {
		n = -1;
		errno = EINVAL;
	} else if (sftp_is_proc(fd)) {
		n = -1; /* a magic link's text is a host path */
		errno = ELOOP;
	} else {
		n = readlinkat(fd, "", target, sizeof target - 1);
	}
	err = errno;
	close(fd);
	if (n < 0)
		return sftp_status_errno(st, rq->id, err);
	target[n] = 0;
	return sftp_reply_name1(st, rq->id, target);
}

/*
 * OpenSSH sends (target, linkpath), the reverse of the draft's order, and
 * every client follows OpenSSH. The target is stored as given: it is only
 * ever resolved through openat2 under the root.
 */
int sftp_op_symlink(struct sftp_state *st, struct sftp_req *rq)
{
	char target[SFTP_PATH_MAX], link[SFTP_PATH_MAX], name[SFTP_PATH_MAX];
	int pfd, r, err;

	if (sftp_get_path(st, rq, target) < 0 ||
	    sftp_get_path(st, rq, link) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "SYMLINK");
	pfd = parent_of(st, rq, link, name, sizeof name);
	if (pfd < 0)
		return 0;
	r = symlinkat(target, pfd, name);
	err = errno;
	close(pfd);
	if (r == 0)
		st->stats.created++;
	return sftp_status_errno(st, rq->id, r < 0 ? err : 0);
}
