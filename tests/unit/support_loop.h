/*
 * The shared harness of the loop unit tests (test_loop_*.c): handler's
 * poll loop (handler/core/loop.c, plain transport) driven with fake protocol
 * modules standing in for sftp/cmd. The client's side is a socketpair, a
 * dup'd socket (as inetd hands it over) or two pipes. loop_run() blocks
 * this process, so when bytes must flow both ways at once the client is a
 * forked child that reports through its exit status. Every test arms
 * alarm() (in loopt_fix_init) so a hang ends it, also under CK_FORK=no.
 *
 * This file is linked into every unit binary (see UNIT_SUPPORT in the
 * Makefile), so every public name carries the loopt_ prefix.
 */
#ifndef SUPPORT_LOOP_H
#define SUPPORT_LOOP_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "core.h"

#define LOOPT_MIB (1024u * 1024u)

/* A position-dependent byte, so reordered or lost bytes show. */
uint8_t loopt_pat(size_t i);
void loopt_pat_fill(uint8_t *b, size_t off, size_t n);

/*
 * What the fake modules are told and what they saw. One global, reset by
 * loopt_fix_init, because the forked client and the checks both read it.
 */
struct loopt_fake {
	int start_code;       /* start() returns this */
	int code;             /* what the module ends with */
	int starts, inputs, finishes, events_calls;
	int late_inputs;      /* input() after the module asked to end */
	int ended;
	int saw_eof;
	int saw_truncated;    /* s->in_truncated at an input() (tail) */
	int saw_full;         /* s->in and s->out both full at one input() */
	int notify_fd;        /* gets one byte when saw_full is first set */
	int notify_failed;
	size_t consumed;
	int triggered;        /* the tail is being sent */
	size_t tail, tail_left;
	int busy;             /* idle() reports pending work */
	uint64_t next, period;  /* module timer */
	int ticks, max_ticks, early;
	int extra_fd;         /* the module's own fd for pollfds() */
};
extern struct loopt_fake loopt_fk;

/* Copies s->in to s->out as far as s->out has room. */
extern const struct protocol loopt_echo_proto;
/*
 * Swallows input up to and including a '!', or to EOF; then sends
 * loopt_fk.tail pattern bytes and ends with loopt_fk.code. Bytes after the
 * '!' stay unconsumed. Small queues: a 1 MiB tail needs many refills.
 */
extern const struct protocol loopt_tail_proto;
/* Ignores input; its timer (period, max_ticks) writes "tick\n" lines. */
extern const struct protocol loopt_tick_proto;
/* Forwards extra_fd's bytes as "ev:..."; its EOF ends with code. */
extern const struct protocol loopt_ev_proto;
/* input() returns code at once. */
extern const struct protocol loopt_bad_proto;

/* One session: conf, struct session, struct loop. */
struct loopt_fix {
	struct conf conf;
	struct session s;
	struct loop l;
	uint64_t ms;          /* loop_init to loop_run's return */
};
extern struct loopt_fix loopt_fx;
/* What the loop wrote to stderr during loopt_run. */
extern char loopt_logged[16384];

void loopt_fix_init(const char *conf_text);
/* loop_init and loop_run with stderr captured; the session's exit code. */
int loopt_run(const struct protocol *p, int fd_in, int fd_out);
/* The same over the secure layer: sec is the server's (the loop frees
 * nothing of it; the caller does after loopt_fix_free). */
int loopt_run_secure(const struct protocol *p, int fd_in, int fd_out,
		     struct secure *sec);
void loopt_fix_free(void);

/* The client's side. */
enum { LOOPT_ONE_SOCKET, LOOPT_DUP_SOCKET, LOOPT_PIPES, LOOPT_NKINDS };

struct loopt_ends {
	int in, out;          /* the loop's fd_in and fd_out */
	int w, r;             /* the client's writing and reading ends */
};

void loopt_ends_open(struct loopt_ends *e, int kind);
/* Closes both, once if they are the same fd; sets both to -1. */
void loopt_close_two(int *a, int *b);
/* The client is done sending: EOF for the loop, its reading side open. */
void loopt_half_close(struct loopt_ends *e);

/* Runs in the forked client; the return value is its exit status. */
typedef int (*loopt_client_fn)(struct loopt_ends *e, const void *arg);
/* Each side keeps only its own ends. */
pid_t loopt_client_fork(struct loopt_ends *e, loopt_client_fn fn,
			const void *arg);
/* The client's exit status, or 128 + the signal that ended it. */
int loopt_client_wait(pid_t pid);

/* Reads what the loop sent until EOF (the loop shut its side down). */
void loopt_expect_output(int fd, const char *want);
int loopt_is_nonblocking(int fd);

/* Runs the suite logging as prog; the exit status for main(). */
int loopt_main(Suite *s, const char *prog);

#endif
