/*
 * Extensions, named and versioned exactly as OpenSSH's sftp-server
 * advertises them (PROTOCOL in openssh-portable), in the same order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log.h"
#include "sftp_priv.h"

typedef int (*ext_fn)(struct sftp_state *st, struct sftp_req *rq);

struct sftp_ext {
	const char *name;
	const char *version;
	int writes;
	ext_fn fn;
};

static int ext_posix_rename(struct sftp_state *st, struct sftp_req *rq);
static int ext_statvfs(struct sftp_state *st, struct sftp_req *rq);
static int ext_fstatvfs(struct sftp_state *st, struct sftp_req *rq);
static int ext_hardlink(struct sftp_state *st, struct sftp_req *rq);
static int ext_fsync(struct sftp_state *st, struct sftp_req *rq);
static int ext_lsetstat(struct sftp_state *st, struct sftp_req *rq);
static int ext_limits(struct sftp_state *st, struct sftp_req *rq);
static int ext_expand_path(struct sftp_state *st, struct sftp_req *rq);
static int ext_copy_data(struct sftp_state *st, struct sftp_req *rq);
static int ext_home_directory(struct sftp_state *st, struct sftp_req *rq);

static const struct sftp_ext exts[] = {
	{ "posix-rename@openssh.com", "1", 1, ext_posix_rename },
	{ "statvfs@openssh.com", "2", 0, ext_statvfs },
	{ "fstatvfs@openssh.com", "2", 0, ext_fstatvfs },
	{ "hardlink@openssh.com", "1", 1, ext_hardlink },
	{ "fsync@openssh.com", "1", 1, ext_fsync },
	{ "lsetstat@openssh.com", "1", 1, ext_lsetstat },
	{ "limits@openssh.com", "1", 0, ext_limits },
	{ "expand-path@openssh.com", "1", 0, ext_expand_path },
	{ "copy-data", "1", 1, ext_copy_data },
	{ "home-directory", "1", 0, ext_home_directory },
};

#define NEXTS (sizeof exts / sizeof exts[0])

static const struct sftp_ext *ext_find(const uint8_t *name, uint32_t n)
{
	for (size_t i = 0; i < NEXTS; i++)
		if (strlen(exts[i].name) == n && memcmp(exts[i].name, name, n) == 0)
			return &exts[i];
	return NULL;
}

void sftp_ext_advertise(struct wr *w)
{
	for (size_t i = 0; i < NEXTS; i++) {
		wr_cstring(w, exts[i].name);
		wr_cstring(w, exts[i].version);
	}
}

int sftp_ext_writes(const uint8_t *name, uint32_t n)
{
	const struct sftp_ext *e = ext_find(name, n);

	return e ? e->writes : 0;
}

int sftp_op_extended(struct sftp_state *st, struct sftp_req *rq,
		     const uint8_t *name, uint32_t n)
{
	const struct sftp_ext *e = ext_find(name, n);
	char esc[96];

	if (!e) {
		log_escape(esc, sizeof esc, name, n);
		log_info("sftp: unsupported extension \"%s\" (request %u)",
			 esc, rq->id);
		return sftp_status(st, rq->id, SSH_FX_OP_UNSUPPORTED, NULL);
	}
	return e->fn(st, rq);
}

static int get_file_handle(struct sftp_state *st, struct sftp_req *rq,
			   struct sftp_handle **h)
{
	const uint8_t *p;
	uint32_t n;

	*h = NULL;
	if (sftp_rd_handle(&rq->rd, &p, &n) < 0)
		return -1;
	*h = sftp_handle_find(&st->handles, p, n, SFTP_H_FILE);
	return 0;
}

static int ext_posix_rename(struct sftp_state *st, struct sftp_req *rq)
{
	char from[SFTP_PATH_MAX], to[SFTP_PATH_MAX];

	if (sftp_get_path(st, rq, from) < 0 || sftp_get_path(st, rq, to) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "posix-rename");
	return sftp_rename_paths(st, rq, from, to, 1);
}

static int reply_statvfs(struct sftp_state *st, uint32_t id, int fd)
{
	struct statvfs v;
	uint64_t flag = 0;
	struct wr w;

	if (fstatvfs(fd, &v) < 0)
		return sftp_status_errno(st, id, errno);
	if ((v.f_flag & ST_RDONLY) || st->readonly)
		flag |= 1;
	if (v.f_flag & ST_NOSUID)
		flag |= 2;
	sftp_reply_begin(st, &w, SSH_FXP_EXTENDED_REPLY, id, 128);
	wr_be64(&w, v.f_bsize);
	wr_be64(&w, v.f_frsize);
	wr_be64(&w, v.f_blocks);
	wr_be64(&w, v.f_bfree);
	wr_be64(&w, v.f_bavail);
	wr_be64(&w, v.f_files);
	wr_be64(&w, v.f_ffree);
	wr_be64(&w, v.f_favail);
	wr_be64(&w, v.f_fsid);
	wr_be64(&w, flag);
	wr_be64(&w, v.f_namemax);
	sftp_reply_end(st, &w, id);
	return 0;
}

static int ext_statvfs(struct sftp_state *st, struct sftp_req *rq)
{
	char path[SFTP_PATH_MAX];
	int fd, r;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "statvfs");
	fd = sftp_path_open(st, path, O_PATH, 0);
	if (fd < 0)
		return sftp_status_errno(st, rq->id, errno);
	r = reply_statvfs(st, rq->id, fd);
	close(fd);
	return r;
}

static int ext_fstatvfs(struct sftp_state *st, struct sftp_req *rq)
{
	struct sftp_handle *h;

	if (get_file_handle(st, rq, &h) < 0 || !rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "fstatvfs");
	if (!h)
		return sftp_invalid_handle(st, rq->id);
	return reply_statvfs(st, rq->id, h->fd);
}

static int ext_hardlink(struct sftp_state *st, struct sftp_req *rq)
{
	char from[SFTP_PATH_MAX], to[SFTP_PATH_MAX];
	char oname[SFTP_PATH_MAX], nname[SFTP_PATH_MAX];
	int ofd, nfd, r, err;

	if (sftp_get_path(st, rq, from) < 0 || sftp_get_path(st, rq, to) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "hardlink");
	ofd = sftp_path_parent(st, from, oname, sizeof oname);
	if (ofd < 0)
		return sftp_status_errno(st, rq->id, errno);
	nfd = sftp_path_parent(st, to, nname, sizeof nname);
	if (nfd < 0) {
		err = errno;
		close(ofd);
		return sftp_status_errno(st, rq->id, err);
	}
	/* Flags 0: a symlink is linked itself, never followed. */
	r = linkat(ofd, oname, nfd, nname, 0);
	err = errno;
	close(ofd);
	close(nfd);
	return sftp_status_errno(st, rq->id, r < 0 ? err : 0);
}

static int ext_fsync(struct sftp_state *st, struct sftp_req *rq)
{
	struct sftp_handle *h;

	if (get_file_handle(st, rq, &h) < 0 || !rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "fsync");
	if (!h)
		return sftp_invalid_handle(st, rq->id);
	return sftp_status_errno(st, rq->id, fsync(h->fd) < 0 ? errno : 0);
}

static int ext_lsetstat(struct sftp_state *st, struct sftp_req *rq)
{
	char path[SFTP_PATH_MAX];
	struct sftp_attrs a;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	sftp_attrs_get(&rq->rd, &a);
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "lsetstat");
	if (a.flags & SSH_FILEXFER_ATTR_SIZE) /* meaningless for a link */
		return sftp_status(st, rq->id, SSH_FX_BAD_MESSAGE, NULL);
	return sftp_setstat_path(st, rq->id, path, &a, 1);
}

static int ext_limits(struct sftp_state *st, struct sftp_req *rq)
{
	struct wr w;

	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "limits");
	sftp_reply_begin(st, &w, SSH_FXP_EXTENDED_REPLY, rq->id, 64);
	wr_be64(&w, st->max_packet);
	wr_be64(&w, st->max_data);
	wr_be64(&w, st->max_data);
	wr_be64(&w, st->handles.n);
	sftp_reply_end(st, &w, rq->id);
	return 0;
}

/* "~" and "~/..." are the start directory: the only home in the root. */
static int ext_expand_path(struct sftp_state *st, struct sftp_req *rq)
{
	char path[SFTP_PATH_MAX], full[2 * SFTP_PATH_MAX + 2];
	char out[SFTP_PATH_MAX];
	const char *p = path;

	if (sftp_get_path(st, rq, path) < 0)
		return 0;
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "expand-path");
	if (path[0] == '~') {
		if (path[1] && path[1] != '/')
			return sftp_status(st, rq->id, SSH_FX_NO_SUCH_FILE,
					   NULL);
		snprintf(full, sizeof full, "%s/%s", st->cwd,
			 path[1] ? path + 2 : "");
		p = full;
	}
	if (strlen(p) >= SFTP_PATH_MAX)
		return sftp_status_errno(st, rq->id, ENAMETOOLONG);
	if (sftp_realpath(st, p, out, sizeof out) < 0)
		return sftp_status_errno(st, rq->id, errno);
	return sftp_reply_name1(st, rq->id, out);
}

static int ext_home_directory(struct sftp_state *st, struct sftp_req *rq)
{
	const uint8_t *p;
	uint32_t n;

	if (rd_string(&rq->rd, &p, &n, SFTP_PATH_MAX) < 0 || !rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "home-directory");
	return sftp_reply_name1(st, rq->id, st->cwd);
}

static int ext_copy_data(struct sftp_state *st, struct sftp_req *rq)
{
	struct sftp_handle *rh, *wh;
	uint64_t roff, len, woff;

	if (get_file_handle(st, rq, &rh) < 0)
		return sftp_bad_message(st, rq, "copy-data");
	rd_be64(&rq->rd, &roff);
	rd_be64(&rq->rd, &len);
	if (get_file_handle(st, rq, &wh) < 0)
		return sftp_bad_message(st, rq, "copy-data");
	rd_be64(&rq->rd, &woff);
	if (!rd_end(&rq->rd))
		return sftp_bad_message(st, rq, "copy-data");
	return sftp_ext_copy_data(st, rq, rh, roff, len, wh, woff);
}
