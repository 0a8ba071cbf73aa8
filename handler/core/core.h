/*
 * The core's internals: main.c, session.c, loop.c, peer.c and the protocol
 * table. Modules cannot include this file (their include path has only
 * handler/ and lib/): they see struct session and struct protocol in
 * handler.h and nothing below.
 */
#ifndef CORE_H
#define CORE_H

#include "handler.h"
#include "transport.h"

/* The modules, in protocols.c. */
const struct protocol *protocol_find(const char *name);
extern const struct protocol *const protocols[];


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

/* The poll loop over the transport between the fds and s->in/s->out. */
struct loop {
	struct session *s;
	const struct protocol *proto;
	void *state;
	int argc;
	char **argv;
	int started;               /* proto->start() has run */
	struct transport t;        /* fds 0 and 1 (left open), plain or secure */
	int same_socket;           /* fd_in and fd_out are one socket */
	int out_shut;              /* shutdown(SHUT_WR) done */
	int auth_failed;           /* handshake refused or timed out */
	int fl_in, fl_out;         /* fd flags before we made them non-blocking */
	const char *why;           /* first abnormal end, one word, or NULL */
	int ending;                /* exit code decided, flushing; -1 none */
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
