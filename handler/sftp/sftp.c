/*
 * The sftp protocol module (docs/sftp.md): SFTP v3 as OpenSSH's
 * sftp-server speaks it, confined to a root. This file is the protocol
 * table, the framer, the request table with the one permission check, and
 * the session set-up and summary.
 *
 * Packets are parsed in place in s->in: the framer knows a packet's exact
 * extent before its handler runs, the cursor is bounded by it, and nothing
 * writes into s->in while a handler runs; so WRITE data goes to pwrite()
 * without a copy. Replies are written in request order, synchronously.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "sftp_priv.h"

struct sftp_op {
	const char *name;
	int writes;
	sftp_handler_fn fn;
};

static const struct sftp_op ops[] = {
	[SSH_FXP_OPEN] = { "OPEN", 0, sftp_op_open }, /* pflags decide */
	[SSH_FXP_CLOSE] = { "CLOSE", 0, sftp_op_close },
	[SSH_FXP_READ] = { "READ", 0, sftp_op_read },
	[SSH_FXP_WRITE] = { "WRITE", 1, sftp_op_write },
	[SSH_FXP_LSTAT] = { "LSTAT", 0, sftp_op_stat },
	[SSH_FXP_FSTAT] = { "FSTAT", 0, sftp_op_fstat },
	[SSH_FXP_SETSTAT] = { "SETSTAT", 1, sftp_op_setstat },
	[SSH_FXP_FSETSTAT] = { "FSETSTAT", 1, sftp_op_fsetstat },
	[SSH_FXP_OPENDIR] = { "OPENDIR", 0, sftp_op_opendir },
	[SSH_FXP_READDIR] = { "READDIR", 0, sftp_op_readdir },
	[SSH_FXP_REMOVE] = { "REMOVE", 1, sftp_op_remove },
	[SSH_FXP_MKDIR] = { "MKDIR", 1, sftp_op_mkdir },
	[SSH_FXP_RMDIR] = { "RMDIR", 1, sftp_op_rmdir },
	[SSH_FXP_REALPATH] = { "REALPATH", 0, sftp_op_realpath },
	[SSH_FXP_STAT] = { "STAT", 0, sftp_op_stat },
	[SSH_FXP_RENAME] = { "RENAME", 1, sftp_op_rename },
	[SSH_FXP_READLINK] = { "READLINK", 0, sftp_op_readlink },
	[SSH_FXP_SYMLINK] = { "SYMLINK", 1, sftp_op_symlink },
};

#define NOPS (sizeof ops / sizeof ops[0])

int sftp_permitted(const struct sftp_state *st, uint8_t type,
		   const uint8_t *ext, uint32_t extlen, uint32_t pflags)
{
	if (!st->readonly)
		return 1;
	if (type == SSH_FXP_OPEN)
		return !(pflags & (SSH_FXF_WRITE | SSH_FXF_CREAT |
				   SSH_FXF_TRUNC | SSH_FXF_APPEND));
	if (type == SSH_FXP_EXTENDED)
		return !sftp_ext_writes(ext, extlen);
	return !(type < NOPS && ops[type].writes);
}

static const char *user_name(const struct sftp_state *st)
{
	return st->s->user ? st->s->user->name : "-";
}

/* Contiguous room at the tail of s->out: a reply never makes buf_reserve
 * move queued output. */
static size_t out_tail(const struct sftp_state *st)
{
	const struct buf *o = &st->s->out;

	return buf_len(o) == 0 ? o->cap : o->cap - o->end;
}

/* The largest reply a packet can get. For READ the asked length counts,
 * so small reads are not held back waiting for room for a big one. */
static size_t reply_bound(const struct sftp_state *st, const uint8_t *p,
			  uint32_t len)
{
	struct rd r;
	const uint8_t *h;
	uint32_t hn, want = st->max_data;
	uint64_t off;
	uint8_t type;

	rd_init(&r, p, len);
	rd_u8(&r, &type);
	if (type == SSH_FXP_READDIR)
		return SFTP_READDIR_REPLY;
	if (type != SSH_FXP_READ)
		return SFTP_SMALL_REPLY;
	rd_skip(&r, 4);
	rd_string(&r, &h, &hn, 256);
	rd_be64(&r, &off);
	if (rd_be32(&r, &want) < 0 || want > st->max_data)
		want = st->max_data;
	return SFTP_DATA_HDR + (size_t)want < SFTP_SMALL_REPLY
		       ? SFTP_SMALL_REPLY
		       : SFTP_DATA_HDR + (size_t)want;
}

static void reply_version(struct sftp_state *st)
{
	struct wr w;

	sftp_reply_begin(st, &w, SSH_FXP_VERSION, 0, SFTP_SMALL_REPLY);
	wr_be32(&w, SFTP_VERSION);
	sftp_ext_advertise(&w);
	sftp_reply_end(st, &w, 0);
}

static int handle_init(struct sftp_state *st, struct rd *r)
{
	uint32_t version;

	if (rd_be32(r, &version) < 0) {
		log_error("sftp: malformed INIT");
		return EXIT_PERM;
	}
	if (st->inited) {
		st->stats.bad++;
		log_warn("sftp: second INIT ignored");
		return 0;
	}
	/* Whatever the client offers, the answer is version 3; any
	 * extension data after the version is ignored. */
	st->inited = 1;
	log_debug("sftp: INIT version %u", version);
	reply_version(st);
	return 0;
}

static int handle_extended(struct sftp_state *st, struct sftp_req *rq)
{
	const uint8_t *name;
	uint32_t n;

	if (rd_string(&rq->rd, &name, &n, 256) < 0)
		return sftp_bad_message(st, rq, "EXTENDED");
	if (!sftp_permitted(st, rq->type, name, n, 0))
		return sftp_status(st, rq->id, SSH_FX_PERMISSION_DENIED, NULL);
	return sftp_op_extended(st, rq, name, n);
}

/* One complete packet body (type onwards). Returns 0 or an exit code. */
static int handle_packet(struct sftp_state *st, const uint8_t *p,
			 uint32_t len)
{
	struct sftp_req rq;

	memset(&rq, 0, sizeof rq);
	rd_init(&rq.rd, p, len);
	if (rd_u8(&rq.rd, &rq.type) < 0) {
		log_error("sftp: empty packet");
		return EXIT_PERM;
	}
	if (rq.type == SSH_FXP_INIT)
		return handle_init(st, &rq.rd);
	if (!st->inited) {
		log_error("sftp: packet type %u before INIT", rq.type);
		return EXIT_PERM;
	}
	if (rd_be32(&rq.rd, &rq.id) < 0) {
		/* No id to answer to: the status says so with id 0. */
		st->stats.bad++;
		log_warn("sftp: packet type %u too short for a request id",
			 rq.type);
		sftp_status(st, 0, SSH_FX_BAD_MESSAGE, NULL);
		return 0;
	}
	if (rq.type == SSH_FXP_EXTENDED)
		return handle_extended(st, &rq);
	if (rq.type >= NOPS || !ops[rq.type].fn) {
		log_info("sftp: unsupported packet type %u (request %u)",
			 rq.type, rq.id);
		return sftp_status(st, rq.id, SSH_FX_OP_UNSUPPORTED, NULL);
	}
	log_debug("sftp: request %u %s", rq.id, ops[rq.type].name);
	if (!sftp_permitted(st, rq.type, NULL, 0, 0))
		return sftp_status(st, rq.id, SSH_FX_PERMISSION_DENIED, NULL);
	return ops[rq.type].fn(st, &rq);
}

static int sftp_input(struct session *s, void *state)
{
	struct sftp_state *st = state;

	for (;;) {
		const uint8_t *p = buf_data(&s->in);
		size_t have = buf_len(&s->in);
		uint32_t len;
		struct rd fr;
		int r;

		rd_init(&fr, p, have);
		if (rd_be32(&fr, &len) < 0)
			return 0;
		if (len > st->max_packet) {
			log_error("sftp: user=%s packet of %u bytes exceeds "
				  "the limit of %u: closing",
				  user_name(st), len, st->max_packet);
			return EXIT_PERM;
		}
		if (have - 4 < len)
			return 0;
		if (len > 0 && out_tail(st) < reply_bound(st, p + 4, len))
			return 0; /* back-pressure: called again on drain */
		/* Enough queued: let the core write it while the client
		 * consumes, instead of preading a megabyte first. */
		if (buf_len(&s->out) >= SFTP_OUT_HIGH)
			return 0;
		r = handle_packet(st, p + 4, len);
		buf_consume(&s->in, 4 + (size_t)len);
		if (r)
			return r;
	}
}

/* Done once no complete packet is left (partial ones cannot finish). */
static int sftp_idle(struct session *s, void *state)
{
	struct rd r;
	uint32_t len;

	(void)state;
	rd_init(&r, buf_data(&s->in), buf_len(&s->in));
	return rd_be32(&r, &len) < 0 || rd_left(&r) < len;
}

static void sftp_finish(struct session *s, void *state)
{
	struct sftp_state *st = state;

	if (!st)
		return;
	if (buf_len(&s->in))
		log_warn("sftp: %zu bytes of an incomplete packet discarded",
			 buf_len(&s->in));
	log_info("sftp: user=%s read=%llu written=%llu opened=%u "
		 "created=%u removed=%u bad=%u",
		 user_name(st), (unsigned long long)st->stats.read,
		 (unsigned long long)st->stats.written, st->stats.opened,
		 st->stats.created, st->stats.removed, st->stats.bad);
	sftp_handles_free(&st->handles);
	if (st->root_fd >= 0)
		close(st->root_fd);
	free(st->scratch);
	free(st);
}

/* ---- start: arguments, root, permissions ---- */

struct sftp_args {
	int readonly;
	int sync_close;
	const char *start;
	const char *root;
	int umask_set;
	mode_t umask;
};

static int usage(const char *why)
{
	log_error("sftp: %s; usage: sftp [-R] [-A|-S] [-d START] [-u UMASK] "
		  "[-e] [-l LEVEL] [-f FACILITY] [ROOT]", why);
	return EXIT_PERM;
}

static int parse_umask(const char *v, mode_t *m)
{
	char *end;
	long u;

	errno = 0;
	u = strtol(v, &end, 8);
	if (errno || end == v || *end || u < 0 || u > 0777)
		return -1;
	*m = (mode_t)u;
	return 0;
}

/* sftp-server's options, clustered or not; -e -l -f are accepted and
 * ignored so handler can be sshd's "Subsystem sftp". */
static int parse_args(int argc, char **argv, struct sftp_args *a)
{
	int i;

	memset(a, 0, sizeof *a);
	/* Data written is on disk when CLOSE is answered OK; -A opts out. */
	a->sync_close = 1;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i] + 1;

		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		for (; *o; o++) {
			const char *v;

			if (strchr("ReSA", *o)) {
				if (*o == 'R')
					a->readonly = 1;
				if (*o == 'S')
					a->sync_close = 1;
				if (*o == 'A')
					a->sync_close = 0;
				continue;
			}
			if (!strchr("dulf", *o))
				return usage("unknown option");
			v = o[1] ? o + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v)
				return usage("option needs a value");
			if (*o == 'd')
				a->start = v;
			if (*o == 'u') {
				if (parse_umask(v, &a->umask) < 0)
					return usage("bad umask");
				a->umask_set = 1;
			}
			break;
		}
	}
	if (argc - i > 1)
		return usage("too many arguments");
	a->root = i < argc ? argv[i] : NULL;
	return 0;
}

/* The root and whether it is writable, from the arguments, the user and
 * the configuration. */
static int choose_root(struct sftp_state *st, struct sftp_args *a)
{
	const struct sftp_conf *c = st->s->mconf;
	const struct conf_user *u = st->s->user;
	const char *user_root = u ? sftp_conf_user_root(c, u->name) : NULL;
	int rw = 1;

	if (!a->root) {
		if (user_root)
			a->root = user_root;
		else if (c && c->root) {
			a->root = c->root;
			rw = c->rw;
		}
	}
	if (!a->root)
		return usage("no root: give ROOT or set sftp-root");
	if (u) {
		if (conf_user_has(u, "sftp:rw"))
			rw = 1;
		else if (conf_user_has(u, "sftp:ro"))
			rw = 0;
		else {
			log_error("sftp: user=%s lacks permission sftp:ro or "
				  "sftp:rw", u->name);
			return EXIT_PERM;
		}
	}
	st->readonly = a->readonly || !rw;
	return 0;
}

static int open_root(struct sftp_state *st, const char *root)
{
	struct stat sb;

	if (root[0] != '/')
		return usage("ROOT must be an absolute path");
	st->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st->root_fd < 0 || fstat(st->root_fd, &sb) < 0) {
		int err = errno;

		log_error("sftp: cannot open root %s: %s", root, strerror(err));
		return (err == ENOENT || err == ENOTDIR || err == EACCES)
			       ? EXIT_PERM
			       : EXIT_TEMP;
	}
	st->root_dev = sb.st_dev;
	st->root_ino = sb.st_ino;
	return 0;
}

/* sftp-server's -d tokens: %u is the user's name, %% a percent sign. */
static int expand_start(const struct sftp_state *st, const char *in,
			char *out, size_t size)
{
	size_t n = 0;

	for (; *in; in++) {
		const char *add = NULL;
		char one[2] = { *in, 0 };

		if (*in == '%') {
			in++;
			if (*in == '%')
				add = "%";
			else if (*in == 'u' && st->s->user)
				add = st->s->user->name;
			else
				return -1;
		}
		if (!add)
			add = one;
		if (n + strlen(add) >= size)
			return -1;
		strcpy(out + n, add);
		n += strlen(add);
	}
	out[n] = 0;
	return 0;
}

static void set_start(struct sftp_state *st, const char *start)
{
	char want[SFTP_PATH_MAX], out[SFTP_PATH_MAX];
	int fd;

	strcpy(st->cwd, "/");
	if (!start)
		return;
	if (expand_start(st, start, want, sizeof want) < 0 ||
	    sftp_realpath(st, want, out, sizeof out) < 0 ||
	    (fd = sftp_openat2(st->root_fd, out, O_PATH | O_DIRECTORY, 0)) < 0) {
		log_warn("sftp: start directory %s not found in the root; "
			 "using /", start);
		return;
	}
	close(fd);
	strcpy(st->cwd, out);
}

/* Sizes from the core's buffers: a request and its reply always fit. */
static int set_limits(struct sftp_state *st)
{
	const struct session *s = st->s;
	const struct sftp_conf *c = s->mconf;
	uint32_t handles = c && c->handles ? c->handles : SFTP_DEFAULT_HANDLES;

	if (s->in.cap < 4 + SFTP_SMALL_REPLY ||
	    s->out.cap < SFTP_READDIR_REPLY + SFTP_SMALL_REPLY) {
		log_error("sftp: session buffers too small");
		return EXIT_TEMP;
	}
	st->max_packet = SFTP_MAX_PACKET;
	if (s->in.cap - 4 < st->max_packet)
		st->max_packet = (uint32_t)(s->in.cap - 4);
	st->max_data = st->max_packet - 1024;
	if (s->out.cap - SFTP_DATA_HDR < st->max_data)
		st->max_data = (uint32_t)(s->out.cap - SFTP_DATA_HDR);
	if (sftp_handles_init(&st->handles, handles) < 0) {
		log_error("sftp: out of memory");
		return EXIT_TEMP;
	}
	return 0;
}

static int sftp_start(struct session *s, int argc, char **argv, void **state)
{
	struct sftp_state *st;
	struct sftp_args a;
	int r;

	*state = NULL;
	r = parse_args(argc, argv, &a);
	if (r)
		return r;
	st = calloc(1, sizeof *st);
	if (!st) {
		log_error("sftp: out of memory");
		return EXIT_TEMP;
	}
	st->s = s;
	st->root_fd = -1;
	st->sync_close = a.sync_close;
	r = choose_root(st, &a);
	if (!r)
		r = open_root(st, a.root);
	if (!r)
		r = set_limits(st);
	if (r) {
		sftp_handles_free(&st->handles);
		if (st->root_fd >= 0)
			close(st->root_fd);
		free(st);
		return r;
	}
	if (a.umask_set)
		umask(a.umask);
	set_start(st, a.start);
	log_debug("sftp: user=%s root=%s start=%s%s", user_name(st), a.root,
		  st->cwd, st->readonly ? " read-only" : "");
	*state = st;
	return 0;
}

const struct protocol proto_sftp = {
	.name = "sftp",
	.summary = "SFTP v3 (OpenSSH sftp-server compatible) confined to a "
		   "root: sftp [-R] [-A|-S] [-d START] [-u UMASK] [ROOT]",
	.conf = &sftp_conf_module,
	.start = sftp_start,
	.input = sftp_input,
	.idle = sftp_idle,
	.finish = sftp_finish,
};
