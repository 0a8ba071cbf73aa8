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
/* The longest refusal text a client is sent, with its NUL (the secure
 * layer's SECURE_REASON_MAX + 1). */
#define SESSION_REFUSAL_MAX 129
struct conf;  /* the core's parsed configuration: opaque to modules */

/*
 * A protocol module. All callbacks but start are optional (NULL).
 * Return conventions: 0 continue; a positive value ends the session with
 * that exit code (0 is spelled SESSION_DONE) after s->out is flushed.
 * Any other negative value is a bug: the session ends with 111.
 *
 * The core calls input() after every pass of the loop (new bytes, room
 * freed in s->out, in_eof set, a timer), so input() must be cheap when
 * there is nothing to do. s->in and s->out hold SESSION_BUF_BASE bytes
 * plus s->max_frame each (below).
 */
#define SESSION_DONE (-2)

struct protocol {
	const char *name;
	const char *summary;      /* one line for usage/help */
	int requires_secure;      /* cmd: refused without the secure layer */
	/*
	 * For a module that requires the secure layer: the user its own
	 * arguments name when sshd runs it as a forced command (cmd
	 * --ssh-user NAME), or NULL. sshd has authenticated that user; the
	 * core accepts it only without -s and with SSH_CONNECTION set.
	 */
	const char *(*ssh_user)(int argc, char **argv);
	/*
	 * Plaintext queue size each way (0: SESSION_BUF_BASE). A module that
	 * never needs deep queues asks for less, keeping the peak RSS of a
	 * busy connection small.
	 */
	size_t buffer_size;
	/*
	 * The module's configuration items and limits (conf.h), or NULL for
	 * none. Its parsed conf reaches the module as s->mconf.
	 */
	const struct conf_module *conf;
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
	/*
	 * Earliest time (clock_now() ns) the module wants a call; 0 none.
	 * Work in bounded steps (sftp's copy-data): a time already past
	 * (e.g. 1) while work is pending makes the next poll not wait and
	 * timeout() run once per pass, between the passes that serve the
	 * client; return 0 while waiting on output room (input() is called
	 * when it drains), or the loop would spin.
	 */
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
	const struct conf *conf;       /* the core's, opaque here */
	/*
	 * The module's own parsed configuration (its conf_module.size bytes,
	 * filled by its items and limits), or NULL when it declares none.
	 */
	const void *mconf;
	uint32_t max_frame;            /* limit frame (core): largest frame */
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
	/* Why start() refused, for the client: see session_refuse(). */
	char refusal[SESSION_REFUSAL_MAX];
};

/*
 * For a start() about to fail: logs "handler: error: TEXT" and keeps TEXT
 * (cut to SESSION_REFUSAL_MAX - 1 bytes) for the client, which the secure
 * layer's FINAL frame carries and handler-client prints. Say what the
 * user can act on ("no sftp root configured"), never a secret. Without
 * it the client hears only that the module refused to start.
 */
void session_refuse(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Plaintext buffer sizes: s->in and s->out each hold SESSION_BUF_BASE
 * bytes plus one largest frame (s->max_frame), so a module can always
 * keep one whole request or reply in them.
 */
#define SESSION_BUF_BASE (1u << 20)

#endif
