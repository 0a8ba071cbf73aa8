/*
 * Privilege separation for a handler started as root (docs/secure.md,
 * "Privilege separation"), after OpenSSH's monitor. Three processes:
 *
 *   monitor    root. Has read the conf and the server key. Never reads
 *              fd 0: its only input is the handshake child's socket, a few
 *              fixed-size requests it bounds before reading.
 *   handshake  the run-as account. Runs the secure handshake on fds 0/1
 *              without the private key: it forwards the client hello, and
 *              the monitor makes and signs the server hello itself. Once
 *              the client is authenticated it hands the stream (keys,
 *              buffered bytes) to the monitor and exits without touching
 *              the fds again. The monitor believes none of it: it checks
 *              the state against the hellos it made and the user's
 *              signature against the conf before any session starts.
 *   session    the user's account (account=, else run-as), forked by the
 *              monitor after the key was wiped: the module runs here.
 *
 * A plain session has no handshake: it drops to run-as before the module
 * starts (privsep_drop()).
 */
#include "core.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "bytes.h"
#include "exitcode.h"
#include "fdutil.h"
#include "keys.h"
#include "log.h"
#include "secure_handoff.h"

/* Requests from the handshake child, each a type byte then its fields. */
#define PS_HELLO 'C'    /* the client hello; answer: SECURE_HANDOFF_REPLY */
#define PS_HANDOFF 'H'  /* be32 x4 lengths, be64 x2 counters, the parts */
#define PS_HANDOFF_HDR (4 * 4 + 8 * 2)
/* transport.c's raw buffers hold no more than this. */
#define PS_RAW_MAX (TRANSPORT_RAW_FRAMES * (SECURE_FRAME_MAX + 1024u))

int privsep_wanted(const struct conf *c)
{
	return geteuid() == 0 && c->run_as && strcmp(c->run_as, "root") != 0;
}

static int account_known(const char *what, const char *name)
{
	errno = 0;
	if (getpwnam(name))
		return 0;
	if (errno && errno != ENOENT && errno != ESRCH) {
		log_error("%s \"%s\": cannot look it up: %s", what, name,
			  strerror(errno));
		return EXIT_TEMP;
	}
	log_error("%s \"%s\": no such account", what, name);
	return EXIT_PERM;
}

int privsep_check(const struct conf *c, int check_only)
{
	int code = c->run_as ? account_known("run-as", c->run_as) : 0;
	int accounts = 0;

	for (size_t i = 0; i < c->nusers && code == 0; i++) {
		if (!c->users[i].account[0])
			continue;
		accounts = 1;
		code = account_known("account", c->users[i].account);
	}
	if (code || geteuid() != 0 || c->run_as)
		return code;
	/* As root, an account= without run-as would leave the handshake,
	 * network bytes and all, to root. */
	if (accounts) {
		log_error("%s: account= needs run-as (the account the "
			  "handshake runs as)", c->path);
		return EXIT_PERM;
	}
	/* Today's deployments run as root this way: keep them working, but
	 * say so where an admin looks (-n), not on every connection. */
	if (check_only)
		log_warn("%s: running as root without run-as: every session "
			 "runs as root (add run-as ACCOUNT)", c->path);
	else
		log_debug("running as root without run-as");
	return 0;
}

int privsep_drop(const char *account)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	pw = getpwnam(account);
	if (!pw) {
		log_error("cannot become \"%s\": no such account", account);
		return EXIT_PERM;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (initgroups(account, gid) < 0 || setgid(gid) < 0 ||
	    setuid(uid) < 0) {
		log_error("cannot become \"%s\": %s", account, strerror(errno));
		return EXIT_TEMP;
	}
	/* setuid() as root sets all three ids; prove no way back is left. */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0 ||
			 getuid() != uid || geteuid() != uid ||
			 getgid() != gid || getegid() != gid)) {
		log_error("as \"%s\" root could be regained: giving up",
			  account);
		return EXIT_TEMP;
	}
	return 0;
}

/* A child dies with its monitor (the flag is cleared by setuid, so it is
 * set after), and must not outlive it unnoticed in between. */
static int child_tied(pid_t monitor)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != monitor) {
		log_error("privsep: monitor gone");
		return EXIT_TEMP;
	}
	return 0;
}

/* The handshake child's identity: the server's public key; the server
 * hello, signature and stream keys from the monitor. */
static int proxy_hello(void *ctx, const uint8_t *ch, size_t n,
		       uint8_t *reply, size_t nreply)
{
	const struct privsep *ps = ctx;
	uint8_t type = PS_HELLO;

	if (n != SECURE_HANDOFF_HELLO_LEN ||
	    nreply != SECURE_HANDOFF_REPLY_LEN)
		return -1;
	if (fd_write_all(ps->fd, &type, 1) < 0 ||
	    fd_write_all(ps->fd, ch, n) < 0)
		return -1;
	return fd_read_full(ps->fd, reply, nreply) == (ssize_t)nreply ? 0
								     : -1;
}

/* Exit code of a child: its own, or 111 when a signal ended it. */
static int wait_code(pid_t pid, const char *what)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return EXIT_TEMP;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	log_error("privsep: %s process killed by signal %d", what,
		  WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return EXIT_TEMP;
}

static int handshake_child(struct privsep *ps, const struct conf *c,
			   struct secure_identity *id, pid_t monitor)
{
	memcpy(ps->proxy.pk, id->pk, sizeof ps->proxy.pk);
	keys_identity_free(id);
	ps->code = privsep_drop(c->run_as);
	if (!ps->code)
		ps->code = child_tied(monitor);
	if (ps->code)
		return PRIVSEP_DONE;
	ps->proxy.server_hello = proxy_hello;
	ps->proxy.ctx = ps;
	log_debug("privsep: handshake as %s (uid %u)", c->run_as,
		  (unsigned)getuid());
	return PRIVSEP_HANDSHAKE;
}

/*
 * One PS_HELLO request, once per connection: the monitor makes the server
 * hello itself (its own ephemeral key and random, the digest it signs
 * computed here over a client hello it checked) and keeps the record
 * that the handoff is verified against.
 */
static int monitor_hello(int fd, const struct conf *c,
			 const struct secure_identity *id,
			 struct secure **rec)
{
	uint8_t ch[SECURE_HANDOFF_HELLO_LEN], reply[SECURE_HANDOFF_REPLY_LEN];
	char err[256];
	int rc;

	if (*rec) {
		log_error("privsep: a second server hello was asked for");
		return -1;
	}
	if (fd_read_full(fd, ch, sizeof ch) != sizeof ch)
		return -1;
	*rec = secure_handoff_hello(id, c->limits.max_frame, ch, sizeof ch,
				    reply, sizeof reply, err, sizeof err);
	if (!*rec) {
		log_error("privsep: %s", err);
		return -1;
	}
	rc = fd_write_all(fd, reply, sizeof reply);
	sodium_memzero(reply, sizeof reply);
	return rc;
}

static uint8_t *read_part(int fd, size_t n)
{
	uint8_t *p = malloc(n + 1);

	if (p && fd_read_full(fd, p, n) != (ssize_t)n) {
		free(p);
		return NULL;
	}
	return p;
}

/* One PS_HANDOFF request, every length bounded before anything is read. */
static int monitor_handoff(int fd, struct privsep *ps)
{
	uint8_t h[PS_HANDOFF_HDR];
	uint32_t nuser;
	uint8_t *user;

	if (fd_read_full(fd, h, sizeof h) != sizeof h)
		return -1;
	nuser = be32_get(h);
	ps->nstate = be32_get(h + 4);
	ps->nraw_in = be32_get(h + 8);
	ps->nraw_out = be32_get(h + 12);
	ps->raw_bytes_in = be64_get(h + 16);
	ps->raw_bytes_out = be64_get(h + 24);
	if (nuser < 1 || nuser >= sizeof ps->user ||
	    ps->nstate != secure_handoff_size() ||
	    ps->nraw_in > PS_RAW_MAX || ps->nraw_out > PS_RAW_MAX)
		return -1;
	user = read_part(fd, nuser);
	if (!user)
		return -1;
	memcpy(ps->user, user, nuser);
	free(user);
	ps->user[nuser] = 0;
	ps->state = read_part(fd, ps->nstate);
	ps->raw_in = read_part(fd, ps->nraw_in);
	ps->raw_out = read_part(fd, ps->nraw_out);
	if (!ps->state || !ps->raw_in || !ps->raw_out ||
	    strlen(ps->user) != nuser)
		return -1;
	return 0;
}

/* The monitor's own view of the conf's users, for the verification. */
static int monitor_lookup(void *ctx, const char *name, uint8_t pk[32])
{
	const struct conf_user *u = conf_user_find(ctx, name);

	if (!u)
		return -1;
	memcpy(pk, u->pk, 32);
	return 0;
}

/* The account user's session runs as, or NULL when no such user. */
static const char *session_account(const struct conf *c, const char *user)
{
	const struct conf_user *u = conf_user_find(c, user);

	if (!u)
		return NULL;
	return u->account[0] ? u->account : c->run_as;
}

/* After the handoff: the handshake child is gone, fork the session. */
static int monitor_session(struct privsep *ps, const struct conf *c,
			   pid_t hs)
{
	const char *account = session_account(c, ps->user);
	pid_t monitor = getpid(), pid;

	/* The handshake child exits right after the handoff: wait, so two
	 * processes never read the client at once. */
	(void)wait_code(hs, "handshake");
	if (!account) {
		log_error("privsep: handoff for unknown user \"%s\"", ps->user);
		ps->code = EXIT_PERM;
		return PRIVSEP_DONE;
	}
	pid = fork();
	if (pid < 0) {
		log_error("privsep: fork: %s", strerror(errno));
		ps->code = EXIT_TEMP;
		return PRIVSEP_DONE;
	}
	if (pid == 0) {
		ps->code = privsep_drop(account);
		if (!ps->code)
			ps->code = child_tied(monitor);
		if (!ps->code)
			log_info("privsep: user %s runs as %s (uid %u)",
				 ps->user, account, (unsigned)getuid());
		return ps->code ? PRIVSEP_DONE : PRIVSEP_SESSION;
	}
	privsep_free(ps);
	ps->code = wait_code(pid, "session");
	return PRIVSEP_DONE;
}

/*
 * The handed-over state must be the handshake the monitor made, and the
 * user's proof must hold against the monitor's own transcript and conf:
 * a compromised handshake process can claim nothing it cannot prove.
 */
static int monitor_verify(struct privsep *ps, const struct conf *c,
			  const struct secure *rec, pid_t hs)
{
	char err[256];

	if (secure_handoff_verify(rec, ps->state, ps->nstate, ps->user,
				  monitor_lookup, (void *)c, err,
				  sizeof err) == 0) {
		log_debug("privsep: monitor verified user %s", ps->user);
		return 0;
	}
	log_error("privsep: %s", err);
	kill(hs, SIGKILL);
	(void)wait_code(hs, "handshake");
	privsep_free(ps);
	ps->code = EXIT_PERM;
	return -1;
}

static int monitor_run(struct privsep *ps, const struct conf *c,
		       struct secure_identity *id, int fd, pid_t hs)
{
	struct secure *rec = NULL;
	uint8_t type;
	int ok;

	while (fd_read_full(fd, &type, 1) == 1) {
		if (type == PS_HELLO && monitor_hello(fd, c, id, &rec) == 0)
			continue;
		if (type == PS_HANDOFF && monitor_handoff(fd, ps) == 0) {
			close(fd);
			/* Nothing signs for this connection any more. */
			keys_identity_free(id);
			ok = monitor_verify(ps, c, rec, hs) == 0;
			secure_free(rec);
			return ok ? monitor_session(ps, c, hs) : PRIVSEP_DONE;
		}
		log_error("privsep: bad request from the handshake process");
		kill(hs, SIGKILL);
		break;
	}
	close(fd);
	keys_identity_free(id);
	secure_free(rec);
	/* Refused, timed out, or killed: the child logged its done line. */
	ps->code = wait_code(hs, "handshake");
	return PRIVSEP_DONE;
}

int privsep_start(struct privsep *ps, const struct conf *c,
		  struct secure_identity *id)
{
	pid_t monitor = getpid(), pid;
	int sv[2];

	memset(ps, 0, sizeof *ps);
	ps->fd = -1;
	ps->code = EXIT_TEMP;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("privsep: socketpair: %s", strerror(errno));
		keys_identity_free(id);
		return PRIVSEP_DONE;
	}
	pid = fork();
	if (pid < 0) {
		log_error("privsep: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		keys_identity_free(id);
		return PRIVSEP_DONE;
	}
	if (pid == 0) {
		close(sv[0]);
		ps->fd = sv[1];
		return handshake_child(ps, c, id, monitor);
	}
	close(sv[1]);
	return monitor_run(ps, c, id, sv[0], pid);
}

int privsep_handoff(struct privsep *ps, const struct transport *t)
{
	const char *user = secure_peer_user(t->sec);
	size_t nuser = strlen(user), nstate = secure_handoff_size();
	uint8_t h[1 + PS_HANDOFF_HDR];
	uint8_t *state = malloc(nstate);
	int r = -1;

	h[0] = PS_HANDOFF;
	be32_put(h + 1, (uint32_t)nuser);
	be32_put(h + 5, (uint32_t)nstate);
	be32_put(h + 9, (uint32_t)buf_len(&t->raw_in));
	be32_put(h + 13, (uint32_t)buf_len(&t->raw_out));
	be64_put(h + 17, t->raw_bytes_in);
	be64_put(h + 25, t->raw_bytes_out);
	if (state && secure_handoff_export(t->sec, state, nstate) == 0 &&
	    fd_write_all(ps->fd, h, sizeof h) == 0 &&
	    fd_write_all(ps->fd, user, nuser) == 0 &&
	    fd_write_all(ps->fd, state, nstate) == 0 &&
	    fd_write_all(ps->fd, buf_data(&t->raw_in),
			 buf_len(&t->raw_in)) == 0 &&
	    fd_write_all(ps->fd, buf_data(&t->raw_out),
			 buf_len(&t->raw_out)) == 0)
		r = 0;
	if (state)
		sodium_memzero(state, nstate);
	free(state);
	fd_close(&ps->fd);
	return r;
}

int privsep_resume(struct privsep *ps, struct transport *t)
{
	if (buf_append(&t->raw_in, ps->raw_in, ps->nraw_in) < 0 ||
	    buf_append(&t->raw_out, ps->raw_out, ps->nraw_out) < 0)
		return -1;
	t->handshaken = 1;
	t->raw_bytes_in = ps->raw_bytes_in;
	t->raw_bytes_out = ps->raw_bytes_out;
	return 0;
}

void privsep_free(struct privsep *ps)
{
	if (ps->state)
		sodium_memzero(ps->state, ps->nstate);
	free(ps->state);
	free(ps->raw_in);
	free(ps->raw_out);
	ps->state = ps->raw_in = ps->raw_out = NULL;
	fd_close(&ps->fd);
}
