/*
 * handler-client's parts (docs/handler-client.1). main.c parses
 * the command line; client_conn.c connects (fds 6/7 or --exec) and loads
 * the keys; client_loop.c runs the transport (transport.h: the secure
 * layer over the connection) and drives a mode: client_cmd.c (run, caps,
 * ping), client_batch.c or client_tunnel.c. client_output.c has the
 * messages and output helpers all of them use.
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "proc.h"
#include "secure.h"
#include "transport.h"

/*
 * Exit codes besides the remote command's own status. As ssh does, every
 * failure of our own is 255, a status a remote command does not produce by
 * accident, so a script can tell "the command said 100 or 111" from "we
 * never got an answer" (the message on stderr says which failure). The
 * two names stay to say which kind each is.
 */
#define CLIENT_EXIT_FAIL 255
#define CLIENT_EXIT_PROTO CLIENT_EXIT_FAIL  /* protocol, auth, refusals */
#define CLIENT_EXIT_TEMP CLIENT_EXIT_FAIL   /* transport failures */
/* "go on" from a mode's step. */
#define CLIENT_GO (-1)

#define CLIENT_MAX_FDS 8
/* Largest server frame body (docs/cmd.md). */
#define CLIENT_FRAME_MAX (1024 * 1024)

struct client_opts {
	const char *keyfile;      /* -k or $HANDLER_KEY or the default */
	int agent;                /* -a */
	const char *user;         /* -u or $USER / $LOGNAME */
	const char *server_key;   /* -p or $HANDLER_SERVER_KEY */
	const char *exec;         /* --exec COMMAND */
	int rfd, wfd;             /* 6/7 by default */
	size_t agent_index;       /* -a without -k: which agent key to try */
};

struct client;

/* A mode of operation, driven by client_loop() after the handshake. */
struct client_mode {
	/* Consume c->in, append to c->out; CLIENT_GO or an exit code. */
	int (*step)(struct client *c, void *ctx);
	size_t (*pollfds)(struct client *c, void *ctx, struct pollfd *pfd,
			  size_t max);
	void (*events)(struct client *c, void *ctx, struct pollfd *pfd,
		       size_t n);
	/* When step wants to run even if nothing happens (ns); 0 never. */
	uint64_t (*deadline)(struct client *c, void *ctx);
};

struct client {
	int rfd, wfd;             /* the connection (closed here for --exec) */
	struct proc server;       /* --exec: the server process */
	int have_server;
	struct secure *sec;
	struct secure_identity id;
	struct buf in, out;       /* plaintext */
	/* Over rfd/wfd with sec; t.peer_final: the server's FINAL arrived. */
	struct transport t;
	int close_out;            /* the mode is done sending: FINAL now */
	size_t agent_keys;        /* ed25519 keys in the agent (-a, no -k) */
	int retry_ok;             /* a refusal is not final: another key */
	int auth_refused;
};

/* ---- client_conn.c ---- */
/* Connects and loads keys; 0, or an exit code after a message. */
int client_open(struct client *c, const struct client_opts *o);
/* Closes everything, waits for an --exec server; returns code, adjusted. */
int client_close(struct client *c, int code);
/*
 * open, loop, close; with -a, no -k and --exec, a refused key is followed
 * by the agent's next ed25519 key on a new server (as ssh tries keys).
 */
int client_run(const struct client_opts *o, const struct client_mode *m,
	       void *ctx);

/* ---- client_loop.c ---- */
/* Handshake, then the mode until it returns an exit code. */
int client_loop(struct client *c, const struct client_mode *m, void *ctx);

/* ---- client_cmd.c ---- */
enum client_cmd_kind { CLIENT_RUN, CLIENT_CAPS, CLIENT_PING };
int client_cmd(const struct client_opts *o, enum client_cmd_kind kind,
	       int with_stdin, int argc, char **argv);

/*
 * A number from the server's CAPS JSON ("key": N, the first occurrence;
 * our server's keys are unique), or def when absent.
 */
uint64_t client_caps_number(const uint8_t *json, size_t len, const char *key,
			    uint64_t def);
/* -1 (after a message) when the server speaks another cmd version. */
int client_caps_check(const uint8_t *json, size_t len);

/*
 * The cmd version for this session, from the CAPS JSON: with a "versions"
 * list that has one we speak above 1, queues VERSION on out (the server
 * answers AGREED). 0, or -1 after a message when nothing is in common.
 */
int client_caps_negotiate(const uint8_t *json, size_t len, struct buf *out);
/* ---- client_batch.c ---- */
/* json: one JSON object per request on stdout instead of the bands. */
int client_batch(const struct client_opts *o, int json);

/* ---- client_tunnel.c ---- */
int client_tunnel(const struct client_opts *o);

/* ---- messages and output (client_output.c) ---- */
/* Writes all n bytes, waiting in poll if fd was made non-blocking. */
int client_write_all(int fd, const uint8_t *p, size_t n);
/*
 * Our exit code for a request's EXIT frame: the status, 128 + N for
 * signal N, and 100 when the command "succeeded" although a limit note
 * came first (its background child was the one cut short).
 */
int client_exit_code(uint8_t kind, uint32_t v, int limited);
void client_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
