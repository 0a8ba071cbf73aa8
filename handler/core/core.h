/*
 * The core's internals: main.c, session.c, loop.c, peer.c, the protocol
 * table and the configuration (conf*.c). Modules cannot include this file
 * (their include path has only handler/ and lib/): they see struct session
 * and struct protocol in handler.h, the configuration API in conf.h, and
 * nothing below.
 */
#ifndef CORE_H
#define CORE_H

#include <signal.h>

#include "handler.h"
#include "secure.h"
#include "transport.h"

/* The modules, in protocols.c. */
const struct protocol *protocol_find(const char *name);
extern const struct protocol *const protocols[];

/* ---- the configuration (conf*.c; docs/conf.md) ---- */

/* The core's limits (conf_items.c has their table). */
struct conf_limits {
	uint64_t idle_ms;          /* no bytes either way: connection closed */
	uint64_t handshake_ms;     /* secure handshake must finish in this */
	uint32_t max_frame;        /* largest frame (s->max_frame; secure) */
};

struct conf {
	char *path;                /* file name, or "(embedded default)" */
	char *server_key;          /* server identity (secret) key file */
	char *run_as;              /* run-as: account below root, or NULL */
	unsigned server_key_line;  /* its item's line, for messages */
	struct conf_user *users;
	size_t nusers;
	struct conf_limits limits;
	char **require_secure;     /* protocols refused without -s */
	size_t nrequire_secure;
	/* One per protocols[] entry: its conf struct, or NULL if none. */
	void **mconf;
	size_t nmods;
	char error[256];           /* first "file:line: problem", or "" */
};

/* Longest line accepted, and size cap for a configuration file. */
#define CONF_LINE_MAX 4096
#define CONF_FILE_MAX (1u << 20)

/* The embedded default configuration text. */
extern const char conf_default_text[];

/* Parses text (name is used in messages). 0, or -1 after logging errors. */
int conf_parse(struct conf *c, const char *name, const char *text,
	       size_t len);
/* Reads and parses a file; path NULL means the embedded default. */
/* Both return 0, -1 for a bad or missing file (permanent), -2 when it
 * could not be read for want of memory or descriptors (temporary). */
int conf_load(struct conf *c, const char *path);
void conf_free(struct conf *c);

const struct conf_user *conf_user_find(const struct conf *c,
				       const char *name);
const struct conf_user *conf_user_by_key(const struct conf *c,
					 const uint8_t pk[32]);
/* 1 when the conf says protocol name needs the secure layer. */
int conf_requires_secure(const struct conf *c, const char *proto);
/* Module p's parsed conf (what s->mconf gets), or NULL. */
const void *conf_module_conf(const struct conf *c, const struct protocol *p);
/*
 * OpenSSH-style "SHA256:..." fingerprint of an Ed25519 public key (over its
 * ssh-ed25519 wire blob), for logs; dst needs 64 bytes.
 */
void conf_key_fingerprint(const uint8_t pk[32], char *dst, size_t size);
/*
 * Parses "ssh-ed25519 BASE64 [comment]" (an authorized_keys line) into
 * pk; 0, or -1 with a static reason in *why.
 */
int conf_parse_pubkey(const char *line, uint8_t pk[32], const char **why);

/*
 * Inside the parser. Items and limits have owners: owner 0 is the core
 * (its conf is struct conf itself), owner i > 0 is protocols[i - 1].
 */
struct conf_parser {
	struct conf *c;
	const char *name;
	unsigned line;             /* 0 for whole-file problems */
	unsigned nerr;
	int nomem;                 /* out of memory: stop reading */
	uint64_t *limits_set;      /* per owner, a bit per limit in its table */
};

extern const struct conf_module conf_core_module;
size_t conf_owners(void);
const struct conf_module *conf_owner(size_t i);
void *conf_owner_conf(struct conf *c, size_t i);
/* The `limit NAME VALUE` item (conf_limit.c), and defaults for a table. */
conf_item_fn conf_item_limit;
void conf_limits_default(const struct conf_limit *t, void *conf);


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

/*
 * Socket activation (listen.c): the listening sockets systemd, nbdinfo or
 * nbdcopy handed over on fds 3 and up.
 */
#define LISTEN_MAX 16
struct listen_set {
	int fds[LISTEN_MAX];
	size_t n;
};
/*
 * 1: listening sockets were passed (LISTEN_PID is us); 0: none, or one
 * connection (Accept=yes) now on fds 0/1; -1: unusable (logged).
 */
int listen_activated(struct listen_set *ls);
/* Accepts and serves each connection in a child until a stop signal. */
int listen_serve(const struct listen_set *ls, const struct session_opts *o,
		 size_t max_children);

/*
 * Privilege separation (privsep.c; docs/secure.md): as root with run-as,
 * a root monitor, an unprivileged handshake, the session as the user's
 * account. privsep_start() returns the role of the calling process.
 */
enum {
	PRIVSEP_DONE,        /* monitor finished, or a child failed: exit code */
	PRIVSEP_HANDSHAKE,   /* run the handshake with proxy, then hand off */
	PRIVSEP_SESSION,     /* import state, resume, run the module */
};
struct privsep {
	int fd;                    /* handshake: the socket to the monitor */
	struct secure_identity proxy;  /* handshake: signs via the monitor */
	char user[64];             /* session: the authenticated user */
	uint8_t *state;            /* session: the secure layer's state */
	size_t nstate;
	uint8_t *raw_in, *raw_out; /* session: bytes buffered at the handoff */
	size_t nraw_in, nraw_out;
	uint64_t raw_bytes_in, raw_bytes_out;
	int code;                  /* PRIVSEP_DONE: the exit code */
};
/* 1 when this process separates privileges: euid 0 and a run-as other
 * than root. */
int privsep_wanted(const struct conf *c);
/* The accounts exist; as root, account= needs run-as. 0 or exit code. */
int privsep_check(const struct conf *c, int check_only);
/* Becomes account for good (groups, gid, uid, no way back). 0 or code. */
int privsep_drop(const char *account);
/* Forks; id (the loaded server key) is wiped in every process. */
int privsep_start(struct privsep *ps, const struct conf *c,
		  struct secure_identity *id);
/* Handshake process: sends the finished handshake to the monitor. */
int privsep_handoff(struct privsep *ps, const struct transport *t);
/* Session process: the handed-over bytes into t (secure, just set up). */
int privsep_resume(struct privsep *ps, struct transport *t);
void privsep_free(struct privsep *ps);

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

/* SIGTERM, SIGHUP, SIGINT on a signalfd (stop.c). */
struct stop_signals {
	int fd;                    /* signalfd, or -1 */
	int blocked;               /* old holds the mask to restore */
	sigset_t old;
};
/* Blocks the stop signals not ignored at start and opens the signalfd. */
void stop_open(struct stop_signals *st);
/* The signal read from the signalfd, or 0. */
int stop_read(struct stop_signals *st);
/* "TERM", "HUP", "INT" for the log. */
const char *stop_name(int sig);
/* Closes the signalfd and restores the signal mask. */
void stop_close(struct stop_signals *st);
/* Seconds a session stopped by a signal may spend flushing its output. */
#define STOP_FLUSH_MS 2000

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
	struct stop_signals stop;  /* SIGTERM, SIGHUP, SIGINT */
	uint64_t stop_at;          /* a signal came: give up flushing then */
	/* Called once the handshake completes: sets s->user; 0 or exit code. */
	int (*on_auth)(struct loop *l);
	void *auth_ctx;            /* for on_auth */
	/* on_auth handed the stream to another process (privsep.c): stop
	 * at once, touching neither the fds nor the stream again. */
	int handed_off;
};

/* Sets up buffers and fds; sec may be NULL. 0 or -1 (logged). */
int loop_init(struct loop *l, struct session *s, const struct protocol *p,
	      int argc, char **argv, int fd_in, int fd_out,
	      struct secure *sec);
/* Runs until the session ends; returns the exit code. */
int loop_run(struct loop *l);
void loop_free(struct loop *l);

#endif
