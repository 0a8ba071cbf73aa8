/*
 * handler's core interface: the per-connection session and the protocol
 * module table. The core (loop.c) owns the fds, the transport (plain or the
 * secure layer), the timers and the logs; a protocol module only turns
 * plaintext request bytes in s->in into reply bytes in s->out.
 */
#ifndef HANDLER_H
#define HANDLER_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"

struct session;

/*
 * A protocol module. All callbacks but start are optional (NULL).
 * Return conventions: 0 continue; a positive value ends the session with
 * that exit code (0 is spelled SESSION_DONE) after s->out is flushed.
 * Any other negative value is a bug: the session ends with 111.
 *
 * The core calls input() after every pass of the loop (new bytes, room
 * freed in s->out, in_eof set, a timer), so input() must be cheap when
 * there is nothing to do. s->in and s->out hold SESSION_BUF_BASE bytes
 * plus limits.max_frame each (below).
 */
#define SESSION_DONE (-2)

struct protocol {
	const char *name;
	const char *summary;      /* one line for usage/help */
	int requires_secure;      /* cmd: refused without the secure layer */
	/*
	 * Plaintext queue size each way (0: SESSION_BUF_BASE). A module that
	 * never needs deep queues asks for less, keeping the peak RSS of a
	 * busy connection small.
	 */
	size_t buffer_size;
	/*
	 * Parses the module's own arguments (argv[0] is the protocol name)
	 * and allocates its state in *state. Called after the secure
	 * handshake (if any), so s->user is known. Returns 0 or an exit code
	 * (100 for usage errors, logged by the module). finish() runs only
	 * after a start() that returned 0: a failing start() frees its own.
	 */
	int (*start)(struct session *s, int argc, char **argv, void **state);
	/*
	 * New bytes in s->in, room freed in s->out, or s->in_eof set. Consume
	 * complete requests from s->in; append replies to s->out only while
	 * buf_room(&s->out) allows (back-pressure: leave input unconsumed
	 * otherwise, the core calls again when the output drains).
	 */
	int (*input)(struct session *s, void *state);
	/* Extra fds to poll (children's pipes, pidfds); returns how many. */
	size_t (*pollfds)(struct session *s, void *state, struct pollfd *pfd,
			  size_t max);
	/* After poll: the same entries with revents filled in. */
	int (*events)(struct session *s, void *state, struct pollfd *pfd,
		      size_t n, uint64_t now);
	/* Earliest time (clock_now() ns) the module wants a call; 0 none. */
	uint64_t (*deadline)(struct session *s, void *state);
	int (*timeout)(struct session *s, void *state, uint64_t now);
	/*
	 * True when the module has nothing pending once input is at EOF: all
	 * requests answered, children reaped. The core then flushes and exits.
	 */
	int (*idle)(struct session *s, void *state);
	/* Logs the module's per-session summary and frees its state. */
	void (*finish)(struct session *s, void *state);
};

/* Maximum pollfds a module may add. */
#define SESSION_MAX_MODULE_FDS 64

struct peer_info {
	const char *proto;        /* $PROTO: TCP, TCP6, CURVECP, or "pipe" */
	const char *remote_ip;    /* $TCPREMOTEIP (or $CURVECPCLIENTIP...) */
	const char *remote_port;  /* $TCPREMOTEPORT */
	const char *remote_pk;    /* curvecpserver's client public key, hex */
};

struct session {
	const struct conf *conf;
	const struct conf_user *user;  /* NULL without the secure layer */
	char user_fp[64];              /* key fingerprint for logs, or "" */
	struct peer_info peer;
	struct buf in;                 /* plaintext from the client */
	struct buf out;                /* plaintext to the client */
	int in_eof;                    /* the client sent everything it will */
	int in_truncated;              /* ...because the stream was cut (no FINAL):
	                                  work for this client is pointless */
	int secure;                    /* the secure layer is on */
	uint64_t started;              /* clock_now() at start */
	uint64_t bytes_in, bytes_out;  /* plaintext totals, for the log */
};

/* The modules, in protocols.c. */
const struct protocol *protocol_find(const char *name);
extern const struct protocol *const protocols[];

/*
 * Core internals: main.c, session.c, loop.c and peer.c only. Modules use
 * struct session and struct protocol above and nothing below.
 */

/*
 * Plaintext buffer sizes: s->in and s->out each hold SESSION_BUF_BASE
 * bytes plus one largest frame (limits.max_frame), so a module can always
 * keep one whole request or reply in them. The secure layer's raw buffers
 * hold SESSION_RAW_FRAMES encrypted frames.
 */
#define SESSION_BUF_BASE (1u << 20)
#define SESSION_RAW_FRAMES 4

/* What main.c hands to the core after parsing the command line. */
struct session_opts {
	const char *conf_path;     /* -f, or NULL for the embedded default */
	int secure;                /* -s */
	int check_only;            /* -n: load conf (and key), serve nothing */
	int fd_in, fd_out;         /* normally 0 and 1 */
	int argc;                  /* the protocol's own argv, argv[0] its name */
	char **argv;
};

/* Runs one whole connection; returns the process exit code. */
int session_main(const struct session_opts *o);

/* Peer description for logs, from the superserver's environment. */
struct peer_store {
	char proto[16];
	char ip[64];
	char port[16];
	char pk[72];
};
void peer_init(struct peer_info *p, struct peer_store *st, int fd);
/* "ip:port", "ip", or "-" into dst, for the one log line. */
void peer_format(const struct peer_info *p, char *dst, size_t size);

/* The transport between the fds and s->in/s->out (loop.c). */
struct secure;
struct loop {
	struct session *s;
	const struct protocol *proto;
	void *state;
	int argc;
	char **argv;
	int started;               /* proto->start() has run */
	int fd_in, fd_out;         /* normally 0 and 1; left open at the end */
	int same_socket;           /* fd_in and fd_out are one socket */
	int raw_eof;               /* fd_in hit EOF */
	int truncated;             /* raw EOF without the peer's FINAL */
	int out_shut;              /* shutdown(SHUT_WR) done */
	int out_dead;              /* fd 1 failed (EPIPE...): nothing more */
	int auth_failed;           /* handshake refused or timed out */
	int fl_in, fl_out;         /* fd flags before we made them non-blocking */
	const char *why;           /* first abnormal end, one word, or NULL */
	int ending;                /* exit code decided, flushing; -1 none */
	struct secure *sec;        /* NULL for the plain transport */
	int handshaken;            /* secure handshake done */
	int sec_failed;            /* a frame failed: no more frames either way */
	struct buf raw_in, raw_out;
	uint64_t raw_bytes_in, raw_bytes_out;
	uint64_t last_io;          /* clock_now() of the last byte either way */
	uint64_t handshake_deadline;
	/* Called once the handshake completes: sets s->user; 0 or exit code. */
	int (*on_auth)(struct loop *l);
};

/* Sets up buffers and fds; sec may be NULL. 0 or -1 (logged). */
int loop_init(struct loop *l, struct session *s, const struct protocol *p,
	      int argc, char **argv, int fd_in, int fd_out,
	      struct secure *sec);
/* Runs until the session ends; returns the exit code. */
int loop_run(struct loop *l);
void loop_free(struct loop *l);

#endif
