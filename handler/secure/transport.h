/*
 * One connection's byte stream between two fds and a pair of plaintext
 * buffers, plain or through the secure layer: handler's loop and
 * handler-client's loop both drive it. It does the I/O the secure engine
 * (secure.h) leaves to its caller, and keeps the stream's state (EOF, the
 * peer's FINAL, truncation, a dead writer, raw byte counts), but it never
 * logs and never polls: each loop words its own messages and owns its
 * timers.
 *
 * Plain: fd_in reads straight into the caller's in buffer and fd_out writes
 * straight from its out buffer, no copies. Secure: raw_in/raw_out (owned
 * here) hold whole encrypted frames, and the handshake, open and seal steps
 * move bytes between them and the plaintext buffers.
 *
 * A pass of a loop: poll fd_in if transport_want_in(), fd_out if
 * transport_want_out(); transport_read()/transport_write() on readiness;
 * transport_handshake() until TRANSPORT_READY; transport_open() before
 * the module reads `in`, transport_seal() after it wrote `out`;
 * transport_close() once it will write nothing more; done when
 * transport_flushed().
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

struct secure;

/* Each raw buffer holds this many whole encrypted frames in flight. */
#define TRANSPORT_RAW_FRAMES 4

enum {
	TRANSPORT_ERROR = -1,  /* the secure layer failed: transport_error() */
	TRANSPORT_AGAIN = 0,   /* nothing decided yet */
	TRANSPORT_READY = 1,   /* handshake: done; open: the peer's end seen */
	TRANSPORT_CUT = 2,     /* open: the stream was truncated */
};

/* transport_read() and transport_write() besides a byte count. */
enum {
	TRANSPORT_IO_FAILED = -1,  /* errno says why (0: write wrote nothing) */
	TRANSPORT_IO_EOF = -2,     /* read: fd_in's end of file */
};

/*
 * Fields are read by the loops; only transport_*() changes them.
 *
 * The truncation rule: a secure stream was cut when fd_in is at EOF, the
 * peer's FINAL has not been read, and raw_in is empty or holds only part of
 * a frame. "Only part" is known when `in` has room for the largest
 * plaintext frame the peer may send (frame_max): a whole frame would have
 * been opened. frame_max is our own receive limit as given to the secure
 * layer: the server's min(limits.max_frame, SECURE_FRAME_MAX), the
 * client's SECURE_FRAME_MAX. With less room the frame may be whole and
 * only waiting for the reader, so nothing is decided until the reader has
 * made room (transport_cut()). A plain stream has no FINAL: EOF is its end.
 */
struct transport {
	int fd_in, fd_out;         /* non-blocking; never closed here */
	struct secure *sec;        /* NULL: plain; its creator frees it */
	struct buf *in, *out;      /* the caller's plaintext buffers */
	struct buf raw_in, raw_out;  /* secure only: encrypted frames */
	uint32_t frame_max;        /* see the truncation rule */
	int handshaken;            /* plain: from the start */
	int raw_eof;               /* fd_in hit EOF or failed */
	int peer_final;            /* the peer's FINAL read (plain: EOF) */
	int truncated;             /* raw EOF without the peer's FINAL */
	int out_dead;              /* fd_out failed: nothing more goes out */
	int failed;                /* the secure layer failed: no more frames */
	const char *close_reason;  /* NULL, or why (our FINAL carries it) */
	uint64_t raw_bytes_in, raw_bytes_out;  /* over the fds */
	uint64_t bytes_in, bytes_out;  /* plaintext into in / out of out */
};

/*
 * sec NULL for plain. frame_max: the max_frame given to secure_*_new(),
 * 0 or more than SECURE_FRAME_MAX meaning SECURE_FRAME_MAX. 0, or -1 when
 * the raw buffers cannot be allocated (transport_free() is still due).
 */
int transport_init(struct transport *t, int fd_in, int fd_out,
		   struct secure *sec, struct buf *in, struct buf *out,
		   uint32_t frame_max);
/* Wipes and frees the raw buffers; the fds and sec are left alone. */
void transport_free(struct transport *t);

/* Poll fd_in for POLLIN / fd_out for POLLOUT. */
int transport_want_in(const struct transport *t);
int transport_want_out(const struct transport *t);
/* Bytes queued for fd_out (plain: the caller's out buffer). */
size_t transport_pending(const struct transport *t);

/*
 * One read(2) from fd_in: bytes read (> 0), 0 when none are there yet,
 * TRANSPORT_IO_EOF, or TRANSPORT_IO_FAILED (errno); raw_eof is set by both.
 */
ssize_t transport_read(struct transport *t);
/*
 * One write(2) to fd_out: bytes written (> 0), 0 when it would block, or
 * TRANSPORT_IO_FAILED (errno; 0 when write(2) took nothing): out_dead.
 */
ssize_t transport_write(struct transport *t);

/* TRANSPORT_READY once both sides are authenticated (plain: at once). */
int transport_handshake(struct transport *t);
/*
 * Moves whole frames from raw_in into `in` (plain: only notices EOF).
 * TRANSPORT_READY the first time the peer's end is seen, TRANSPORT_CUT the
 * first time the truncation rule holds, TRANSPORT_ERROR on a bad frame;
 * else TRANSPORT_AGAIN, also before the handshake and after any end.
 */
int transport_open(struct transport *t);
/*
 * The truncation rule applied now, for a reader that has made room in
 * `in` since transport_open(): 1 when the stream was cut (truncated set).
 */
int transport_cut(struct transport *t);
/*
 * Seals as much of `out` as raw_out takes; TRANSPORT_AGAIN, or
 * TRANSPORT_ERROR. Plain, or before the handshake: nothing to do.
 */
int transport_seal(struct transport *t);
/*
 * Queues our FINAL once `out` is sealed empty; again later when raw_out
 * lacks room. A no-op when plain, not handshaken, failed, out_dead or
 * already done. TRANSPORT_AGAIN, or TRANSPORT_ERROR.
 */
int transport_close(struct transport *t);
/* Our FINAL is queued (plain: always). */
int transport_closed_out(const struct transport *t);
/*
 * Everything that can still go out has: out_dead, or nothing queued and,
 * on a working secure stream, `out` sealed and our FINAL queued.
 */
int transport_flushed(const struct transport *t);
/* Why the secure layer failed (safe to log and to show). */
const char *transport_error(const struct transport *t);

#endif
