/*
 * The sftp protocol module (docs/sftp.md): SFTP v3 as OpenSSH's
 * sftp-server speaks it, confined to a root. This file is the protocol
 * table, the framer, the request table (asking sftp_policy.c before each
 * request runs), and the session's start and summary.
 *
 * Packets are parsed in place in s->in: the framer knows a packet's exact
 * extent before its handler runs, the cursor is bounded by it, and nothing
 * writes into s->in while a handler runs; so WRITE data goes to pwrite()
 * without a copy. Replies are written in request order, synchronously.
 */
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "sftp_priv.h"

typedef int (*sftp_handler_fn)(struct sftp_state *st, struct sftp_req *rq);

/* Which requests write is the policy's to know (sftp_policy.c). */
struct sftp_op {
	const char *name;
	sftp_handler_fn fn;
};

static const struct sftp_op ops[] = {
	[SSH_FXP_OPEN] = { "OPEN", sftp_op_open },
	[SSH_FXP_CLOSE] = { "CLOSE", sftp_op_close },
	[SSH_FXP_READ] = { "READ", sftp_op_read },
	[SSH_FXP_WRITE] = { "WRITE", sftp_op_write },
	[SSH_FXP_LSTAT] = { "LSTAT", sftp_op_stat },
	[SSH_FXP_FSTAT] = { "FSTAT", sftp_op_fstat },
	[SSH_FXP_SETSTAT] = { "SETSTAT", sftp_op_setstat },
	[SSH_FXP_FSETSTAT] = { "FSETSTAT", sftp_op_fsetstat },
	[SSH_FXP_OPENDIR] = { "OPENDIR", sftp_op_opendir },
	[SSH_FXP_READDIR] = { "READDIR", sftp_op_readdir },
	[SSH_FXP_REMOVE] = { "REMOVE", sftp_op_remove },
	[SSH_FXP_MKDIR] = { "MKDIR", sftp_op_mkdir },
	[SSH_FXP_RMDIR] = { "RMDIR", sftp_op_rmdir },
	[SSH_FXP_REALPATH] = { "REALPATH", sftp_op_realpath },
	[SSH_FXP_STAT] = { "STAT", sftp_op_stat },
	[SSH_FXP_RENAME] = { "RENAME", sftp_op_rename },
	[SSH_FXP_READLINK] = { "READLINK", sftp_op_readlink },
	[SSH_FXP_SYMLINK] = { "SYMLINK", sftp_op_symlink },
};

#define NOPS (sizeof ops / sizeof ops[0])

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
	struct sftp_read_req q;
	struct sftp_req rq;
	uint32_t want = st->max_data;

	sftp_req_head(&rq, p, len);
	if (rq.type == SSH_FXP_READDIR)
		return SFTP_READDIR_REPLY;
	if (rq.type != SSH_FXP_READ)
		return SFTP_SMALL_REPLY;
	if (sftp_read_req_parse(&rq.rd, &q) == SFTP_READ_OK &&
	    q.len <= st->max_data)
		want = q.len;
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
	int head = sftp_req_head(&rq, p, len);

	if (head == SFTP_HEAD_EMPTY) {
		log_error("sftp: empty packet");
		return EXIT_PERM;
	}
	if (rq.type == SSH_FXP_INIT)
		return handle_init(st, &rq.rd);
	if (!st->inited) {
		log_error("sftp: packet type %u before INIT", rq.type);
		return EXIT_PERM;
	}
	if (head == SFTP_HEAD_NO_ID) {
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

/* A packet is a be32 length and that many bytes. -1 until the length is
 * in; then *len is set, and 1 when the whole packet is in, else 0. */
static int packet_len(const struct buf *in, uint32_t *len)
{
	struct rd r;

	rd_init(&r, buf_data(in), buf_len(in));
	if (rd_be32(&r, len) < 0)
		return -1;
	return rd_left(&r) >= *len;
}

/* A copy-data request: it waits while another copy runs. */
static int is_copy_data(const uint8_t *p, uint32_t len)
{
	static const char name[] = "copy-data";
	struct sftp_req rq;
	const uint8_t *n;
	uint32_t nn;

	if (sftp_req_head(&rq, p, len) != SFTP_HEAD_OK ||
	    rq.type != SSH_FXP_EXTENDED ||
	    rd_string(&rq.rd, &n, &nn, 256) < 0)
		return 0;
	return nn == sizeof name - 1 && memcmp(n, name, nn) == 0;
}

static int sftp_input(struct session *s, void *state)
{
	struct sftp_state *st = state;

	/* Nobody is left to want the copy's result: it stops. */
	if (s->in_eof)
		sftp_copy_stop(st, "the client's input ended");
	for (;;) {
		const uint8_t *p = buf_data(&s->in);
		uint32_t len;
		int whole = packet_len(&s->in, &len), r;

		if (whole < 0)
			return 0;
		if (len > st->max_packet) {
			log_error("sftp: user=%s packet of %u bytes exceeds "
				  "the limit of %u: closing",
				  user_name(st), len, st->max_packet);
			return EXIT_PERM;
		}
		if (!whole)
			return 0;
		if (len > 0 && out_tail(st) < reply_bound(st, p + 4, len))
			return 0; /* back-pressure: called again on drain */
		/* Enough queued: let the core write it while the client
		 * consumes, instead of preading a megabyte first. */
		if (buf_len(&s->out) >= SFTP_OUT_HIGH)
			return 0;
		if (st->copy.active && is_copy_data(p + 4, len))
			return 0; /* one copy at a time */
		r = handle_packet(st, p + 4, len);
		buf_consume(&s->in, 4 + (size_t)len);
		if (r)
			return r;
	}
}

/* Done once no complete packet is left (partial ones cannot finish) and
 * no copy is pending. */
static int sftp_idle(struct session *s, void *state)
{
	const struct sftp_state *st = state;
	uint32_t len;

	return packet_len(&s->in, &len) != 1 && !(st && st->copy.active);
}

/*
 * A pending copy wants the next pass at once (a deadline in the past:
 * poll does not wait), unless its STATUS could not be queued yet: then
 * the core calls input() when the output drains, and the deadline is
 * "now" again.
 */
static uint64_t sftp_deadline(struct session *s, void *state)
{
	const struct sftp_state *st = state;

	if (!st->copy.active || buf_room(&s->out) < SFTP_SMALL_REPLY)
		return 0;
	return 1;
}

static int sftp_timeout(struct session *s, void *state, uint64_t now)
{
	(void)s;
	(void)now;
	return sftp_copy_step(state);
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
	sftp_state_free(st);
}

static int sftp_start(struct session *s, int argc, char **argv, void **state)
{
	struct sftp_state *st;
	struct sftp_args a;
	int r;

	*state = NULL;
	r = sftp_parse_args(argc, argv, &a);
	if (r)
		return r;
	st = sftp_state_new(s, &a);
	if (!st)
		return EXIT_TEMP;
	r = sftp_policy_root(st, &a);
	if (!r)
		r = sftp_state_open(st, &a);
	if (r) {
		sftp_state_free(st);
		return r;
	}
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
	.deadline = sftp_deadline,
	.timeout = sftp_timeout,
	.idle = sftp_idle,
	.finish = sftp_finish,
};
