/*
 * The cmd module's private interface, one section per file. A file calls
 * only files whose sections come before its own (and cmd_frame.c,
 * json.c), so no two files depend on each other. cmd.c is the protocol
 * table and the frame dispatcher; the rest are its parts.
 */
#ifndef CMD_PRIV_H
#define CMD_PRIV_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cmd_conf.h"
#include "cmd_frame.h"
#include "handler.h"
#include "proc.h"

#ifndef HANDLER_VERSION
#define HANDLER_VERSION "0.1.0"
#endif

/* Payload bytes buffered per request: the most credit ever outstanding. */
#define CMD_WINDOW_MAX (256 * 1024)
/* limit requests: its largest value. */
#define CMD_REQUESTS_MAX 1024
/* Largest band frame body the server sends (a client accepts 1 MiB). */
#define CMD_BAND_MAX 65536
/* Largest server frame body of any kind (CAPS included). */
#define CMD_SERVER_FRAME_MAX (1024 * 1024)
/* Room kept in s->out before a client frame is handled: any reply fits. */
#define CMD_REPLY_RESERVE (CMD_HDR_LEN + 2 + CMD_ERRTEXT_MAX + 64)
/* SIGTERM first; SIGKILL this long after. */
#define CMD_KILL_GRACE_MS 2000

/* The limits this connection runs with (conf, clamped to the buffers). */
struct cmd_limits {
	uint32_t max_frame;
	uint32_t max_requests;
	uint32_t max_args;
	uint32_t max_arglen;
	uint64_t cmd_time_ms;
	uint64_t cmd_output;
	uint32_t window;
};

/*
 * ---- cmd_caps.c: the command catalogue and the one permission check ----
 *
 * The catalogue is the builtins, then the configured commands. The
 * builtins table comes in as an argument: two of the builtins (help,
 * caps) read the catalogue, so the catalogue must not reach for them.
 */

struct cmd_state;
struct cmd_req;
struct cmd_text;

typedef int (*cmd_builtin_fn)(struct cmd_state *st, int argc, char **argv,
			      struct cmd_text *out, struct cmd_text *err);

struct cmd_builtin {
	const char *name;
	const char *args;
	const char *desc;
	cmd_builtin_fn run;   /* exit status, or -CMD_E_* with err text */
};

/* A command as a user sees it: builtin or from the conf. */
struct cmd_entry {
	const char *name;
	const char *args;
	const char *desc;
	const char *perm;     /* NULL: every authenticated user */
	int payload;
	const struct cmd_builtin *builtin;
	const struct conf_command *conf;
};

/* b: a builtins table ending with a NULL name (cmd_builtins). */
size_t cmd_catalogue_size(const struct cmd_builtin *b, const struct cmd_conf *c);
void cmd_catalogue_at(const struct cmd_builtin *b, const struct cmd_conf *c,
		      size_t i, struct cmd_entry *e);
/* 0 and *e filled, or -1 when no such command. */
int cmd_lookup(const struct cmd_builtin *b, const struct cmd_conf *c,
	       const char *name, struct cmd_entry *e);
/* All policy lives here: may this user run this command? */
int cmd_permitted(const struct conf_user *u, const struct cmd_entry *e);
/*
 * Whether caps, help and refusals may show the command to this user: with
 * cmd-hide-forbidden, one the user may not run does not exist for them.
 */
int cmd_visible(const struct conf_user *u, const struct cmd_conf *c,
		const struct cmd_entry *e);
/*
 * One argument of a synopsis such as "PATTERN [FILE...]": name points into
 * the text (len bytes), optional inside [ ], repeat when "..." follows.
 */
struct cmd_synarg {
	const char *name;
	size_t len;
	int optional;
	int repeat;
};

/* Parses text into at most max arguments; returns how many. */
size_t cmd_synopsis_parse(const char *text, struct cmd_synarg *out,
			  size_t max);
/* The CAPS JSON (malloc'd, NUL-terminated), or NULL with errno ENOMEM
 * (out of memory) or EMSGSIZE (longer than max). */
char *cmd_caps_json(const struct session *s, const struct cmd_builtin *b,
		    const struct cmd_limits *lim, size_t max, size_t *len);

/* ---- cmd_builtins.c ---- */

/* Growable text for builtin output (bounded). */
struct cmd_text {
	char *p;
	size_t len;
	size_t cap;
	int err;    /* 0, ENOMEM, or EMSGSIZE past the bound */
};

void cmd_text_printf(struct cmd_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cmd_text_add(struct cmd_text *t, const char *s, size_t n);
void cmd_text_free(struct cmd_text *t);
/* Ends with a NULL name. */
extern const struct cmd_builtin cmd_builtins[];

/* ---- cmd_exec.c: configured commands as child processes ---- */

enum cmd_kill_reason {
	CMD_KILL_NONE = 0,
	CMD_KILL_TIME,
	CMD_KILL_OUTPUT,
	CMD_KILL_CANCEL,
	CMD_KILL_SESSION,
	CMD_KILL_PAYLOAD
};

struct cmd_child {
	struct proc proc;
	int fd_in, fd_out, fd_err;  /* our ends; -1 when closed */
	struct buf payload;         /* client bytes waiting for fd_in */
	uint32_t credit;            /* granted to the client, not yet used */
	uint32_t grant;             /* consumed, not yet granted back */
	int payload_eof;            /* client's EOF (or the session's) */
	int stdin_gone;             /* the child closed its stdin */
	uint64_t deadline;          /* time limit */
	uint64_t kill_at;           /* SIGKILL due (after SIGTERM), 0 none */
	uint64_t output_limit;
	uint64_t payload_limit;     /* 0: none */
	enum cmd_kill_reason why;
};

/* One request in flight. */
struct cmd_req {
	int used;
	uint32_t id;
	char name[CONF_NAME_MAX];
	uint64_t started;
	uint64_t bytes_in, bytes_out;
	/* Builtins: the whole output, sent as room allows. */
	struct cmd_text out, err;
	size_t out_off, err_off;
	int status;                 /* exit status (builtins) */
	int is_child;
	struct cmd_child child;
	/* A non-final ERROR to send before EXIT (limits). */
	uint8_t note_code;
	char note[160];
};

struct cmd_state {
	struct session *s;
	struct cmd_limits lim;
	struct cmd_req *reqs;       /* lim.max_requests slots */
	size_t inflight;
	uint64_t served, refused;
	uint32_t skip;              /* body bytes of a refused frame to drop */
	int fatal;                  /* protocol violation: stop reading */
	uint32_t version;           /* cmd protocol version agreed (1 first) */
	/*
	 * Frames in and out: s->in and s->out, but for one request from
	 * SSH_ORIGINAL_COMMAND (cmd_ssh.c) private buffers that cmd_ssh.c
	 * translates to and from plain bytes.
	 */
	struct buf *in, *out;
	struct cmd_ssh *ssh;        /* NULL but in that mode */
	int frames_seen;            /* VERSION is only valid as the first */
	size_t rotate;              /* pollfd fairness start */
	int fds_short;              /* some fds did not fit in the poll set */
	/* pollfd index -> request slot and which fd. */
	uint32_t map_req[SESSION_MAX_MODULE_FDS];
	uint8_t map_kind[SESSION_MAX_MODULE_FDS];
};

/* Starts e->conf for rq; 0, or -1 with errno (reply INTERNAL). */
int cmd_exec_start(struct cmd_state *st, struct cmd_req *rq,
		   const struct cmd_entry *e, int argc, char **argv,
		   int payload);
/* Kills (SIGTERM now, SIGKILL after the grace) and remembers why. */
void cmd_exec_kill(struct cmd_state *st, struct cmd_req *rq,
		   enum cmd_kill_reason why, uint64_t now);
/*
 * Adds the request's fds to the poll set (pipes only while s->out has room
 * for a band, stdin only while payload is queued, the pidfd until reaped);
 * sets st->fds_short when they do not all fit.
 */
void cmd_exec_poll_add(struct cmd_state *st, struct cmd_req *rq,
		       struct pollfd *pfd, size_t *n, size_t max, size_t slot);
/* After poll: pipes -> bands in s->out, payload -> stdin, reaping. */
void cmd_exec_event(struct cmd_state *st, struct cmd_req *rq, int kind,
		    short revents, uint64_t now);
/* Time limits and the kill grace. */
void cmd_exec_timers(struct cmd_state *st, struct cmd_req *rq, uint64_t now);
uint64_t cmd_exec_deadline(const struct cmd_req *rq);
/* 1 when the child is reaped and its pipes are closed. */
int cmd_exec_done(const struct cmd_req *rq);
/* Queues DATA bytes (credit already checked). */
void cmd_exec_payload(struct cmd_state *st, struct cmd_req *rq,
		      const uint8_t *p, size_t n);
void cmd_exec_payload_eof(struct cmd_req *rq);
/* Sends pending WINDOW credit if s->out has room. */
void cmd_exec_grant(struct cmd_state *st, struct cmd_req *rq);
/* Releases fds and buffers; kills and reaps a child still running. */
void cmd_exec_free(struct cmd_req *rq);
/* Kills every process that left a command's group, but for the running
 * commands and their children (after cmd_exec_free). */
void cmd_exec_strays(struct cmd_state *st);

/*
 * ---- cmd_ssh.c: one request from SSH_ORIGINAL_COMMAND, as plain bytes ----
 *
 * Under an sshd forced command with a command line, the request is that
 * line split into words (cmd_ssh_split), stdin is its payload, its
 * stdout and stderr are ours, and our exit status is its own. The module
 * runs unchanged on private frame buffers; these functions translate.
 */
struct cmd_ssh;

/*
 * Splits line into words in buf (as large as line): blanks separate,
 * '...' is literal, "..." is literal but for \" and \\, a backslash
 * outside quotes takes the next byte as is; nothing else is special.
 * Returns the word count (at most max), or -1 with *why.
 */
int cmd_ssh_split(const char *line, char *buf, char **argv, size_t max,
		  const char **why);
/* Sets up the mode for line: 0, or an exit code after a message. */
int cmd_ssh_start(struct cmd_state *st, const char *line);
void cmd_ssh_free(struct cmd_state *st);
/* Plain stdin -> DATA/EOF frames into st->in. */
void cmd_ssh_input(struct cmd_state *st);
/* Frames in st->out -> stdout bytes and stderr; an exit code when done. */
int cmd_ssh_output(struct cmd_state *st);

#endif
