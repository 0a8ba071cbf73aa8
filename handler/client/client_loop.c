/*
 * handler-client's one poll loop: the transport (transport.h: the secure
 * layer between the connection and the plaintext buffers) and the mode's
 * own fds (stdin for a payload or a tunnel). Rebuilt each pass from what
 * the buffers allow, like the server's.
 */
#include <errno.h>
#include <string.h>

#include "client.h"
#include "clock.h"
#include "log.h"

#define CLIENT_HANDSHAKE_MS 60000
/* Once the mode is done: how long we try to send our FINAL and wait for
 * the server's. */
#define CLIENT_LINGER_MS 5000

struct loop_state {
	int code;                 /* the mode's result, -1 while running */
	int broken;               /* the connection failed: no goodbye */
	uint64_t linger_until;
	uint64_t handshake_until;
};

/* The handshake, then frames in; an exit code on failure, else -1. */
static int secure_step(struct client *c)
{
	int r;

	if (!c->t.handshaken) {
		r = transport_handshake(&c->t);
		if (r == TRANSPORT_ERROR) {
			c->auth_refused = 1;
			if (c->retry_ok)
				log_debug("%s", transport_error(&c->t));
			else
				client_error("%s", transport_error(&c->t));
			return CLIENT_EXIT_PROTO;
		}
		if (r == TRANSPORT_AGAIN) {
			if (c->t.raw_eof) {
				client_error("connection closed during the "
					     "handshake");
				return CLIENT_EXIT_TEMP;
			}
			return -1;
		}
		log_debug("authenticated");
	}
	/* A cut stream is judged after the mode's step (process()). */
	if (transport_open(&c->t) == TRANSPORT_ERROR) {
		client_error("%s", transport_error(&c->t));
		return CLIENT_EXIT_PROTO;
	}
	return -1;
}

static void seal(struct client *c, struct loop_state *ls)
{
	if (c->t.out_dead)
		return;
	if (transport_seal(&c->t) == TRANSPORT_ERROR) {
		client_error("%s", transport_error(&c->t));
		if (ls->code < 0)
			ls->code = CLIENT_EXIT_TEMP;
	}
	if (ls->code >= 0 || c->close_out)
		transport_close(&c->t);
}

static int finished(struct client *c, struct loop_state *ls, uint64_t now)
{
	if (ls->code < 0)
		return 0;
	if (ls->broken || c->t.out_dead || !c->t.handshaken)
		return 1;
	/* Our FINAL out and the server's in, but never longer than this:
	 * the answer is already complete. */
	if (!ls->linger_until)
		ls->linger_until = now + CLIENT_LINGER_MS * NS_PER_MS;
	if (now >= ls->linger_until)
		return 1;
	if (!transport_flushed(&c->t))
		return 0;
	return c->t.peer_final || c->t.raw_eof || c->t.failed;
}

static void process(struct client *c, const struct client_mode *m, void *ctx,
		    struct loop_state *ls)
{
	int r;

	if (ls->code < 0 && !c->t.out_dead) {
		r = secure_step(c);
		if (r >= 0) {
			ls->code = r;
			ls->broken = 1;
		}
	} else if (c->t.handshaken && !c->t.peer_final && !c->t.failed) {
		/* Draining until the server's FINAL: discard what comes. */
		transport_open(&c->t);
		buf_clear(&c->in);
	}
	if (ls->code < 0 && c->t.peer_final &&
	    secure_peer_reason(c->sec)[0]) {
		/* The server ended the session with a reason (a module that
		 * refused to start): that is the answer, whatever the mode. */
		client_error("the server ended the session: %s",
			     secure_peer_reason(c->sec));
		ls->code = CLIENT_EXIT_PROTO;
	}
	if (ls->code < 0 && c->t.handshaken) {
		r = m->step(c, ctx);
		if (r >= 0)
			ls->code = r;
	}
	if (ls->code < 0 && c->t.out_dead) {
		client_error("connection closed by the server");
		ls->code = CLIENT_EXIT_TEMP;
	}
	if (ls->code < 0 && transport_cut(&c->t)) {
		client_error("connection closed by the server before the "
			     "end of the session");
		ls->code = CLIENT_EXIT_TEMP;
		ls->broken = 1;
	}
	seal(c, ls);
}

int client_loop(struct client *c, const struct client_mode *m, void *ctx)
{
	struct loop_state ls = { -1, 0, 0, 0 };
	struct pollfd pfd[2 + CLIENT_MAX_FDS];

	ls.handshake_until = clock_now() + CLIENT_HANDSHAKE_MS * NS_PER_MS;
	process(c, m, ctx, &ls);
	for (;;) {
		size_t n = 0, nmod = 0;
		int in_at = -1, out_at = -1;
		uint64_t now = clock_now(), deadline = 0;

		if (finished(c, &ls, now))
			break;
		if (transport_want_in(&c->t)) {
			pfd[n] = (struct pollfd){ c->t.fd_in, POLLIN, 0 };
			in_at = (int)n++;
		}
		if (transport_want_out(&c->t)) {
			pfd[n] = (struct pollfd){ c->t.fd_out, POLLOUT, 0 };
			out_at = (int)n++;
		}
		if (ls.code < 0 && c->t.handshaken && m->pollfds)
			nmod = m->pollfds(c, ctx, pfd + n, CLIENT_MAX_FDS);
		if (!c->t.handshaken)
			deadline = ls.handshake_until;
		else if (ls.code < 0 && m->deadline)
			deadline = m->deadline(c, ctx);
		if (ls.linger_until)
			deadline = ls.linger_until;
		if (poll(pfd, n + nmod, clock_poll_timeout(now, deadline)) < 0 &&
		    errno != EINTR) {
			client_error("poll: %s", strerror(errno));
			return CLIENT_EXIT_TEMP;
		}
		if (in_at >= 0 && pfd[in_at].revents &&
		    transport_read(&c->t) == TRANSPORT_IO_FAILED)
			log_debug("read: %s", strerror(errno));
		if (out_at >= 0 && pfd[out_at].revents)
			transport_write(&c->t);
		if (nmod && m->events)
			m->events(c, ctx, pfd + n, nmod);
		if (!c->t.handshaken && ls.code < 0 &&
		    clock_now() >= ls.handshake_until) {
			client_error("handshake timeout");
			ls.code = CLIENT_EXIT_TEMP;
		}
		process(c, m, ctx, &ls);
	}
	return ls.code;
}
