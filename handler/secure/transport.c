/*
 * The stream under a connection, plain or secure (see transport.h). The
 * secure engine stays free of I/O; this is the one place that joins it to
 * the fds, so the server and the client read the stream's end the same way.
 */
#include "transport.h"

#include <errno.h>
#include <string.h>

#include "secure.h"

/* Room for several whole frames, so reading runs ahead of decrypting. */
#define RAW_CAP (TRANSPORT_RAW_FRAMES * (SECURE_FRAME_MAX + 1024u))

int transport_init(struct transport *t, int fd_in, int fd_out,
		   struct secure *sec, struct buf *in, struct buf *out,
		   uint32_t frame_max)
{
	memset(t, 0, sizeof *t);
	t->fd_in = fd_in;
	t->fd_out = fd_out;
	t->sec = sec;
	t->in = in;
	t->out = out;
	t->frame_max = frame_max == 0 || frame_max > SECURE_FRAME_MAX ?
		       SECURE_FRAME_MAX : frame_max;
	t->handshaken = sec == NULL;
	if (!sec)
		return 0;
	if (buf_init(&t->raw_in, RAW_CAP) < 0 ||
	    buf_init(&t->raw_out, RAW_CAP) < 0)
		return -1;
	return 0;
}

void transport_free(struct transport *t)
{
	buf_free_secret(&t->raw_in);
	buf_free_secret(&t->raw_out);
}

/* Where fd_in's bytes land and where fd_out's come from. */
static struct buf *raw_in(struct transport *t)
{
	return t->sec ? &t->raw_in : t->in;
}

static struct buf *raw_out(struct transport *t)
{
	return t->sec ? &t->raw_out : t->out;
}

int transport_want_in(const struct transport *t)
{
	const struct buf *b = t->sec ? &t->raw_in : t->in;

	return !t->raw_eof && buf_room(b) > 0;
}

int transport_want_out(const struct transport *t)
{
	return !t->out_dead && transport_pending(t) > 0;
}

size_t transport_pending(const struct transport *t)
{
	return buf_len(t->sec ? &t->raw_out : t->out);
}

ssize_t transport_read(struct transport *t)
{
	ssize_t n = buf_read_fd(raw_in(t), t->fd_in);

	if (n > 0) {
		t->raw_bytes_in += (uint64_t)n;
		if (!t->sec)
			t->bytes_in += (uint64_t)n;
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	/* A failed read ends the input as EOF does: nothing more comes. */
	t->raw_eof = 1;
	return n == 0 ? TRANSPORT_IO_EOF : TRANSPORT_IO_FAILED;
}

ssize_t transport_write(struct transport *t)
{
	ssize_t n = buf_write_fd(raw_out(t), t->fd_out);

	if (n > 0) {
		t->raw_bytes_out += (uint64_t)n;
		if (!t->sec)
			t->bytes_out += (uint64_t)n;
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	/* EPIPE, a reset: the peer is gone, so is what was queued for it. */
	if (n == 0)
		errno = 0;
	t->out_dead = 1;
	return TRANSPORT_IO_FAILED;
}

static int transport_fail(struct transport *t)
{
	t->failed = 1;
	return TRANSPORT_ERROR;
}

int transport_handshake(struct transport *t)
{
	int r;

	if (t->handshaken)
		return TRANSPORT_READY;
	if (t->failed)
		return TRANSPORT_ERROR;
	r = secure_handshake(t->sec, &t->raw_in, &t->raw_out);
	if (r == SECURE_ERROR)
		return transport_fail(t);
	if (r == SECURE_READY)
		t->handshaken = 1;
	return r == SECURE_READY ? TRANSPORT_READY : TRANSPORT_AGAIN;
}

int transport_cut(struct transport *t)
{
	/* A plain stream has no FINAL to miss; a failed one no frames. */
	if (!t->truncated && t->sec && t->handshaken && !t->failed &&
	    t->raw_eof && !t->peer_final &&
	    (buf_len(&t->raw_in) == 0 || buf_room(t->in) >= t->frame_max))
		t->truncated = 1;
	return t->truncated;
}

int transport_open(struct transport *t)
{
	size_t before = buf_len(t->in);
	int r;

	if (!t->handshaken || t->failed || t->peer_final || t->truncated)
		return TRANSPORT_AGAIN;
	if (!t->sec) {
		t->peer_final = t->raw_eof;
		return t->peer_final ? TRANSPORT_READY : TRANSPORT_AGAIN;
	}
	r = secure_open(t->sec, &t->raw_in, t->in);
	t->bytes_in += buf_len(t->in) - before;
	if (r == SECURE_ERROR)
		return transport_fail(t);
	if (r == SECURE_READY || secure_closed_in(t->sec)) {
		t->peer_final = 1;
		return TRANSPORT_READY;
	}
	return transport_cut(t) ? TRANSPORT_CUT : TRANSPORT_AGAIN;
}

int transport_seal(struct transport *t)
{
	size_t before = buf_len(t->out);
	int r;

	if (!t->sec || !t->handshaken || t->failed || before == 0)
		return TRANSPORT_AGAIN;
	r = secure_seal(t->sec, t->out, &t->raw_out);
	t->bytes_out += before - buf_len(t->out);
	return r == SECURE_ERROR ? transport_fail(t) : TRANSPORT_AGAIN;
}

int transport_close(struct transport *t)
{
	if (!t->sec || !t->handshaken || t->failed || t->out_dead ||
	    buf_len(t->out) > 0 || secure_closed_out(t->sec))
		return TRANSPORT_AGAIN;
	if (secure_close_reason(t->sec, &t->raw_out, t->close_reason) ==
	    SECURE_ERROR)
		return transport_fail(t);
	return TRANSPORT_AGAIN;
}

int transport_closed_out(const struct transport *t)
{
	return !t->sec || secure_closed_out(t->sec);
}

int transport_flushed(const struct transport *t)
{
	if (t->out_dead)
		return 1;
	if (transport_pending(t) > 0)
		return 0;
	/* After a failure nothing more can be sealed: what is already
	 * encrypted goes out, the rest is dropped. */
	if (t->sec && t->handshaken && !t->failed)
		return buf_len(t->out) == 0 && secure_closed_out(t->sec);
	return 1;
}

const char *transport_error(const struct transport *t)
{
	return t->sec ? secure_error(t->sec) : "no error";
}
