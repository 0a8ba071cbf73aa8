/*
 * The shared harness of msgpipe's engine tests (test_msgpipe_engine_*.c):
 * two engines joined by a simulated link (latency, loss, duplication,
 * reordering) and driven by a fake clock, each with a fake child that
 * writes a known pattern and keeps what it reads.
 *
 * Linked into the test_msgpipe_engine_* binaries (UNIT_SUPPORT in the
 * Makefile). Every public name carries the engt_ prefix, so none can meet
 * a test's own names or another fixture's.
 */
#ifndef SUPPORT_MSGPIPE_ENGINE_H
#define SUPPORT_MSGPIPE_ENGINE_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct engt_side {
	struct engine e;
	uint8_t *src;      /* what the child writes */
	size_t src_len, fed;
	enum msg_eof eof;  /* how the child's output ends */
	int eof_given;
	uint8_t *dst;      /* what the child read */
	size_t got, dst_cap;
	int closed;        /* the child closed its input */
	int stalled;       /* the child does not read */
	int exited;        /* model_exit: engine_may_exit() said so */
	uint64_t exit_at;
};

/* A message on its way; only the harness looks inside. */
struct engt_pkt;

struct engt_sim {
	struct engt_side s[2];
	struct engt_pkt *q;
	size_t nq;
	uint64_t now;
	unsigned seq;
	/* link behaviour: every Nth message (0 = never) */
	unsigned drop_every, dup_every, delay_every;
	uint64_t latency;
	int cut;           /* nothing goes through any more */
	int cut_to;        /* only messages to side 0 go through... */
	unsigned sent[2];
	/* Targeted loss: a message from side `from` is dropped when this
	 * returns 1 (ctx is drop_ctx). */
	int (*drop)(void *ctx, int from, const struct msg *msg);
	void *drop_ctx;
	/* Each side stops as msgpipe's loop does once engine_may_exit():
	 * it neither sends nor receives again, and engt_step returns 1
	 * when both have stopped (else when both engines are done). */
	int model_exit;
};

/*
 * Side 0 (the client) will write a_len bytes, side 1 (the server) b_len;
 * the clock starts at 1000 s, the link's latency is 100 us.
 */
void engt_init(struct engt_sim *m, size_t a_len, size_t b_len);
void engt_free(struct engt_sim *m);
/* The child of side s writes what the engine takes and reads what it has. */
void engt_side_io(struct engt_sim *m, struct engt_side *s);
/*
 * Delivers what is due, runs both sides once, then moves the clock to the
 * next event. 1 when both engines are done, 0 while running, -1 - i when
 * side i gave up.
 */
int engt_step(struct engt_sim *m);
/* Runs until both engines are done; returns the step result. */
int engt_run(struct engt_sim *m, uint64_t limit);

#endif
