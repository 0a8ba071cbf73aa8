/*
 * The handshake after the greeting: the client's flags, then option
 * haggling until NBD_OPT_GO or NBD_OPT_EXPORT_NAME enters transmission.
 *
 * An option is parsed in place in s->in, like every message here: the
 * framer knows its exact extent before a handler runs and the handler
 * reads it with a cursor bounded by it. Nothing is allocated for a
 * client's option. Every length is checked before it is trusted: option
 * data above NBD_OPT_DATA_MAX is skipped without being kept (and answered
 * ERR_TOO_BIG) or ends the session, names and queries are at most
 * NBD_NAME_MAX, nested lengths must end exactly at the option's end, and
 * a negotiation has at most NBD_OPTIONS_MAX options.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "exitcode.h"
#include "log.h"
#include "nbd_priv.h"

/* Any option reply but LIST's fits in this (INFO: four items and ACK). */
#define OPT_REPLY_SMALL (8u * 1024)
/* How long an ABORT waits for the client to hang up before its ACK. */
#define ABORT_GRACE_MS 100

static const char *opt_name(uint32_t opt)
{
	static const char *const names[] = {
		"?", "EXPORT_NAME", "ABORT", "LIST", "PEEK_EXPORT",
		"STARTTLS", "INFO", "GO", "STRUCTURED_REPLY",
		"LIST_META_CONTEXT", "SET_META_CONTEXT", "EXTENDED_HEADERS"
	};

	return opt < sizeof names / sizeof names[0] ? names[opt] : "?";
}

/* ---- pure decoders ---- */

int nbd_opt_hdr_decode(const uint8_t *p, size_t n, struct nbd_opt_hdr *h)
{
	struct rd r;
	uint64_t magic;

	rd_init(&r, p, n);
	if (rd_left(&r) < NBD_OPT_HDR_LEN)
		return NBD_DECODE_SHORT;
	rd_be64(&r, &magic);
	rd_be32(&r, &h->opt);
	rd_be32(&r, &h->len);
	return magic == NBD_IHAVEOPT ? 0 : NBD_DECODE_MAGIC;
}

/* A be32-length string of at most NBD_NAME_MAX bytes without NUL. */
static int rd_name(struct rd *r, const uint8_t **p, uint32_t *n)
{
	if (rd_string(r, p, n, NBD_NAME_MAX) < 0)
		return -1;
	return memchr(*p, 0, *n) ? -1 : 0;
}

int nbd_info_req_decode(const uint8_t *p, uint32_t len,
			struct nbd_info_req *q, const char **why)
{
	struct rd r;

	rd_init(&r, p, len);
	if (rd_name(&r, &q->name, &q->namelen) < 0)
		return *why = "bad export name", -1;
	if (rd_be16(&r, &q->ninfo) < 0 ||
	    rd_view(&r, &q->info, 2 * (size_t)q->ninfo) < 0 || !rd_end(&r))
		return *why = "information requests do not match the length", -1;
	return 0;
}

int nbd_meta_req_decode(const uint8_t *p, uint32_t len,
			struct nbd_meta_req *q, const char **why)
{
	struct rd r;

	rd_init(&r, p, len);
	if (rd_name(&r, &q->name, &q->namelen) < 0)
		return *why = "bad export name", -1;
	if (rd_be32(&r, &q->nqueries) < 0)
		return *why = "no query count", -1;
	q->queries = r.p + r.off;
	q->qlen = (uint32_t)rd_left(&r);
	/* Every query must be well formed and the last end the option. */
	for (uint32_t i = 0; i < q->nqueries; i++) {
		const uint8_t *s;
		uint32_t n;

		if (rd_name(&r, &s, &n) < 0)
			return *why = "bad metadata query", -1;
	}
	if (!rd_end(&r))
		return *why = "queries do not match the length", -1;
	return 0;
}

static int is(const uint8_t *s, uint32_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

int nbd_meta_selects(const struct nbd_meta_req *q, int list)
{
	struct rd r;

	if (q->nqueries == 0)
		return list;
	rd_init(&r, q->queries, q->qlen);
	for (uint32_t i = 0; i < q->nqueries; i++) {
		const uint8_t *s;
		uint32_t n;

		if (rd_name(&r, &s, &n) < 0)
			return 0;
		if (is(s, n, NBD_META_BASE_ALLOCATION) ||
		    (list && is(s, n, "base:")))
			return 1;
	}
	return 0;
}

/* ---- replies ---- */

size_t nbd_opt_reply_bound(const struct nbd_state *st, uint32_t opt)
{
	size_t n = NBD_OPT_REPLY_LEN + OPT_REPLY_SMALL;

	if (opt != NBD_OPT_LIST)
		return n;
	for (size_t i = 0; i < st->exports.n; i++) {
		const struct nbd_export *e = &st->exports.e[i];

		n += NBD_OPT_REPLY_LEN + 4 + strlen(e->name) +
		     (e->desc ? strlen(e->desc) : 0);
	}
	return n;
}

/* The one log line of a refused option and its error reply. */
static int refuse(struct nbd_state *st, uint32_t opt, uint32_t type,
		  const char *msg)
{
	log_info("nbd: user=%s option %s refused: %s", nbd_user(st),
		 opt_name(opt), msg);
	return nbd_put_opt_error(&st->s->out, opt, type, msg) < 0 ? EXIT_TEMP
								  : 0;
}

static int ack(struct nbd_state *st, uint32_t opt)
{
	return nbd_put_opt_reply(&st->s->out, opt, NBD_REP_ACK, NULL, 0) < 0
		       ? EXIT_TEMP
		       : 0;
}

static int put_info(struct nbd_state *st, uint32_t opt, uint16_t type,
		    const void *p, size_t n)
{
	struct wr w;

	if (nbd_opt_begin(&st->s->out, &w, opt, NBD_REP_INFO, 2 + n) < 0)
		return -1;
	wr_be16(&w, type);
	wr_bytes(&w, p, n);
	return nbd_opt_end(&st->s->out, &w);
}

/* ---- choosing and opening an export ---- */

static void name_for_log(char *dst, size_t size, const uint8_t *name,
			 size_t n)
{
	log_escape(dst, size, name, n < 64 ? n : 64);
}

/*
 * The export a client named, opened as this user may use it: its index,
 * or -1 with the option error in *rep and a message in msg.
 */
static int select_export(struct nbd_state *st, const uint8_t *name,
			 uint32_t n, struct nbd_disk *d, uint32_t *rep,
			 char *msg, size_t msize)
{
	char shown[80];
	int ix = nbd_exports_find(&st->exports, name, n);
	enum nbd_access a;
	int err = 0;

	name_for_log(shown, sizeof shown, name, n);
	if (ix < 0) {
		snprintf(msg, msize, "no export \"%s\"", shown);
		return *rep = NBD_REP_ERR_UNKNOWN, -1;
	}
	a = nbd_access(st->s->user, &st->exports.e[ix]);
	if (a == NBD_ACCESS_NONE) {
		snprintf(msg, msize, "export \"%s\" is not permitted", shown);
		return *rep = NBD_REP_ERR_POLICY, -1;
	}
	*rep = nbd_disk_open(d, &st->exports.e[ix],
			     a == NBD_ACCESS_RW && !st->force_ro, &err);
	if (*rep) {
		/* The path and the errno go to the log, not to the client. */
		log_error("nbd: export %s: cannot open %s: %s",
			  st->exports.e[ix].name, st->exports.e[ix].path,
			  err ? strerror(err) :
				"not a regular file or block device");
		snprintf(msg, msize, "export \"%s\" is not available", shown);
		return -1;
	}
	return ix;
}

static void enter_transmission(struct nbd_state *st, int ix,
			       const struct nbd_disk *d)
{
	st->export_ix = ix;
	st->disk = *d;
	st->tx.size = d->size;
	st->tx.eflags = nbd_disk_flags(d, st->neg.structured);
	st->tx.structured = st->neg.structured;
	st->tx.meta = st->neg.structured && st->neg.meta_export == ix;
	st->phase = NBD_PH_TRANSMIT;
	log_info("nbd: user=%s export=%s size=%llu %s%s%s",
		 nbd_user(st), st->exports.e[ix].name,
		 (unsigned long long)d->size, d->rw ? "read-write" :
		 "read-only", st->tx.structured ? " structured" : "",
		 st->tx.meta ? " base:allocation" : "");
}

/* ---- the options ---- */

/* The old way in: no error can be sent back, so a refusal ends it. */
static int opt_export_name(struct nbd_state *st, const uint8_t *p,
			   uint32_t len)
{
	struct nbd_disk d;
	uint32_t rep;
	char msg[NBD_MSG_MAX];
	struct wr w;
	uint8_t *dst;
	int ix;
	size_t n = 8 + 2 + (st->neg.no_zeroes ? 0 : NBD_EXPORT_NAME_ZEROES);

	if (memchr(p, 0, len)) {
		log_error("nbd: user=%s EXPORT_NAME with a NUL byte: closing",
			  nbd_user(st));
		return EXIT_PERM;
	}
	ix = select_export(st, p, len, &d, &rep, msg, sizeof msg);
	if (ix < 0) {
		log_error("nbd: user=%s EXPORT_NAME refused, closing: %s",
			  nbd_user(st), msg);
		return rep == NBD_REP_ERR_SHUTDOWN ? EXIT_TEMP : EXIT_PERM;
	}
	dst = buf_reserve(&st->s->out, n);
	if (!dst) {
		nbd_disk_close(&d);
		return EXIT_TEMP;
	}
	wr_init(&w, dst, n);
	wr_be64(&w, d.size);
	wr_be16(&w, nbd_disk_flags(&d, st->neg.structured));
	wr_zero(&w, wr_room(&w));
	buf_commit(&st->s->out, n);
	enter_transmission(st, ix, &d);
	return 0;
}

static int opt_list(struct nbd_state *st, uint32_t len)
{
	if (len != 0)
		return refuse(st, NBD_OPT_LIST, NBD_REP_ERR_INVALID,
			      "LIST takes no data");
	for (size_t i = 0; i < st->exports.n; i++) {
		const struct nbd_export *e = &st->exports.e[i];
		size_t nl = strlen(e->name), dl = e->desc ? strlen(e->desc) : 0;
		struct wr w;

		/* Only what this user may open is shown. */
		if (nbd_access(st->s->user, e) == NBD_ACCESS_NONE)
			continue;
		if (nbd_opt_begin(&st->s->out, &w, NBD_OPT_LIST,
				  NBD_REP_SERVER, 4 + nl + dl) < 0)
			return EXIT_TEMP;
		wr_be32(&w, (uint32_t)nl);
		wr_bytes(&w, e->name, nl);
		wr_bytes(&w, e->desc, dl);
		if (nbd_opt_end(&st->s->out, &w) < 0)
			return EXIT_TEMP;
	}
	return ack(st, NBD_OPT_LIST);
}

static int info_wanted(const struct nbd_info_req *q, uint16_t type)
{
	for (uint16_t i = 0; i < q->ninfo; i++)
		if (((uint16_t)(q->info[2 * i] << 8) | q->info[2 * i + 1]) ==
		    type)
			return 1;
	return 0;
}

/* NBD_REP_INFO items: the export always, and the block size always (it
 * differs from the default maximum, and an unrequested item is allowed);
 * name and description when asked for. */
static int send_infos(struct nbd_state *st, uint32_t opt,
		      const struct nbd_info_req *q, int ix,
		      const struct nbd_disk *d)
{
	const struct nbd_export *e = &st->exports.e[ix];
	uint8_t b[14];
	struct wr w;
	int r;

	wr_init(&w, b, sizeof b);
	wr_be64(&w, d->size);
	wr_be16(&w, nbd_disk_flags(d, st->neg.structured));
	r = put_info(st, opt, NBD_INFO_EXPORT, b, w.len);
	wr_init(&w, b, sizeof b);
	wr_be32(&w, NBD_BLOCK_MIN);
	wr_be32(&w, NBD_BLOCK_PREFERRED);
	wr_be32(&w, NBD_PAYLOAD_MAX);
	r |= put_info(st, opt, NBD_INFO_BLOCK_SIZE, b, w.len);
	if (info_wanted(q, NBD_INFO_NAME))
		r |= put_info(st, opt, NBD_INFO_NAME, e->name,
			      strlen(e->name));
	if (info_wanted(q, NBD_INFO_DESCRIPTION) && e->desc)
		r |= put_info(st, opt, NBD_INFO_DESCRIPTION, e->desc,
			      strlen(e->desc));
	return r ? EXIT_TEMP : ack(st, opt);
}

static int opt_info_go(struct nbd_state *st, uint32_t opt,
		       const uint8_t *p, uint32_t len)
{
	struct nbd_info_req q;
	struct nbd_disk d;
	const char *why;
	char msg[NBD_MSG_MAX];
	uint32_t rep;
	int ix, r;

	if (nbd_info_req_decode(p, len, &q, &why) < 0)
		return refuse(st, opt, NBD_REP_ERR_INVALID, why);
	ix = select_export(st, q.name, q.namelen, &d, &rep, msg, sizeof msg);
	if (ix < 0)
		return refuse(st, opt, rep, msg);
	r = send_infos(st, opt, &q, ix, &d);
	if (r || opt == NBD_OPT_INFO) {
		nbd_disk_close(&d);
		return r;
	}
	enter_transmission(st, ix, &d);
	return 0;
}

static int opt_structured(struct nbd_state *st, uint32_t len)
{
	if (len != 0)
		return refuse(st, NBD_OPT_STRUCTURED_REPLY,
			      NBD_REP_ERR_INVALID,
			      "STRUCTURED_REPLY takes no data");
	st->neg.structured = 1;
	return ack(st, NBD_OPT_STRUCTURED_REPLY);
}

static int opt_meta(struct nbd_state *st, uint32_t opt, const uint8_t *p,
		    uint32_t len)
{
	int list = opt == NBD_OPT_LIST_META_CONTEXT;
	struct nbd_meta_req q;
	const char *why;
	char shown[80], msg[NBD_MSG_MAX];
	int ix;

	/* A SET replaces the selection even when it fails. */
	if (!list)
		st->neg.meta_export = -1;
	if (!st->neg.structured)
		return refuse(st, opt, NBD_REP_ERR_INVALID,
			      "structured replies not negotiated");
	if (nbd_meta_req_decode(p, len, &q, &why) < 0)
		return refuse(st, opt, NBD_REP_ERR_INVALID, why);
	ix = nbd_exports_find(&st->exports, q.name, q.namelen);
	name_for_log(shown, sizeof shown, q.name, q.namelen);
	if (ix < 0) {
		snprintf(msg, sizeof msg, "no export \"%s\"", shown);
		return refuse(st, opt, NBD_REP_ERR_UNKNOWN, msg);
	}
	if (nbd_access(st->s->user, &st->exports.e[ix]) == NBD_ACCESS_NONE) {
		snprintf(msg, sizeof msg, "export \"%s\" is not permitted",
			 shown);
		return refuse(st, opt, NBD_REP_ERR_POLICY, msg);
	}
	if (nbd_meta_selects(&q, list)) {
		struct wr w;
		size_t n = strlen(NBD_META_BASE_ALLOCATION);

		if (nbd_opt_begin(&st->s->out, &w, opt, NBD_REP_META_CONTEXT,
				  4 + n) < 0)
			return EXIT_TEMP;
		wr_be32(&w, list ? 0 : NBD_META_ID_BASE_ALLOCATION);
		wr_bytes(&w, NBD_META_BASE_ALLOCATION, n);
		if (nbd_opt_end(&st->s->out, &w) < 0)
			return EXIT_TEMP;
		if (!list)
			st->neg.meta_export = ix;
	}
	return ack(st, opt);
}

/* One whole option. 0 to go on, SESSION_DONE after ABORT, an exit code. */
static int handle_option(struct nbd_state *st, uint32_t opt,
			 const uint8_t *p, uint32_t len)
{
	log_debug("nbd: user=%s option %s (%u), %u bytes", nbd_user(st),
		  opt_name(opt), opt, len);
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		return opt_export_name(st, p, len);
	case NBD_OPT_ABORT:
		/* Data is ignored, as the spec asks. */
		log_debug("nbd: user=%s ABORT", nbd_user(st));
		st->neg.aborted = 1;
		st->neg.abort_at = clock_now() + ABORT_GRACE_MS * NS_PER_MS;
		return 0;
	case NBD_OPT_LIST:
		return opt_list(st, len);
	case NBD_OPT_STARTTLS:
		if (len != 0)
			return refuse(st, opt, NBD_REP_ERR_INVALID,
				      "STARTTLS takes no data");
		return refuse(st, opt, NBD_REP_ERR_POLICY,
			      "no TLS here: encryption is handler's secure "
			      "layer (handler -s)");
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return opt_info_go(st, opt, p, len);
	case NBD_OPT_STRUCTURED_REPLY:
		return opt_structured(st, len);
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		return opt_meta(st, opt, p, len);
	default:
		return refuse(st, opt, NBD_REP_ERR_UNSUP, "unsupported option");
	}
}

/* ---- framing ---- */

static int client_flags(struct nbd_state *st)
{
	struct session *s = st->s;
	struct rd r;
	uint32_t f;

	rd_init(&r, buf_data(&s->in), buf_len(&s->in));
	if (rd_be32(&r, &f) < 0)
		return NBD_STEP_WAIT_IN;
	buf_consume(&s->in, 4);
	if (f & ~NBD_CLIENT_FLAGS_KNOWN) {
		log_error("nbd: user=%s client flags 0x%x has unknown bits: "
			  "closing", nbd_user(st), f);
		return EXIT_PERM;
	}
	if (!(f & NBD_FLAG_C_FIXED_NEWSTYLE)) {
		log_error("nbd: user=%s client does not speak fixed newstyle "
			  "negotiation (flags 0x%x): closing", nbd_user(st), f);
		return EXIT_PERM;
	}
	st->neg.no_zeroes = (f & NBD_FLAG_C_NO_ZEROES) != 0;
	st->phase = NBD_PH_OPTIONS;
	return NBD_STEP_MORE;
}

/* Skips an oversized option's data as it arrives, then refuses it. */
static int drain(struct nbd_state *st)
{
	struct session *s = st->s;
	size_t n = buf_len(&s->in) < st->neg.drain ? buf_len(&s->in) :
		   st->neg.drain;
	char msg[NBD_MSG_MAX];

	buf_consume(&s->in, n);
	st->neg.drain -= (uint32_t)n;
	if (st->neg.drain)
		return 0;
	snprintf(msg, sizeof msg, "option data of %u bytes exceeds %u",
		 st->neg.drain_len, NBD_OPT_DATA_MAX);
	return refuse(st, st->neg.drain_opt, NBD_REP_ERR_TOO_BIG, msg);
}

/* The header of an option that is too long to keep. */
static int oversized(struct nbd_state *st, const struct nbd_opt_hdr *h)
{
	if (h->opt == NBD_OPT_EXPORT_NAME || h->len > NBD_OPT_DRAIN_MAX) {
		log_error("nbd: user=%s option %s with %u bytes of data: "
			  "closing", nbd_user(st), opt_name(h->opt), h->len);
		return EXIT_PERM;
	}
	buf_consume(&st->s->in, NBD_OPT_HDR_LEN);
	st->neg.options++;
	/* A failed SET still replaces the selection. */
	if (h->opt == NBD_OPT_SET_META_CONTEXT)
		st->neg.meta_export = -1;
	st->neg.drain = h->len;
	st->neg.drain_opt = h->opt;
	st->neg.drain_len = h->len;
	return 0;
}

/* Input ended while waiting for more: fine between options only. */
static int input_ended(struct nbd_state *st)
{
	if (buf_len(&st->s->in) == 0 && st->neg.drain == 0)
		return 0;
	log_warn("nbd: user=%s connection closed in the middle of %s",
		 nbd_user(st), st->phase == NBD_PH_FLAGS ? "the client flags" :
		 "an option");
	return EXIT_TEMP;
}

/* One option, or part of a skipped one: a step result (nbd_priv.h). */
static int option_step(struct nbd_state *st)
{
	struct session *s = st->s;
	struct nbd_opt_hdr h;
	int r;

	if (st->neg.drain) {
		r = drain(st);
		return r ? r : st->neg.drain ? NBD_STEP_WAIT_IN : NBD_STEP_MORE;
	}
	r = nbd_opt_hdr_decode(buf_data(&s->in), buf_len(&s->in), &h);
	if (r == NBD_DECODE_SHORT)
		return NBD_STEP_WAIT_IN;
	if (r == NBD_DECODE_MAGIC) {
		log_error("nbd: user=%s option without the IHAVEOPT magic: "
			  "closing", nbd_user(st));
		return EXIT_PERM;
	}
	if (st->neg.options >= NBD_OPTIONS_MAX) {
		log_error("nbd: user=%s more than %u options: closing",
			  nbd_user(st), NBD_OPTIONS_MAX);
		return EXIT_PERM;
	}
	/* Back-pressure: the reply must fit before the option is taken. */
	if (buf_room(&s->out) < nbd_opt_reply_bound(st, h.opt))
		return NBD_STEP_WAIT_OUT;
	if (h.len > NBD_OPT_DATA_MAX ||
	    (h.opt == NBD_OPT_EXPORT_NAME && h.len > NBD_NAME_MAX))
		return oversized(st, &h) ? EXIT_PERM : NBD_STEP_MORE;
	if (buf_len(&s->in) - NBD_OPT_HDR_LEN < h.len)
		return NBD_STEP_WAIT_IN;
	st->neg.options++;
	r = handle_option(st, h.opt, buf_data(&s->in) + NBD_OPT_HDR_LEN, h.len);
	buf_consume(&s->in, NBD_OPT_HDR_LEN + (size_t)h.len);
	return r ? r : NBD_STEP_MORE;
}

int nbd_options(struct nbd_state *st)
{
	int r = NBD_STEP_MORE;

	if (st->phase == NBD_PH_FLAGS) {
		r = client_flags(st);
		if (r != NBD_STEP_MORE && r != NBD_STEP_WAIT_IN)
			return r;
	}
	while (r == NBD_STEP_MORE && st->phase == NBD_PH_OPTIONS &&
	       !st->neg.aborted)
		r = option_step(st);
	if (r == NBD_STEP_WAIT_IN)
		return st->s->in_eof ? input_ended(st) : 0;
	return r == NBD_STEP_MORE || r == NBD_STEP_WAIT_OUT ? 0 : r;
}

/*
 * The spec wants an ACK to ABORT, and wants a server to take it calmly
 * when the client hangs up without reading it, which libnbd and qemu do
 * at once. Writing to a client that has gone is an EPIPE and a failed
 * session, so the ACK waits a moment: a hang-up in that time ends the
 * session quietly, a client still there gets its ACK.
 */
int nbd_abort_wait(struct nbd_state *st, uint64_t now)
{
	if (st->s->in_eof)
		return SESSION_DONE;
	if (now < st->neg.abort_at)
		return 0;
	return ack(st, NBD_OPT_ABORT) ? EXIT_TEMP : SESSION_DONE;
}
