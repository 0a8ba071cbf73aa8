/*
 * One connection from start to end: configuration, the peer's description,
 * the secure layer's set-up (server key, user lookup over the conf), the
 * loop, and the one log line that sums the connection up.
 */
#include "core.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "exitcode.h"
#include "fdutil.h"
#include "keys.h"
#include "log.h"
#include "reap.h"
#include "secure.h"
#include "secure_handoff.h"

struct session_ctx {
	struct conf conf;
	struct session s;
	struct loop l;
	struct peer_store peer;
	struct secure_identity id;
	int have_id;
	struct secure *sec;
	struct privsep ps;         /* as root with run-as (privsep.c) */
	int role;                  /* privsep_start()'s answer, or -1 */
};

/* The secure layer asks for a user's key by the name the client sent. */
static int session_lookup(void *ctx, const char *name, uint8_t pk[32])
{
	const struct conf *c = ctx;
	const struct conf_user *u = conf_user_find(c, name);

	if (!u)
		return -1;
	memcpy(pk, u->pk, 32);
	return 0;
}

/* s->user from the secure layer's peer, checked against the conf. */
static int session_user(struct loop *l)
{
	struct session *s = l->s;
	const char *name = secure_peer_user(l->t.sec);
	const struct conf_user *u;
	uint8_t pk[32];
	char fp[64];

	secure_peer_pk(l->t.sec, pk);
	conf_key_fingerprint(pk, fp, sizeof fp);
	u = name ? conf_user_find(s->conf, name) : NULL;
	if (!u || sodium_memcmp(u->pk, pk, 32) != 0) {
		/* The secure layer checked this already; refuse if not. */
		log_error("auth: user \"%s\" key %s not configured",
			  name ? name : "", fp);
		return EXIT_PERM;
	}
	s->user = u;
	snprintf(s->user_fp, sizeof s->user_fp, "%s", fp);
	return 0;
}

static int session_auth(struct loop *l)
{
	struct session *s = l->s;
	char peer[128];
	int code = session_user(l);

	if (code)
		return code;
	peer_format(&s->peer, peer, sizeof peer);
	log_info("auth: ok peer=%s user=%s key=%s", peer, s->user->name,
		 s->user_fp);
	return 0;
}

/* The unprivileged handshake process: authenticated, hand off. */
static int session_auth_handoff(struct loop *l)
{
	struct session_ctx *x = l->auth_ctx;
	int code = session_auth(l);

	if (code)
		return code;
	if (privsep_handoff(&x->ps, &l->t) < 0) {
		log_error("privsep: handing the session over failed");
		return EXIT_TEMP;
	}
	l->handed_off = 1;
	return 0;
}

/* The user's process: the stream as the handshake left it. */
static int session_resume(struct session_ctx *x)
{
	const char *name;

	if (privsep_resume(&x->ps, &x->l.t) < 0) {
		log_error("privsep: resuming the session failed");
		return EXIT_TEMP;
	}
	name = secure_peer_user(x->sec);
	if (strcmp(name, x->ps.user) != 0) {
		log_error("privsep: handed-over user does not match");
		return EXIT_PERM;
	}
	privsep_free(&x->ps);
	return session_user(&x->l);
}

/* As root with run-as: from here each process has its role. */
static int session_privsep(struct session_ctx *x)
{
	const struct conf *c = &x->conf;

	x->role = privsep_start(&x->ps, c, &x->id);
	x->have_id = 0;
	if (x->role == PRIVSEP_HANDSHAKE)
		x->sec = secure_server_new(&x->ps.proxy, session_lookup,
					   &x->conf, c->limits.max_frame);
	else if (x->role == PRIVSEP_SESSION)
		x->sec = secure_handoff_import(x->ps.state, x->ps.nstate);
	else
		return x->ps.code;
	if (!x->sec) {
		log_error("secure layer: out of memory or bad handoff");
		return EXIT_TEMP;
	}
	return 0;
}

/*
 * A server whose key does not load cannot take part in the handshake; it
 * tells the client so in plaintext (secure_refusal()) rather than leaving
 * it to guess from a closed connection, then reads what the client sent
 * (its hello) for a moment, so that closing does not reset the connection
 * before the refusal is read.
 */
static void session_refuse_plain(int fd_in, int fd_out, const char *why)
{
	uint8_t msg[16 + SECURE_REASON_MAX], sink[256];
	size_t n = secure_refusal(msg, sizeof msg, why);
	struct pollfd p = { .fd = fd_in, .events = POLLIN };

	if (n == 0 || fd_write_all(fd_out, msg, n) < 0)
		return;
	shutdown(fd_out, SHUT_WR);
	while (poll(&p, 1, 2000) == 1 && read(fd_in, sink, sizeof sink) > 0)
		;
}

/* The server key, named by its conf item's file:line when it fails. */
static int session_load_key(struct session_ctx *x)
{
	const struct conf *c = &x->conf;
	char err[KEYS_ERR_MAX];

	if (!c->server_key) {
		log_error("%s: the secure layer (-s) needs a server-key",
			  c->path);
		return EXIT_PERM;
	}
	if (keys_identity_load(&x->id, c->server_key, err) < 0) {
		log_error("%s:%u: server-key: %s", c->path,
			  c->server_key_line, err);
		return EXIT_PERM;
	}
	x->have_id = 1;
	return 0;
}

static int session_secure_setup(struct session_ctx *x,
				const struct session_opts *o)
{
	const struct conf *c = &x->conf;
	int code;

	/* Only here: a plain session never touches libsodium's pages. */
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return EXIT_TEMP;
	}
	if ((code = session_load_key(x)) != 0) {
		if (!o->check_only)
			session_refuse_plain(o->fd_in, o->fd_out,
					     "the server is misconfigured: "
					     "its key does not load (its log "
					     "says why)");
		return code;
	}
	/* -n only loads the key: no monitor, no children. */
	if (privsep_wanted(c) && !o->check_only)
		return session_privsep(x);
	x->sec = secure_server_new(&x->id, session_lookup, &x->conf,
				   c->limits.max_frame);
	if (!x->sec) {
		log_error("secure layer: out of memory");
		return EXIT_TEMP;
	}
	return 0;
}

static void session_log(struct session_ctx *x, const char *proto, int code,
			uint64_t now)
{
	const struct session *s = &x->s;
	uint64_t ms = (now - s->started) / NS_PER_MS;
	char peer[128], raw[80] = "";

	peer_format(&s->peer, peer, sizeof peer);
	if (x->sec)
		snprintf(raw, sizeof raw, " raw_in=%llu raw_out=%llu",
			 (unsigned long long)x->l.t.raw_bytes_in,
			 (unsigned long long)x->l.t.raw_bytes_out);
	log_info("done peer=%s via=%s protocol=%s%s user=%s key=%s in=%llu "
		 "out=%llu%s time=%llu.%03llus%s%s exit=%d",
		 peer, s->peer.proto, proto, x->sec ? "+secure" : "",
		 s->user ? s->user->name : "-",
		 s->user_fp[0] ? s->user_fp : "-",
		 (unsigned long long)s->bytes_in,
		 (unsigned long long)s->bytes_out, raw,
		 (unsigned long long)(ms / 1000),
		 (unsigned long long)(ms % 1000),
		 x->l.why ? " " : "", x->l.why ? x->l.why : "", code);
}

/* Nothing a command started outlives the session, whatever group or
 * session it moved to (a module kills its own before: these escaped). */
static void session_strays(void)
{
	size_t n = reap_strays(NULL, 0);

	if (n)
		log_warn("killed %zu stray processes at the session's end", n);
}

/* ", WHAT" from each module that sums its conf up, for -n. */
static void modules_summary(const struct conf *c, char *dst, size_t size)
{
	size_t n = 0;

	dst[0] = 0;
	for (size_t i = 0; protocols[i] && n < size; i++) {
		const struct conf_module *m = protocols[i]->conf;
		char one[96];

		if (!m || !m->summary)
			continue;
		m->summary(conf_module_conf(c, protocols[i]), one, sizeof one);
		n += (size_t)snprintf(dst + n, size - n, ", %s", one);
	}
}

/* -n: the configuration (and with -s the server key) load, or not. */
static int session_check(struct session_ctx *x, const struct session_opts *o)
{
	int code = privsep_check(&x->conf, 1);
	char mods[256];

	/* A server-key item is checked even without -s: a typo there
	 * would otherwise wait for the first secure connection. */
	if (code == 0 && (o->secure || x->conf.server_key))
		code = session_secure_setup(x, o);

	if (code == 0) {
		modules_summary(&x->conf, mods, sizeof mods);
		log_info("%s: configuration ok (%zu users%s)", x->conf.path,
			 x->conf.nusers, mods);
	}
	return code;
}

/*
 * An sshd forced command (docs/cmd.md, "cmd under sshd"): sshd has
 * authenticated the key and runs us with the user named in the command.
 * Only when sshd started us (SSH_CONNECTION) and the conf does not insist
 * on the secure layer for this protocol (require-secure). 0, or an exit
 * code after a message.
 */
static int session_ssh_user(struct session_ctx *x, const struct protocol *p,
			    const char *name)
{
	const char *conn = getenv("SSH_CONNECTION");
	const struct conf_user *u;

	if (!conn || !*conn) {
		log_error("%s --ssh-user: not started by sshd (SSH_CONNECTION "
			  "unset); without sshd use -s", p->name);
		return EXIT_PERM;
	}
	if (conf_requires_secure(&x->conf, p->name)) {
		log_error("%s --ssh-user: the conf requires the secure layer "
			  "for %s", p->name, p->name);
		return EXIT_PERM;
	}
	u = conf_user_find(&x->conf, name);
	if (!u) {
		log_error("auth: ssh user \"%s\" not configured", name);
		return EXIT_PERM;
	}
	x->s.user = u;
	snprintf(x->s.user_fp, sizeof x->s.user_fp, "sshd");
	log_info("auth: ok via sshd connection=\"%s\" user=%s", conn,
		 u->name);
	return 0;
}

static int session_run(struct session_ctx *x, const struct session_opts *o)
{
	const struct protocol *p = o->argc ? protocol_find(o->argv[0]) : NULL;
	int code;

	if (!p && !o->check_only) {
		log_error("unknown protocol \"%s\"",
			  o->argc ? o->argv[0] : "");
		return EXIT_PERM;
	}
	code = conf_load(&x->conf, o->conf_path);
	if (code < 0) {
		/* Under -q the refusal to start must still say why. */
		if (log_get_level() < LOG_ERROR)
			log_msg(LOG_FATAL, "%s", x->conf.error);
		if (o->secure && !o->check_only)
			session_refuse_plain(o->fd_in, o->fd_out,
					     "the server is misconfigured: its "
					     "conf does not load (its log says "
					     "where)");
		/* Out of memory or descriptors is temporary, a bad file not. */
		return code == -2 ? EXIT_TEMP : EXIT_PERM;
	}
	if (o->check_only)
		return session_check(x, o);
	if (p->requires_secure && !o->secure && p->ssh_user &&
	    p->ssh_user(o->argc, o->argv))
		code = session_ssh_user(x, p, p->ssh_user(o->argc, o->argv));
	else
		code = -1;
	if (code > 0)
		return code;
	if ((p->requires_secure || conf_requires_secure(&x->conf, p->name)) &&
	    !o->secure && code < 0) {
		log_error("protocol %s requires the secure layer (-s)",
			  p->name);
		return EXIT_PERM;
	}
	x->s.conf = &x->conf;
	x->s.mconf = conf_module_conf(&x->conf, p);
	x->s.max_frame = x->conf.limits.max_frame;
	x->s.started = clock_now();
	peer_init(&x->s.peer, &x->peer, o->fd_in);
	if (log_get_level() >= LOG_DEBUG) {
		char peer[128];

		peer_format(&x->s.peer, peer, sizeof peer);
		log_debug("start peer=%s via=%s protocol=%s%s conf=%s", peer,
			  x->s.peer.proto, p->name, o->secure ? "+secure" : "",
			  x->conf.path);
	}
	if ((code = privsep_check(&x->conf, 0)) != 0)
		return code;
	if (o->secure && (code = session_secure_setup(x, o)) != 0)
		return code;
	if (x->role == PRIVSEP_DONE)
		return x->ps.code;
	/* A plain session has no handshake to separate: drop at once. */
	if (!o->secure && privsep_wanted(&x->conf) &&
	    (code = privsep_drop(x->conf.run_as)) != 0)
		return code;
	/* What a command leaves behind comes to us, not to init. */
	if (reap_subreaper() < 0)
		log_warn("cannot become a child subreaper: %s",
			 strerror(errno));
	if (loop_init(&x->l, &x->s, p, o->argc, o->argv, o->fd_in, o->fd_out,
		      x->sec) < 0)
		return EXIT_TEMP;
	x->l.on_auth = session_auth;
	x->l.auth_ctx = x;
	if (x->role == PRIVSEP_HANDSHAKE)
		x->l.on_auth = session_auth_handoff;
	if (x->role == PRIVSEP_SESSION && (code = session_resume(x)) != 0)
		return code;
	code = loop_run(&x->l);
	/* The session process writes the done line, not this one. */
	if (x->l.handed_off)
		return code;
	session_strays();
	session_log(x, p->name, code, clock_now());
	return code;
}

int session_main(const struct session_opts *o)
{
	struct session_ctx *x;
	int code;

	/* A vanished client must be an EPIPE we log, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	x = calloc(1, sizeof *x);
	if (!x) {
		log_error("out of memory");
		return EXIT_TEMP;
	}
	x->role = -1;
	x->ps.fd = -1;
	code = session_run(x, o);
	loop_free(&x->l);
	secure_free(x->sec);
	if (x->have_id)
		keys_identity_free(&x->id);
	privsep_free(&x->ps);
	conf_free(&x->conf);
	free(x);
	return code;
}
