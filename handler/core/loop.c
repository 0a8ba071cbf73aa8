/*
 * The one poll loop of a connection. Each pass rebuilds the poll set from
 * what the buffers allow (read fd 0 only while there is room, write fd 1
 * only while there is something queued), then moves bytes, runs the
 * transport (transport.h: plain, or the secure layer between raw and
 * plaintext buffers) and calls the module. Timers (idle, handshake, the module's deadline)
 * become the poll timeout. No threads, no signal handlers: children are
 * the module's pidfds, and SIGTERM/SIGHUP/SIGINT a signalfd (stop.c), in
 * the same poll set.
 */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "exitcode.h"
#include "fdutil.h"
#include "log.h"
#include "secure.h"

static int same_socket(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return 0;
	return S_ISSOCK(sa.st_mode) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int loop_init(struct loop *l, struct session *s, const struct protocol *p,
	      int argc, char **argv, int fd_in, int fd_out,
	      struct secure *sec)
{
	size_t cap = (p->buffer_size ? p->buffer_size : SESSION_BUF_BASE) +
		     s->conf->limits.max_frame;

	memset(l, 0, sizeof *l);
	l->s = s;
	l->proto = p;
	l->argc = argc;
	l->argv = argv;
	l->ending = -1;
	stop_open(&l->stop);
	l->fl_in = fcntl(fd_in, F_GETFL);
	l->fl_out = fcntl(fd_out, F_GETFL);
	l->same_socket = same_socket(fd_in, fd_out);
	s->secure = sec != NULL;
	/* Truncation is judged by the frame limit the secure layer was
	 * given (session.c): the largest frame the client may send. */
	if (transport_init(&l->t, fd_in, fd_out, sec, &s->in, &s->out,
			   s->conf->limits.max_frame) < 0 ||
	    buf_init(&s->in, cap) < 0 || buf_init(&s->out, cap) < 0) {
		log_error("out of memory for buffers");
		return -1;
	}
	if (fd_nonblock(fd_in) < 0 || fd_nonblock(fd_out) < 0) {
		log_error("cannot make fds non-blocking: %s", strerror(errno));
		return -1;
	}
	log_debug("fds %d/%d: %s", fd_in, fd_out, l->same_socket ?
		  "one socket (shut down for writing at the end)" :
		  "separate");
	l->last_io = clock_now();
	if (!l->t.handshaken)
		l->handshake_deadline = l->last_io +
					s->conf->limits.handshake_ms * NS_PER_MS;
	return 0;
}

void loop_free(struct loop *l)
{
	struct session *s = l->s;

	if (!s)
		return;
	/* Give the fds back as we found them (they may be shared). */
	if (l->fl_in >= 0 && !(l->fl_in & O_NONBLOCK))
		fd_block(l->t.fd_in);
	if (l->fl_out >= 0 && !(l->fl_out & O_NONBLOCK))
		fd_block(l->t.fd_out);
	buf_free_secret(&s->in);
	buf_free_secret(&s->out);
	transport_free(&l->t);
	stop_close(&l->stop);
}

/* The exit code a module's return value asks for, or -1 to go on. */
static int module_code(int r)
{
	if (r == 0)
		return -1;
	if (r == SESSION_DONE)
		return EXIT_OK;
	if (r < 0 || r > 255) {
		log_error("module returned %d, not an exit code", r);
		return EXIT_TEMP;
	}
	return r;
}

static void loop_why(struct loop *l, const char *why)
{
	if (!l->why)
		l->why = why;
}

static void loop_end(struct loop *l, int code)
{
	if (l->ending < 0 || (l->ending == EXIT_OK && code != EXIT_OK))
		l->ending = code;
}

/* The session's plaintext counters follow the transport's. */
static void loop_count(struct loop *l)
{
	l->s->bytes_in = l->t.bytes_in;
	l->s->bytes_out = l->t.bytes_out;
}

/* An auth refusal names the peer and the user it claimed, if any. */
static void loop_refused(struct loop *l, const char *why)
{
	const char *user = l->t.handshaken ? NULL :
			   secure_peer_user(l->t.sec);
	char peer[128];

	peer_format(&l->s->peer, peer, sizeof peer);
	log_error("auth: refused peer=%s user=%s: %s", peer,
		  user && *user ? user : "-", why);
	l->auth_failed = 1;
	loop_why(l, "refused");
}

/*
 * The session ends before it began: our FINAL frame says why, so the
 * client can show it (a refusal is the server's word, never a secret).
 */
static void loop_close_reason(struct loop *l, const char *why)
{
	if (l->s->refusal != why)
		snprintf(l->s->refusal, sizeof l->s->refusal, "%s", why);
	l->t.close_reason = l->s->refusal;
}

static void loop_handshake(struct loop *l)
{
	int r = transport_handshake(&l->t);

	if (r == TRANSPORT_ERROR) {
		loop_refused(l, transport_error(&l->t));
		loop_end(l, EXIT_PERM);
		return;
	}
	if (r == TRANSPORT_READY) {
		r = l->on_auth ? l->on_auth(l) : 0;
		if (!r && l->handed_off) {
			loop_end(l, EXIT_OK);
			return;
		}
		if (r) {
			loop_refused(l, "user not allowed");
			loop_close_reason(l, "user not allowed");
			loop_end(l, r);
		}
		return;
	}
	if (l->t.raw_eof) {
		loop_refused(l, "connection closed during the handshake");
		loop_end(l, EXIT_TEMP);
	}
}

/* Frames -> s->in; the peer's end, clean or cut, is s->in_eof. */
static void loop_open(struct loop *l)
{
	struct session *s = l->s;
	int r;

	if (s->in_eof)
		return;
	r = transport_open(&l->t);
	if (r == TRANSPORT_ERROR) {
		log_error("secure: %s", transport_error(&l->t));
		loop_why(l, "secure-error");
		loop_end(l, EXIT_PERM);
	} else if (r == TRANSPORT_CUT) {
		log_error("secure: truncated: connection closed without the "
			  "peer's final frame");
		loop_why(l, "truncated");
		s->in_truncated = 1;
	}
	s->in_eof = r != TRANSPORT_AGAIN;
}

static void loop_seal(struct loop *l)
{
	if (transport_seal(&l->t) == TRANSPORT_ERROR) {
		log_error("secure: %s", transport_error(&l->t));
		loop_why(l, "secure-error");
		loop_end(l, EXIT_TEMP);
	}
}

static void loop_start(struct loop *l)
{
	void *state = NULL;
	int r = l->proto->start(l->s, l->argc, l->argv, &state);

	l->state = state;
	if (r == 0) {
		l->started = 1;
		return;
	}
	/* A failed start() has cleaned up after itself. */
	loop_end(l, module_code(r));
	if (!l->s->refusal[0])
		snprintf(l->s->refusal, sizeof l->s->refusal,
			 "the %s module refused to start (exit %d; the "
			 "server's log says why)", l->proto->name,
			 module_code(r));
	loop_close_reason(l, l->s->refusal);
}

/* Transport and module work for one pass, after the I/O. */
static void loop_process(struct loop *l, uint64_t now)
{
	const struct protocol *p = l->proto;
	struct session *s = l->s;
	int r;

	if (!l->t.handshaken && l->ending < 0)
		loop_handshake(l);
	if (l->handed_off)
		return;
	loop_open(l);
	loop_count(l);
	if (!l->started && l->ending < 0 && l->t.handshaken)
		loop_start(l);
	if (l->started && l->ending < 0 && p->input) {
		r = module_code(p->input(s, l->state));
		if (r >= 0)
			loop_end(l, r);
	}
	if (l->started && l->ending < 0 && p->deadline && p->timeout) {
		uint64_t d = p->deadline(s, l->state);

		if (d && d <= now) {
			r = module_code(p->timeout(s, l->state, now));
			if (r >= 0)
				loop_end(l, r);
		}
	}
	loop_seal(l);
	if (l->started && l->ending < 0 && s->in_eof &&
	    buf_len(&s->out) == 0 && (!p->idle || p->idle(s, l->state)))
		loop_end(l, EXIT_OK);
	if (l->ending >= 0 && l->t.truncated)
		loop_end(l, EXIT_TEMP);
	if (l->ending >= 0)
		transport_close(&l->t);
}

static void loop_read(struct loop *l, uint64_t now)
{
	ssize_t n = transport_read(&l->t);

	if (n > 0)
		l->last_io = now;
	if (n != TRANSPORT_IO_FAILED)
		return;
	log_error("read: %s", strerror(errno));
	loop_why(l, "read-error");
	loop_end(l, EXIT_TEMP);
}

static void loop_write(struct loop *l, uint64_t now)
{
	ssize_t n = transport_write(&l->t);

	if (n > 0)
		l->last_io = now;
	if (n != TRANSPORT_IO_FAILED)
		return;
	/* EPIPE, a reset: the client is gone, so is what we had queued. */
	log_error("write: %s", errno ? strerror(errno) : "nothing written");
	loop_why(l, "peer-gone");
	loop_end(l, EXIT_TEMP);
}

static uint64_t loop_idle_at(const struct loop *l)
{
	return l->last_io + l->s->conf->limits.idle_ms * NS_PER_MS;
}

/* The earliest timer: idle, handshake, or the module's own. */
static uint64_t loop_deadline(struct loop *l)
{
	const struct protocol *p = l->proto;
	uint64_t d = loop_idle_at(l);

	if (!l->t.handshaken && l->handshake_deadline < d)
		d = l->handshake_deadline;
	if (l->started && l->ending < 0 && p->deadline && p->timeout) {
		uint64_t m = p->deadline(l->s, l->state);

		if (m && m < d)
			d = m;
	}
	if (l->stop_at && l->stop_at < d)
		d = l->stop_at;
	return d;
}

/*
 * SIGTERM, SIGHUP or SIGINT: the session ends as any other does (the
 * module's finish() kills its commands, the done line says why), exit
 * 111; its output gets STOP_FLUSH_MS to leave, a second signal none.
 */
static void loop_signal(struct loop *l, uint64_t now)
{
	int sig = stop_read(&l->stop);

	if (!sig)
		return;
	if (l->stop_at) {
		l->stop_at = now;
		return;
	}
	log_warn("signal SIG%s: ending the session", stop_name(sig));
	loop_why(l, "signal");
	loop_end(l, EXIT_TEMP);
	l->stop_at = now + STOP_FLUSH_MS * NS_PER_MS;
}

/* 0 to go on, or 1 when a timer ended the session. */
static int loop_timers(struct loop *l, uint64_t now)
{
	const struct protocol *p = l->proto;
	struct session *s = l->s;

	if (!l->t.handshaken && l->ending < 0 &&
	    now >= l->handshake_deadline) {
		loop_refused(l, "handshake timeout");
		loop_end(l, EXIT_TEMP);
		return 1;
	}
	if (now < loop_idle_at(l))
		return 0;
	/* Silence while the module waits on its own work (a child running,
	 * nothing queued for the client) is not idleness. */
	if (l->ending < 0 && l->started && buf_len(&s->out) == 0 &&
	    transport_pending(&l->t) == 0 && p->idle &&
	    !p->idle(s, l->state)) {
		l->last_io = now;
		return 0;
	}
	log_error("idle timeout: no bytes either way for %llu s",
		  (unsigned long long)(s->conf->limits.idle_ms / 1000));
	loop_why(l, "idle");
	loop_end(l, EXIT_TEMP);
	return 1;
}

static void loop_module_events(struct loop *l, struct pollfd *pfd, size_t n,
			       uint64_t now)
{
	int r;

	if (n == 0 || !l->proto->events)
		return;
	for (size_t i = 0; i < n; i++)
		if (pfd[i].revents)
			l->last_io = now;
	r = module_code(l->proto->events(l->s, l->state, pfd, n, now));
	if (r >= 0)
		loop_end(l, r);
}

static void loop_shutdown(struct loop *l)
{
	if (l->t.out_dead || l->out_shut)
		return;
	/* Tell the client we are done writing; its half of the socket
	 * stays open, so a shared fd 0 is not cut under anyone. */
	if (shutdown(l->t.fd_out, SHUT_WR) == 0)
		l->out_shut = 1;
}

/* One pass's poll set: the signalfd, the transport's fds as the buffers
 * allow, then the module's own. */
struct loop_set {
	struct pollfd pfd[3 + SESSION_MAX_MODULE_FDS];
	size_t n, nmod;
	int in_at, out_at, sig_at;
};

static void loop_add(struct loop_set *ps, int *at, int fd, short events)
{
	ps->pfd[ps->n] = (struct pollfd){ fd, events, 0 };
	*at = (int)ps->n++;
}

static void loop_pollset(struct loop *l, struct loop_set *ps)
{
	const struct protocol *p = l->proto;

	ps->n = ps->nmod = 0;
	ps->in_at = ps->out_at = ps->sig_at = -1;
	if (l->stop.fd >= 0)
		loop_add(ps, &ps->sig_at, l->stop.fd, POLLIN);
	if (l->ending < 0 && transport_want_in(&l->t))
		loop_add(ps, &ps->in_at, l->t.fd_in, POLLIN);
	if (transport_want_out(&l->t))
		loop_add(ps, &ps->out_at, l->t.fd_out, POLLOUT);
	if (l->started && l->ending < 0 && p->pollfds) {
		ps->nmod = p->pollfds(l->s, l->state, ps->pfd + ps->n,
				      SESSION_MAX_MODULE_FDS);
		if (ps->nmod > SESSION_MAX_MODULE_FDS)
			ps->nmod = SESSION_MAX_MODULE_FDS;
		/* poll leaves revents alone when interrupted. */
		for (size_t i = ps->n; i < ps->n + ps->nmod; i++)
			ps->pfd[i].revents = 0;
	}
}

static int loop_ready(const struct loop_set *ps, int at)
{
	return at >= 0 && ps->pfd[at].revents;
}

int loop_run(struct loop *l)
{
	const struct protocol *p = l->proto;
	struct loop_set ps;

	loop_process(l, clock_now());
	for (;;) {
		uint64_t now;
		int r;

		if (l->handed_off)
			return EXIT_OK;
		if (l->ending >= 0 && transport_flushed(&l->t))
			break;
		if (l->stop_at && clock_now() >= l->stop_at)
			break;
		loop_pollset(l, &ps);
		now = clock_now();
		r = poll(ps.pfd, ps.n + ps.nmod,
			 clock_poll_timeout(now, loop_deadline(l)));
		if (r < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			loop_end(l, EXIT_TEMP);
			break;
		}
		now = clock_now();
		if (r > 0 && loop_ready(&ps, ps.sig_at))
			loop_signal(l, now);
		if (r > 0 && loop_ready(&ps, ps.in_at))
			loop_read(l, now);
		if (r > 0 && loop_ready(&ps, ps.out_at))
			loop_write(l, now);
		if (l->started && l->ending < 0)
			loop_module_events(l, ps.pfd + ps.n, ps.nmod, now);
		if (loop_timers(l, now))
			break;
		loop_process(l, now);
	}
	loop_shutdown(l);
	loop_count(l);
	if (l->started && p->finish)
		p->finish(l->s, l->state);
	l->started = 0;
	return l->ending < 0 ? EXIT_TEMP : l->ending;
}
