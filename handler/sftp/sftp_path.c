/*
 * Confinement. Every path the client names is resolved by the kernel with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) relative to an O_PATH
 * fd of ROOT: "..", absolute paths and symlinks (absolute or relative,
 * final or intermediate, created by the client or racing with us) all
 * resolve as if ROOT were "/", so nothing outside is ever looked up and no
 * error code can tell what exists there. Calls without an openat2 form
 * get the parent directory from openat2 and act on the final name with an
 * *at() call that does not follow it (docs/sftp.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sftp_priv.h"

#define SFTP_MAX_LINKS 40

int sftp_is_proc(int fd)
{
	struct statfs fs;

	return fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

/* Drops the last component of an absolute path ("" stands for "/"). */
static void path_pop(char *out, size_t *len)
{
	while (*len > 0 && out[*len - 1] != '/')
		(*len)--;
	if (*len > 0)
		(*len)--;
	out[*len] = 0;
}

/* Replaces rest with target + "/" + tail (tail may point into rest). */
static int splice_link(char *rest, size_t restsize, const char *target,
		       const char *tail)
{
	char tmp[3 * SFTP_PATH_MAX + 4];
	size_t tl = strlen(target), ll = strlen(tail);

	if (tl + 1 + ll + 1 > sizeof tmp || tl + 1 + ll + 1 > restsize) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, target, tl);
	tmp[tl] = '/';
	memcpy(tmp + tl + 1, tail, ll + 1);
	memcpy(rest, tmp, tl + ll + 2);
	return 0;
}

/* The directory fd of a symlink-free path under root, walked one
 * O_NOFOLLOW component at a time. */
static int walk_dirs(int root, const char *res)
{
	char comp[SFTP_PATH_MAX];
	int cur = openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	while (cur >= 0 && *res) {
		const char *e = strchr(res + 1, '/');
		size_t n = e ? (size_t)(e - res - 1) : strlen(res + 1);
		int nfd;

		memcpy(comp, res + 1, n);
		comp[n] = 0;
		nfd = openat(cur, comp,
			     O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		close(cur);
		cur = nfd;
		res += 1 + n;
	}
	return cur;
}

/*
 * Where openat2 is missing (kernels before 5.6, valgrind): the same walk
 * in user space, one O_NOFOLLOW component at a time, symlinks spliced in
 * and ".." popped inside the root. It cannot be raced by this client (one
 * request at a time); unlike openat2 it can be raced by another local
 * process that moves directories out of the root during the walk.
 */
static int openat2_fallback(int root, const char *path, int flags,
			    mode_t mode)
{
	char rest[3 * SFTP_PATH_MAX + 4], res[SFTP_PATH_MAX];
	char target[SFTP_PATH_MAX], comp[SFTP_PATH_MAX];
	size_t rl = 0;
	int links = 0, cur, fd;
	char *p = rest;

	if (strlen(path) >= sizeof rest) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(rest, path);
	res[0] = 0;
	cur = walk_dirs(root, res);
	while (cur >= 0) {
		struct stat sb;
		char *c;
		size_t cl;
		int last;

		while (*p == '/')
			p++;
		if (!*p) {
			fd = openat(cur, ".", flags | O_CLOEXEC, mode);
			close(cur);
			return fd;
		}
		c = p;
		while (*p && *p != '/')
			p++;
		cl = (size_t)(p - c);
		memcpy(comp, c, cl);
		comp[cl] = 0;
		while (*p == '/')
			p++;
		last = *p == 0;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			path_pop(res, &rl);
			close(cur);
			cur = walk_dirs(root, res);
			continue;
		}
		if (fstatat(cur, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(sb.st_mode) && !(last && (flags & O_NOFOLLOW))) {
			ssize_t n = readlinkat(cur, comp, target,
					       sizeof target - 1);
			/* As RESOLVE_NO_MAGICLINKS: no link in /proc. */
			if (sftp_is_proc(cur)) {
				errno = ELOOP;
				break;
			}
			if (n < 0 || ++links > 40) {
				if (n >= 0)
					errno = ELOOP;
				break;
			}
			target[n] = 0;
			if (target[0] == '/') {
				rl = 0;
				res[0] = 0;
				close(cur);
				cur = walk_dirs(root, res);
			}
			if (splice_link(rest, sizeof rest, target, p) < 0)
				break;
			p = rest;
			continue;
		}
		if (last) {
			fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC,
				    mode);
			close(cur);
			return fd;
		}
		if (rl + 1 + cl >= sizeof res) {
			errno = ENAMETOOLONG;
			break;
		}
		fd = openat(cur, comp,
			    O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		close(cur);
		cur = fd;
		res[rl++] = '/';
		memcpy(res + rl, comp, cl + 1);
		rl += cl;
	}
	if (cur >= 0) {
		int err = errno;

		close(cur);
		errno = err;
	}
	return -1;
}

int sftp_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode)
{
	struct open_how how;
	int tries = 0;
	long fd;

	memset(&how, 0, sizeof how);
	how.flags = flags | O_CLOEXEC;
	how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	if (!*path)
		path = "/";
	/* EAGAIN: a rename raced with a ".." lookup; the kernel asks us to
	 * retry rather than risk an escape. */
	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 16)));
	if (fd < 0 && errno == ENOSYS)
		return openat2_fallback(dirfd, path, (int)flags,
					(mode_t)how.mode);
	return (int)fd;
}

void sftp_path_full(const struct sftp_state *st, const char *path,
		    char *dst)
{
	size_t n;

	if (path[0] == '/') {
		strcpy(dst, path);
		return;
	}
	n = strlen(st->cwd);
	memcpy(dst, st->cwd, n);
	if (!path[0]) {
		dst[n] = 0;
		return;
	}
	if (n == 0 || dst[n - 1] != '/')
		dst[n++] = '/';
	strcpy(dst + n, path);
}

int sftp_path_open(const struct sftp_state *st, const char *path, int flags,
		   mode_t mode)
{
	char full[2 * SFTP_PATH_MAX + 2];

	sftp_path_full(st, path, full);
	return sftp_openat2(st->root_fd, full, (uint64_t)(unsigned)flags,
			    mode);
}

int sftp_path_parent(const struct sftp_state *st, const char *path,
		     char *namebuf, size_t namesize)
{
	char full[2 * SFTP_PATH_MAX + 2];
	size_t n, slash;
	const char *name;

	sftp_path_full(st, path, full);
	n = strlen(full);
	while (n > 1 && full[n - 1] == '/')
		full[--n] = 0;
	slash = n;
	while (slash > 0 && full[slash - 1] != '/')
		slash--;
	name = full + slash;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		/* "/", "x/." or "x/..": no entry of its own to act on. */
		errno = EBUSY;
		return -1;
	}
	if (strlen(name) >= namesize) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(namebuf, name);
	if (slash == 0) {
		full[0] = '.';
		full[1] = 0;
	} else if (slash == 1) {
		full[1] = 0;
	} else {
		full[slash - 1] = 0;
	}
	return sftp_openat2(st->root_fd, full, O_PATH | O_DIRECTORY, 0);
}

/* Looks at out (a symlink-free prefix plus one new component): returns 1
 * and the target when it is a symlink, 0 otherwise, -1 on error. */
static int realpath_step(const struct sftp_state *st, const char *out,
			 int last, char *target, size_t tsize)
{
	struct stat sb;
	ssize_t n;
	int fd = sftp_openat2(st->root_fd, out, O_PATH | O_NOFOLLOW, 0);

	if (fd < 0)
		return (errno == ENOENT && last) ? 0 : -1;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return -1;
	}
	if (S_ISLNK(sb.st_mode)) {
		if (sftp_is_proc(fd)) {
			/* A magic link's text is a host path: never used. */
			close(fd);
			errno = ELOOP;
			return -1;
		}
		n = readlinkat(fd, "", target, tsize - 1);
		close(fd);
		if (n < 0)
			return -1;
		target[n] = 0;
		return 1;
	}
	close(fd);
	if (!last && !S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int sftp_realpath(const struct sftp_state *st, const char *path, char *dst,
		  size_t dstsize)
{
	char rest[3 * SFTP_PATH_MAX + 4];
	char out[SFTP_PATH_MAX];
	char target[SFTP_PATH_MAX];
	size_t len = 0, cl;
	int links = 0, r;
	char *p;

	sftp_path_full(st, path, rest);
	out[0] = 0;
	p = rest;
	for (;;) {
		char *c;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		c = p;
		while (*p && *p != '/')
			p++;
		cl = (size_t)(p - c);
		if (cl == 1 && c[0] == '.')
			continue;
		if (cl == 2 && c[0] == '.' && c[1] == '.') {
			path_pop(out, &len);
			continue;
		}
		if (len + 1 + cl >= sizeof out) {
			errno = ENAMETOOLONG;
			return -1;
		}
		out[len++] = '/';
		memcpy(out + len, c, cl);
		len += cl;
		out[len] = 0;
		while (*p == '/')
			p++;
		r = realpath_step(st, out, *p == 0, target, sizeof target);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (++links > SFTP_MAX_LINKS) {
			errno = ELOOP;
			return -1;
		}
		path_pop(out, &len);
		if (target[0] == '/')
			len = 0, out[0] = 0;
		if (splice_link(rest, sizeof rest, target, p) < 0)
			return -1;
		p = rest;
	}
	if (len == 0)
		out[len++] = '/', out[1] = 0;
	if (len >= dstsize) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dst, out, len + 1);
	return 0;
}
