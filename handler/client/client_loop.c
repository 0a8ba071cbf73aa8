/*
 * handler-client's one poll loop: raw bytes on the connection, the secure
 * layer between them and the plaintext buffers, and the mode's own fds
 * (stdin for a payload or a tunnel). Rebuilt each pass from what the
 * buffers allow, like the server's.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

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

static void net_read(struct client *c)
{
	ssize_t n = buf_read_fd(&c->raw_in, c->rfd);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
		return;
	if (n < 0)
		log_debug("read: %s", strerror(errno));
	c->raw_eof = 1;
}

static void net_write(struct client *c)
{
	ssize_t n = buf_write_fd(&c->raw_out, c->wfd);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
		return;
	c->write_dead = 1;
	buf_clear(&c->raw_out);
}

/* Raw EOF with a frame that can never complete: the stream was cut. */
static int truncated(const struct client *c)
{
	return c->raw_eof && !c->peer_closed &&
	       (buf_len(&c->raw_in) == 0 ||
		buf_room(&c->in) >= SECURE_FRAME_MAX);
}

/* The secure layer's part of a pass; an exit code on failure, else -1. */
static int transport(struct client *c)
{
	int r;

	if (!c->handshaken) {
		r = secure_handshake(c->sec, &c->raw_in, &c->raw_out);
		if (r == SECURE_ERROR) {
			c->auth_refused = 1;
			if (c->retry_ok)
				log_debug("%s", secure_error(c->sec));
			else
				client_error("%s", secure_error(c->sec));
			return CLIENT_EXIT_PROTO;
		}
		if (r == SECURE_AGAIN) {
			if (c->raw_eof) {
				client_error("connection closed during the "
					     "handshake");
				return CLIENT_EXIT_TEMP;
			}
			return -1;
		}
		c->handshaken = 1;
		log_debug("authenticated");
	}
	if (!c->peer_closed) {
		r = secure_open(c->sec, &c->raw_in, &c->in);
		if (r == SECURE_ERROR) {
			client_error("%s", secure_error(c->sec));
			return CLIENT_EXIT_PROTO;
		}
		if (r == SECURE_READY || secure_closed_in(c->sec))
			c->peer_closed = 1;
	}
	return -1;
}

static void seal(struct client *c, struct loop_state *ls)
{
	if (!c->handshaken || c->write_dead)
		return;
	if (buf_len(&c->out) &&
	    secure_seal(c->sec, &c->out, &c->raw_out) == SECURE_ERROR) {
		client_error("%s", secure_error(c->sec));
		if (ls->code < 0)
			ls->code = CLIENT_EXIT_TEMP;
	}
	if ((ls->code >= 0 || c->close_out) && buf_len(&c->out) == 0 &&
	    !secure_closed_out(c->sec))
		secure_close(c->sec, &c->raw_out);
}

static int finished(struct client *c, struct loop_state *ls, uint64_t now)
{
	if (ls->code < 0)
		return 0;
	if (ls->broken || c->write_dead || !c->handshaken)
		return 1;
	/* Our FINAL out and the server's in, but never longer than this:
	 * the answer is already complete. */
	if (!ls->linger_until)
		ls->linger_until = now + CLIENT_LINGER_MS * NS_PER_MS;
	if (now >= ls->linger_until)
		return 1;
	if (!secure_closed_out(c->sec) || buf_len(&c->raw_out))
		return 0;
	return c->peer_closed || c->raw_eof;
}

static void process(struct client *c, const struct client_mode *m, void *ctx,
		    struct loop_state *ls)
{
	int r;

	if (ls->code < 0 && !c->write_dead) {
		r = transport(c);
		if (r >= 0) {
			ls->code = r;
			ls->broken = 1;
		}
	} else if (c->handshaken && !c->peer_closed) {
		/* Draining until the server's FINAL: discard what comes. */
		if (secure_open(c->sec, &c->raw_in, &c->in) != SECURE_AGAIN)
			c->peer_closed = 1;
		buf_clear(&c->in);
	}
	if (ls->code < 0 && c->handshaken) {
		r = m->step(c, ctx);
		if (r >= 0)
			ls->code = r;
	}
	if (ls->code < 0 && c->write_dead) {
		client_error("connection closed by the server");
		ls->code = CLIENT_EXIT_TEMP;
	}
	if (ls->code < 0 && truncated(c)) {
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
		if (!c->raw_eof && buf_room(&c->raw_in) > 0) {
			pfd[n] = (struct pollfd){ c->rfd, POLLIN, 0 };
			in_at = (int)n++;
		}
		if (!c->write_dead && buf_len(&c->raw_out) > 0) {
			pfd[n] = (struct pollfd){ c->wfd, POLLOUT, 0 };
			out_at = (int)n++;
		}
		if (ls.code < 0 && c->handshaken && m->pollfds)
			nmod = m->pollfds(c, ctx, pfd + n, CLIENT_MAX_FDS);
		if (!c->handshaken)
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
		if (in_at >= 0 && pfd[in_at].revents)
			net_read(c);
		if (out_at >= 0 && pfd[out_at].revents)
			net_write(c);
		if (nmod && m->events)
			m->events(c, ctx, pfd + n, nmod);
		if (!c->handshaken && ls.code < 0 &&
		    clock_now() >= ls.handshake_until) {
			client_error("handshake timeout");
			ls.code = CLIENT_EXIT_TEMP;
		}
		process(c, m, ctx, &ls);
	}
	return ls.code;
}
