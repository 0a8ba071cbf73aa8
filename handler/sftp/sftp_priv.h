/*
 * The sftp module's private interface, one section per file (docs/sftp.md).
 * The sections run from the leaves up: a file calls only files whose
 * sections come before its own, so no two files depend on each other.
 * sftp.c, last, is the protocol table, the framer and the dispatcher;
 * nothing calls into it.
 */
#ifndef SFTP_PRIV_H
#define SFTP_PRIV_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "handler.h"
#include "sftp_conf.h"
#include "wire.h"

struct sftp_state;

/* ---- sftp_packet.c: the wire: packets, attributes, replies ---- */

/* Packet types (draft-ietf-secsh-filexfer-02). */
enum {
	SSH_FXP_INIT = 1,
	SSH_FXP_VERSION = 2,
	SSH_FXP_OPEN = 3,
	SSH_FXP_CLOSE = 4,
	SSH_FXP_READ = 5,
	SSH_FXP_WRITE = 6,
	SSH_FXP_LSTAT = 7,
	SSH_FXP_FSTAT = 8,
	SSH_FXP_SETSTAT = 9,
	SSH_FXP_FSETSTAT = 10,
	SSH_FXP_OPENDIR = 11,
	SSH_FXP_READDIR = 12,
	SSH_FXP_REMOVE = 13,
	SSH_FXP_MKDIR = 14,
	SSH_FXP_RMDIR = 15,
	SSH_FXP_REALPATH = 16,
	SSH_FXP_STAT = 17,
	SSH_FXP_RENAME = 18,
	SSH_FXP_READLINK = 19,
	SSH_FXP_SYMLINK = 20,
	SSH_FXP_STATUS = 101,
	SSH_FXP_HANDLE = 102,
	SSH_FXP_DATA = 103,
	SSH_FXP_NAME = 104,
	SSH_FXP_ATTRS = 105,
	SSH_FXP_EXTENDED = 200,
	SSH_FXP_EXTENDED_REPLY = 201
};

enum {
	SSH_FX_OK = 0,
	SSH_FX_EOF = 1,
	SSH_FX_NO_SUCH_FILE = 2,
	SSH_FX_PERMISSION_DENIED = 3,
	SSH_FX_FAILURE = 4,
	SSH_FX_BAD_MESSAGE = 5,
	SSH_FX_NO_CONNECTION = 6,
	SSH_FX_CONNECTION_LOST = 7,
	SSH_FX_OP_UNSUPPORTED = 8
};

enum {
	SSH_FILEXFER_ATTR_SIZE = 0x1,
	SSH_FILEXFER_ATTR_UIDGID = 0x2,
	SSH_FILEXFER_ATTR_PERMISSIONS = 0x4,
	SSH_FILEXFER_ATTR_ACMODTIME = 0x8,
	SSH_FILEXFER_ATTR_EXTENDED = 0x80000000u
};

enum {
	SSH_FXF_READ = 0x1,
	SSH_FXF_WRITE = 0x2,
	SSH_FXF_APPEND = 0x4,
	SSH_FXF_CREAT = 0x8,
	SSH_FXF_TRUNC = 0x10,
	SSH_FXF_EXCL = 0x20
};

#define SFTP_VERSION 3
/* Largest packet body accepted (and advertised), as OpenSSH's. */
#define SFTP_MAX_PACKET (256 * 1024)
/* Largest READ/WRITE data: a DATA reply with its header fits a packet. */
#define SFTP_MAX_DATA (SFTP_MAX_PACKET - 1024)
/* Paths from the client and paths built from them. */
#define SFTP_PATH_MAX 4096
/* Bound on any reply but DATA and NAME-from-READDIR. */
#define SFTP_SMALL_REPLY (4 * SFTP_PATH_MAX)
/* Bound on a READDIR reply and on its entries. */
#define SFTP_READDIR_REPLY (64 * 1024)
#define SFTP_READDIR_ENTRIES 100
/* DATA reply header: length, type, id, data length. */
#define SFTP_DATA_HDR 13
/* Longest handle string taken from the wire (ours are SFTP_HANDLE_LEN). */
#define SFTP_HANDLE_WIRE_MAX 256

struct sftp_attrs {
	uint32_t flags;
	uint64_t size;
	uint32_t uid, gid;
	uint32_t perm;
	uint32_t atime, mtime;
};

/* A request being handled: its id, and a cursor after the id. */
struct sftp_req {
	uint8_t type;
	uint32_t id;
	struct rd rd;
};

enum { SFTP_HEAD_OK, SFTP_HEAD_EMPTY, SFTP_HEAD_NO_ID };
/*
 * A packet body's head: the type, then the id for all but INIT (whose
 * version stands where the id would be), rq->rd left after them. Returns
 * SFTP_HEAD_OK, or SFTP_HEAD_EMPTY (no type) or SFTP_HEAD_NO_ID.
 */
int sftp_req_head(struct sftp_req *rq, const uint8_t *p, uint32_t len);

/* A handle string (not yet looked up), without any reply. */
int sftp_rd_handle(struct rd *r, const uint8_t **p, uint32_t *n);

/* READ after the id. */
struct sftp_read_req {
	const uint8_t *handle;
	uint32_t handle_len;
	uint64_t off;
	uint32_t len;
};

enum { SFTP_READ_OK = 0, SFTP_READ_BAD_HANDLE = -1, SFTP_READ_BAD = -2 };
/*
 * The one parser of READ's layout: the framer sizes the reply with it
 * before the handler serves the request with it. SFTP_READ_OK when every
 * field was read (trailing bytes are the caller's to refuse), else which
 * part was malformed.
 */
int sftp_read_req_parse(struct rd *r, struct sftp_read_req *q);

int sftp_attrs_get(struct rd *r, struct sftp_attrs *a);
void sftp_attrs_put(struct wr *w, const struct sftp_attrs *a);
void sftp_attrs_from_stat(struct sftp_attrs *a, const struct stat *st);
int sftp_errno_status(int err);
const char *sftp_status_text(int code);
/*
 * Replies. The dispatcher only runs a request when s->out has contiguous
 * room for its largest reply, so these never fail for lack of space.
 */
void sftp_reply_begin(struct sftp_state *st, struct wr *w, uint8_t type,
		      uint32_t id, size_t max);
void sftp_reply_end(struct sftp_state *st, struct wr *w, uint32_t id);
int sftp_status(struct sftp_state *st, uint32_t id, int code,
		 const char *msg);
/* The status for errno err, with the standard message. */
int sftp_status_errno(struct sftp_state *st, uint32_t id, int err);
/* FAILURE "invalid handle": a handle that names nothing (now). */
int sftp_invalid_handle(struct sftp_state *st, uint32_t id);
int sftp_bad_message(struct sftp_state *st, struct sftp_req *rq,
		      const char *what);
int sftp_reply_attrs(struct sftp_state *st, uint32_t id,
		      const struct stat *sb);
/* NAME with one entry and no attributes (REALPATH, READLINK). */
int sftp_reply_name1(struct sftp_state *st, uint32_t id, const char *name);
/* Reads a path string: 0, or -1 after a BAD_MESSAGE reply. */
int sftp_get_path(struct sftp_state *st, struct sftp_req *rq, char *dst);
/* Reads a handle string (not yet looked up): 0, or -1 after BAD_MESSAGE. */
int sftp_get_handle(struct sftp_state *st, struct sftp_req *rq,
		    const uint8_t **p, uint32_t *n);

/* ---- sftp_handles.c: the handle table, with generations ---- */

#define SFTP_HANDLE_LEN 8
#define SFTP_DEFAULT_HANDLES 64

enum { SFTP_H_FREE, SFTP_H_FILE, SFTP_H_DIR };

struct sftp_handle {
	int kind;
	uint32_t gen;       /* bumped at every close: stale handles miss */
	int fd;
	DIR *dir;
	int eof;            /* READDIR saw the end: EOF again */
	int readable, writable;
	int written;        /* something was written (sync at CLOSE) */
	uint64_t wb_lo, wb_hi; /* written since write-back was last started */
	dev_t dev;          /* directory's identity, for ".." at the root */
	ino_t ino;
};

struct sftp_handles {
	struct sftp_handle *h;
	uint32_t n;
	uint32_t used;
};

int sftp_handles_init(struct sftp_handles *t, uint32_t n);
/* A free entry (kind still SFTP_H_FREE), or NULL when all are taken. */
struct sftp_handle *sftp_handle_new(struct sftp_handles *t);
void sftp_handle_commit(struct sftp_handles *t, struct sftp_handle *h,
			int kind);
void sftp_handle_encode(const struct sftp_handles *t,
			const struct sftp_handle *h, uint8_t out[SFTP_HANDLE_LEN]);
/* The live handle named by the wire bytes, or NULL. */
struct sftp_handle *sftp_handle_find(struct sftp_handles *t,
				     const uint8_t *p, uint32_t n, int kind);
/* The fd a file or directory handle stands for. */
int sftp_handle_fd(const struct sftp_handle *h);
/* Closes the fd/DIR; returns close's result (errno set). */
int sftp_handle_close(struct sftp_handles *t, struct sftp_handle *h);
void sftp_handles_free(struct sftp_handles *t);

/* ---- sftp_longname.c: `ls -l` lines for READDIR ---- */

/* The last owner and group looked up: a directory rarely has many. */
struct sftp_idcache {
	uid_t uid;
	gid_t gid;
	int have_uid, have_gid;
	char user[33];
	char group[33];
};

/* Caches the session's own user and group names (at start). */
void sftp_longname_prime(struct sftp_idcache *c);
void sftp_longname(struct sftp_idcache *c, char *dst, size_t dstsize,
		   const char *name, const struct stat *sb, time_t now);

/* ---- sftp_path.c: confinement under the root ---- */

/* Whether fd lives on procfs, where symlinks are magic links. */
int sftp_is_proc(int fd);
/* openat2() under the root: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS. */
int sftp_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode);
/*
 * The client's path made absolute (client view): relative paths start at
 * the start directory; "" is ".". dst holds 2 * SFTP_PATH_MAX bytes.
 */
void sftp_path_full(const struct sftp_state *st, const char *path,
		    char *dst);
/* Opens a client path (following symlinks inside the root unless
 * O_NOFOLLOW); -1 with errno. */
int sftp_path_open(const struct sftp_state *st, const char *path, int flags,
		   mode_t mode);
/*
 * Opens the parent directory of a client path (O_PATH) and points *name at
 * the final component inside namebuf. -1 with errno; EINVAL when the final
 * component is "", "." or "..".
 */
int sftp_path_parent(const struct sftp_state *st, const char *path,
		     char *namebuf, size_t namesize);
/*
 * REALPATH: the client path canonicalised in the client's view, symlinks
 * resolved inside the root; the last component need not exist. 0 or -1
 * with errno.
 */
int sftp_realpath(const struct sftp_state *st, const char *path, char *dst,
		  size_t dstsize);

/* ---- sftp_session.c: the session state, its start and its end ---- */

struct sftp_stats {
	uint64_t read, written;
	unsigned opened, created, removed;
	unsigned bad;            /* malformed packets answered */
};

/* A copy-data in progress (sftp_copy.c): one at a time. */
struct sftp_copy {
	int active;
	uint32_t id;             /* the request, answered when it ends */
	int rfd, wfd;            /* duplicates of the handles' fds */
	uint64_t roff, len, woff; /* len 0: to the source's end */
	uint64_t done;           /* source bytes covered, holes included */
	uint64_t copied;         /* data bytes written */
	int plain;               /* copy_file_range refused: pread/pwrite */
};

struct sftp_state {
	struct session *s;
	int root_fd;             /* O_PATH of ROOT: every path starts here */
	char cwd[SFTP_PATH_MAX]; /* start directory, client view */
	dev_t root_dev;
	ino_t root_ino;
	int readonly;
	int allow_setid;         /* sftp-allow-setid yes: modes keep 06000 */
	int allow_chown;         /* sftp-allow-chown yes: uid/gid may change */
	int sync_close;          /* fdatasync written files at CLOSE (not -A) */
	int inited;
	uint32_t max_packet;
	uint32_t max_data;
	struct sftp_handles handles;
	struct sftp_stats stats;
	uint8_t *scratch;        /* copy-data fallback, allocated on demand */
	struct sftp_copy copy;   /* copy-data in progress */
	uint64_t copy_step;      /* bytes per step (SFTP_COPY_STEP) */
	struct sftp_idcache ids;
};

/* sftp-server's command line. */
struct sftp_args {
	int readonly;
	int sync_close;
	const char *start;
	const char *root;
	int umask_set;
	mode_t umask;
};

/* Logs why the arguments are refused, with the usage; EXIT_PERM. */
int sftp_usage(const char *why);
/* 0, or an exit code after logging why. */
int sftp_parse_args(int argc, char **argv, struct sftp_args *a);
/* A state with no root yet, or NULL (logged). */
struct sftp_state *sftp_state_new(struct session *s,
				  const struct sftp_args *a);
/* Opens the root, sizes the limits, then applies the umask and the start
 * directory; 0 or an exit code. The root is chosen (policy) before. */
int sftp_state_open(struct sftp_state *st, const struct sftp_args *a);
void sftp_state_free(struct sftp_state *st);

/* ---- sftp_setstat.c: SETSTAT, FSETSTAT, attributes applied to files ---- */

int sftp_op_setstat(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_fsetstat(struct sftp_state *st, struct sftp_req *rq);
/* Applies a to path (the link itself when nofollow) and sends the STATUS. */
int sftp_setstat_path(struct sftp_state *st, uint32_t id, const char *path,
		      const struct sftp_attrs *a, int nofollow);

/* ---- sftp_dirops.c: name requests ---- */

int sftp_op_opendir(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_readdir(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_remove(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_mkdir(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_rmdir(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_realpath(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_rename(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_readlink(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_symlink(struct sftp_state *st, struct sftp_req *rq);
/* RENAME (refuses to replace) and posix-rename (replaces). */
int sftp_rename_paths(struct sftp_state *st, struct sftp_req *rq,
		      const char *from, const char *to, int posix);

/* ---- sftp_ext.c: extensions ---- */

/* The copy-data fallback's buffer (st->scratch). */
#define SFTP_SCRATCH 65536

/* The VERSION list. */
void sftp_ext_advertise(struct wr *w);
/* Whether the named extension modifies anything (for read-only mode). */
int sftp_ext_writes(const uint8_t *name, uint32_t n);
/* The EXTENDED dispatcher, after the name. */
int sftp_op_extended(struct sftp_state *st, struct sftp_req *rq,
		      const uint8_t *name, uint32_t n);

/* ---- sftp_copy.c: copy-data in bounded steps ---- */

/* Data bytes a copy step writes at most, and extents it visits at most:
 * the loop serves other requests and the client between steps. */
#ifndef SFTP_COPY_STEP
#define SFTP_COPY_STEP (8u << 20)
#endif
#define SFTP_COPY_EXTENTS 64

/* copy-data once parsed: checks, then the first step (answered at once
 * if that finishes it). */
int sftp_ext_copy_data(struct sftp_state *st, struct sftp_req *rq,
		       struct sftp_handle *rh, uint64_t roff, uint64_t len,
		       struct sftp_handle *wh, uint64_t woff);
/* One step of the pending copy, if any; answers it when it ends. 0. */
int sftp_copy_step(struct sftp_state *st);
/* Ends the pending copy, if any, answered FAILURE with why (logged). */
void sftp_copy_stop(struct sftp_state *st, const char *why);

/* ---- sftp_policy.c: the permission policy ---- */

/* The root and whether it is writable, from the arguments, the user and
 * the configuration: 0 or an exit code. */
int sftp_policy_root(struct sftp_state *st, struct sftp_args *a);
/* A client's mode bits as applied: 0777 and sticky, plus setuid and
 * setgid only with sftp-allow-setid yes. */
mode_t sftp_policy_mode(const struct sftp_state *st, uint32_t perm);
/* Whether attributes a may be applied to the file open as fd: an owner
 * change (uid or gid differing from the file's) needs sftp-allow-chown
 * yes. 1 allowed, 0 refused, -1 with errno (fstat failed). */
int sftp_policy_owner(const struct sftp_state *st, int fd,
		      const struct sftp_attrs *a);
/* Whether OPEN may open a file of this type (regular files, and /dev/null,
 * zero, full, random, urandom); checked before anything opens it. */
int sftp_policy_openable(const struct stat *sb);
/* The single policy check: 1 if allowed. pflags only for OPEN. */
int sftp_permitted(const struct sftp_state *st, uint8_t type,
		   const uint8_t *ext, uint32_t extlen, uint32_t pflags);

/* ---- sftp_ops.c: file requests ---- */

int sftp_op_open(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_close(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_read(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_write(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_stat(struct sftp_state *st, struct sftp_req *rq);
int sftp_op_fstat(struct sftp_state *st, struct sftp_req *rq);

/* ---- sftp.c: the protocol table, the framer, the dispatcher ---- */

/* Output queued before input waits for the core to write. */
#ifndef SFTP_OUT_HIGH
#define SFTP_OUT_HIGH (64 * 1024)
#endif

#endif
