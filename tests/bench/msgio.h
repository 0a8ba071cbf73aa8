/*
 * Message I/O on curvecpserver/curvecpclient's fds 8 and 9 for the bench
 * tools: length byte n (1..68) then 16n bytes, both pipes non-blocking.
 */
#ifndef MSGIO_H
#define MSGIO_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "exitcode.h"
#include "fdutil.h"
#include "log.h"
#include "wire.h"

#define MSG_IN 8
#define MSG_OUT 9
#define MSG_BLOCK 16
#define MSG_MAX_BLOCKS 68
#define MSG_MAX (1 + MSG_MAX_BLOCKS * MSG_BLOCK)

struct msgin {
	struct buf b;
	int eof;
};

static inline void msgin_init(struct msgin *m)
{
	if (buf_init(&m->b, 1 << 16) < 0)
		log_die(EXIT_TEMP, "out of memory");
	m->eof = 0;
	fd_nonblock(MSG_IN);
	fd_nonblock(MSG_OUT);
}

static inline void msgin_free(struct msgin *m)
{
	buf_free(&m->b);
}

/*
 * The next whole message (body only, *n blocks) if one is buffered; the
 * caller consumes it with msgin_next(). A bad length byte is fatal: these
 * tools sit right under curvecpserver/curvecpclient.
 */
static inline int msgin_peek(struct msgin *m, const uint8_t **body,
			     unsigned *n)
{
	struct rd r;
	uint8_t len;

	rd_init(&r, buf_data(&m->b), buf_len(&m->b));
	if (rd_u8(&r, &len) < 0)
		return 0;
	if (len < 1 || len > MSG_MAX_BLOCKS)
		log_die(EXIT_PERM, "bad length byte %u on fd 8", len);
	if (rd_view(&r, body, (size_t)len * MSG_BLOCK) < 0)
		return 0;
	*n = len;
	return 1;
}

static inline void msgin_next(struct msgin *m, unsigned n)
{
	buf_consume(&m->b, 1 + (size_t)n * MSG_BLOCK);
}

/* Reads what fd 8 has; sets eof at its end. */
static inline void msgin_fill(struct msgin *m)
{
	ssize_t r = buf_read_fd(&m->b, MSG_IN);

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		m->eof = 1;
}

/* Waits up to ms (-1: forever) for fd 8; 1 if readable. */
static inline int msg_wait_in(int ms)
{
	struct pollfd p = { .fd = MSG_IN, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

/*
 * Writes one message (framed by the caller, at most MSG_MAX bytes, so a
 * pipe write is atomic): waits while the pipe is full.
 */
static inline void msg_send(const uint8_t *msg, size_t len)
{
	for (;;) {
		ssize_t w = write(MSG_OUT, msg, len);

		if (w == (ssize_t)len)
			return;
		if (w >= 0)
			log_die(EXIT_TEMP, "short write on fd 9");
		if (errno == EAGAIN) {
			struct pollfd p = { .fd = MSG_OUT, .events = POLLOUT };

			poll(&p, 1, -1);
		} else if (errno != EINTR) {
			log_die_sys(EXIT_TEMP, "write fd 9");
		}
	}
}

static inline double msg_seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

#endif
