/*
 * The nbd protocol module (docs/nbd.md): an NBD server for one
 * connection, fixed newstyle negotiation only, serving an image file or a
 * block device. This file is the protocol table, the phases, the
 * negotiation deadline, and the session set-up and summary.
 *
 *   handler [-s -f CONF] nbd [-r] [FILE]
 *
 * serves FILE as the default export (the empty name) and under its base
 * name, then the configuration's nbd-export items (the first of them is
 * the default when there is no FILE); -r serves every export read-only. Over the secure layer a user needs nbd:rw
 * or nbd:ro (or nbd:rw:NAME, nbd:ro:NAME for one export).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bytes.h"
#include "clock.h"
#include "exitcode.h"
#include "log.h"
#include "nbd_priv.h"

const char *nbd_user(const struct nbd_state *st)
{
	return st->s->user ? st->s->user->name : "-";
}

static int usage(const char *why)
{
	log_error("nbd: %s; usage: nbd [-r] [FILE]", why);
	return EXIT_PERM;
}

/* The file on the command line must be a disk now, or nothing can work;
 * the configuration's exports are only opened when a client asks. */
static int check_file(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) < 0) {
		int err = errno;

		log_error("nbd: cannot use %s: %s", path, strerror(err));
		return err == ENOENT || err == ENOTDIR || err == EACCES ||
				       err == ELOOP
			       ? EXIT_PERM
			       : EXIT_TEMP;
	}
	if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode)) {
		log_error("nbd: %s is neither a regular file nor a block "
			  "device", path);
		return EXIT_PERM;
	}
	return 0;
}

/* The configuration's exports after the command line's, read-only
 * under -r; a name given twice is a mistake the admin must hear of. */
static int add_conf_exports(struct nbd_state *st)
{
	const struct nbd_conf *c = st->s->mconf;
	const char *why;

	for (size_t i = 0; c && i < c->exports.n; i++) {
		const struct nbd_export *e = &c->exports.e[i];

		if (nbd_exports_add(&st->exports, e->name, e->path,
				    e->rw && !st->force_ro, e->desc,
				    &why) < 0) {
			log_error("nbd: nbd-export \"%s\": %s%s", e->name, why,
				  strcmp(why, "duplicate export name") ? "" :
				  " (the base name of FILE)");
			return EXIT_PERM;
		}
	}
	return 0;
}

static int parse_args(struct nbd_state *st, int argc, char **argv)
{
	const char *why;
	int i = 1, r;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-r") != 0)
			return usage("unknown option");
		st->force_ro = 1;
	}
	if (argc - i > 1)
		return usage("one FILE only");
	if (argc - i == 1) {
		r = check_file(argv[i]);
		if (r)
			return r;
		if (nbd_exports_add(&st->exports, nbd_basename(argv[i]),
				    argv[i], !st->force_ro, NULL, &why) < 0)
			return usage(why);
	}
	r = add_conf_exports(st);
	if (!r && st->exports.n == 0)
		return usage("no FILE and no nbd-export in the configuration");
	return r;
}

/* A user of the secure layer needs some nbd permission to get anywhere. */
static int check_user(const struct nbd_state *st)
{
	const struct conf_user *u = st->s->user;

	if (!u || nbd_user_allowed(u))
		return 0;
	log_error("nbd: user=%s lacks permission nbd:ro or nbd:rw", u->name);
	return EXIT_PERM;
}

static int check_buffers(const struct nbd_state *st)
{
	const struct session *s = st->s;

	if (s->in.cap < NBD_OPT_HDR_LEN + NBD_OPT_DATA_MAX ||
	    s->out.cap < nbd_opt_reply_bound(st, NBD_OPT_LIST) ||
	    s->out.cap < NBD_REPLY_RESERVE + 64 * 1024) {
		log_error("nbd: session buffers too small");
		return EXIT_TEMP;
	}
	return 0;
}

static void greet(struct nbd_state *st)
{
	uint8_t g[NBD_GREETING_LEN];

	be64_put(g, NBD_MAGIC);
	be64_put(g + 8, NBD_IHAVEOPT);
	be16_put(g + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	buf_append(&st->s->out, g, sizeof g);
}

/* A client that never finishes the negotiation must not hold the
 * process (CVE-2024-7409): `limit nbd-negotiation`, 10 s by default. */
static uint64_t negotiation_ms(const struct session *s)
{
	const struct nbd_conf *c = s->mconf;

	return c ? c->negotiation_ms : NBD_DEFAULT_NEGOTIATION_S * 1000;
}

static void state_free(struct nbd_state *st)
{
	/* io_uring reads go to the disk's fd: they end first. */
	nbd_aio_stop(&st->aio);
	nbd_disk_close(&st->disk);
	nbd_exports_free(&st->exports);
	free(st);
}

static int nbd_start(struct session *s, int argc, char **argv, void **state)
{
	struct nbd_state *st;
	int r;

	*state = NULL;
	st = calloc(1, sizeof *st);
	if (!st) {
		log_error("nbd: out of memory");
		return EXIT_TEMP;
	}
	st->s = s;
	st->disk.fd = -1;
	st->export_ix = -1;
	st->neg.meta_export = -1;
	st->phase = NBD_PH_FLAGS;
	r = parse_args(st, argc, argv);
	if (!r)
		r = check_user(st);
	if (!r)
		r = check_buffers(st);
	if (r) {
		state_free(st);
		return r;
	}
	st->neg_deadline = clock_now() + negotiation_ms(s) * NS_PER_MS;
	greet(st);
	log_debug("nbd: user=%s serving %s%s", nbd_user(st),
		  st->exports.e[0].path, st->force_ro ? " read-only" : "");
	*state = st;
	return 0;
}

static int nbd_input(struct session *s, void *state)
{
	struct nbd_state *st = state;
	int r;

	(void)s;
	if (st->neg.aborted)
		return nbd_abort_wait(st, clock_now());
	if (st->phase != NBD_PH_TRANSMIT) {
		r = nbd_options(st);
		if (!r && st->neg.aborted)
			return nbd_abort_wait(st, clock_now());
		if (r || st->phase != NBD_PH_TRANSMIT)
			return r;
	}
	return nbd_transmit(st);
}

static uint64_t nbd_deadline(struct session *s, void *state)
{
	const struct nbd_state *st = state;

	(void)s;
	if (st->neg.aborted)
		return st->neg.abort_at;
	return st->phase == NBD_PH_TRANSMIT ? 0 : st->neg_deadline;
}

static int nbd_timeout(struct session *s, void *state, uint64_t now)
{
	struct nbd_state *st = state;

	if (st->neg.aborted)
		return nbd_abort_wait(st, now);
	if (st->phase == NBD_PH_TRANSMIT || now < st->neg_deadline)
		return 0;
	log_error("nbd: user=%s negotiation not finished in %llu s: closing",
		  nbd_user(st), (unsigned long long)(negotiation_ms(s) / 1000));
	return EXIT_TEMP;
}

/* Idle once no request is half served or parked and no complete message
 * waits: input() serves everything it can whenever s->out has room. */
static int nbd_idle(struct session *s, void *state)
{
	const struct nbd_state *st = state;
	size_t unit = st->phase == NBD_PH_FLAGS ? 4 :
		      st->phase == NBD_PH_OPTIONS ? NBD_OPT_HDR_LEN :
						    NBD_REQUEST_LEN;

	return !st->cur.active && buf_len(&s->in) < unit &&
	       st->aio.parked == 0;
}

/* The eventfd, while READs are parked: it wakes the loop to serve them. */
static size_t nbd_pollfds(struct session *s, void *state, struct pollfd *pfd,
			  size_t max)
{
	const struct nbd_state *st = state;

	(void)s;
	if (max == 0 || st->aio.parked == 0)
		return 0;
	pfd[0] = (struct pollfd){ st->aio.efd, POLLIN, 0 };
	return 1;
}

/* Only wakes the loop: input() then serves what is ready. */
static int nbd_events(struct session *s, void *state, struct pollfd *pfd,
		      size_t n, uint64_t now)
{
	struct nbd_state *st = state;

	(void)s;
	(void)now;
	if (n > 0 && pfd[0].revents)
		nbd_aio_drain(&st->aio);
	return 0;
}

static const char *phase_name(const struct nbd_state *st)
{
	if (st->disc)
		return "disconnected";
	if (st->neg.aborted)
		return "aborted";
	return st->phase == NBD_PH_TRANSMIT ? "transmission" : "negotiation";
}

static void nbd_finish(struct session *s, void *state)
{
	struct nbd_state *st = state;

	(void)s;
	if (!st)
		return;
	log_info("nbd: user=%s export=%s end=%s options=%u requests=%llu "
		 "errors=%llu read=%llu written=%llu zeroed=%llu trimmed=%llu "
		 "flushes=%llu parked=%llu", nbd_user(st),
		 st->export_ix >= 0 ? st->exports.e[st->export_ix].name : "-",
		 phase_name(st), st->neg.options,
		 (unsigned long long)st->stats.requests,
		 (unsigned long long)st->stats.errors,
		 (unsigned long long)st->stats.read,
		 (unsigned long long)st->stats.written,
		 (unsigned long long)st->stats.zeroed,
		 (unsigned long long)st->stats.trimmed,
		 (unsigned long long)st->stats.flushes,
		 (unsigned long long)st->parks);
	state_free(st);
}

const struct protocol proto_nbd = {
	.name = "nbd",
	.conf = &nbd_conf_module,
	.summary = "NBD server (fixed newstyle, structured replies, "
		   "base:allocation) for an image or block device: "
		   "nbd [-r] [FILE]",
	.start = nbd_start,
	.input = nbd_input,
	.pollfds = nbd_pollfds,
	.events = nbd_events,
	.deadline = nbd_deadline,
	.timeout = nbd_timeout,
	.idle = nbd_idle,
	.finish = nbd_finish,
};
