/*
 * The reliability engine: both stream directions, acknowledgements,
 * probes, timers and the rules for giving up and finishing. It does no
 * I/O and reads no clock: the loop passes `now` (monotonic ns) into every
 * call, feeds it incoming messages and child output, and asks it for
 * outgoing messages and its next deadline. Unit tests drive it the same
 * way with a fake clock.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "message.h"
#include "receiver.h"
#include "sender.h"

enum engine_role { ROLE_SERVER = 0, ROLE_CLIENT = 1, ROLE_CLIENT_FIRST = 2 };

struct engine_cfg {
	enum engine_role role;
	size_t sendbuf;
	size_t recvbuf;
	uint64_t giveup_ns;    /* silence with something outstanding */
	uint64_t keepalive_ns; /* silence before an idle probe */
};

/* ENGINE_VIOLATION: the peer contradicted its own stream (data past its
 * EOF, an EOF before bytes it already sent); the connection is over. */
enum engine_status { ENGINE_RUNNING, ENGINE_GIVEUP, ENGINE_DONE,
		     ENGINE_VIOLATION };

struct engine {
	struct engine_cfg cfg;
	struct sender snd;
	struct receiver rcv;
	uint64_t start;
	uint32_t next_id;
	int peer_spoke;
	int we_spoke;
	uint64_t last_heard;
	/* acknowledgements we owe */
	uint32_t ack_id;
	unsigned ack_count;
	int ack_now;
	uint64_t ack_due;
	/* probe: a data-less message that must be acknowledged */
	int probe_active;
	uint32_t probe_id;
	uint64_t probe_at;
	unsigned probe_tries;
	uint64_t hello_at;        /* client: empty first message due */
	uint64_t eof_unacked_at;  /* all but our EOF acked, peer finished */
	int eof_given_up;
	/* Teardown (docs/msgpipe.md, "Finishing"). Once done we send a
	 * *done probe* (a data-less message with an id, carrying our whole
	 * acknowledgement) until the peer acknowledges it or one after it:
	 * then it has our final acks and knows we are done (fin_acked). A
	 * probe from the peer after its EOF says the same of the peer
	 * (peer_settled): msgpipe probes only with nothing outstanding. */
	uint32_t done_probe_id;
	int fin_acked;
	int peer_settled;
	int failure_logged;
	/* The peer contradicted its stream's EOF: no byte it sends can be
	 * trusted to belong to the stream any more (engine_tick ends it). */
	int violation;
	/* The peer pads its messages like curvecpmessage, whose 64-message
	 * input queue overflows under a burst: keep few messages in flight. */
	int legacy_peer;
	/* statistics */
	uint64_t msgs_in, msgs_out, bad_in, acks_out;
};

#define ENGINE_ACK_EVERY 8
#define ENGINE_ACK_DELAY (1000ULL * 1000)  /* 1 ms */
#define ENGINE_PACE_BATCH 8                /* messages per paced wake-up */
#define ENGINE_LEGACY_WINDOW (24 * 1024)   /* in flight to a padding peer */

int engine_init(struct engine *e, const struct engine_cfg *cfg, uint64_t now);
void engine_free(struct engine *e);

#define ENGINE_BAD_LOGGED 10
/* Counts (and logs, the first few) a refused input. */
void engine_refused(struct engine *e, const char *why);

/* One message from fd 8 (without its length byte). Returns 0 if accepted,
 * -1 if refused (logged, dropped); a refusal for data inconsistent with
 * the stream's EOF also makes engine_tick() return ENGINE_VIOLATION. */
int engine_input(struct engine *e, uint64_t now, const uint8_t *p, size_t n);

/*
 * The next frame (length byte + message) to write to fd 9, if one is due
 * now; returns its size or 0. cap must be at least MSG_FRAME_MAX.
 */
size_t engine_output(struct engine *e, uint64_t now, uint8_t *out,
		     size_t cap);

/* Timers; call before engine_output. */
enum engine_status engine_tick(struct engine *e, uint64_t now);
/* Earliest time engine_tick/engine_output have something to do; 0: none. */
uint64_t engine_deadline(struct engine *e, uint64_t now);

/* Both directions finished (the linger for final acks is not included). */
int engine_done(const struct engine *e);
/*
 * After engine_done: when the linger ends. At once when the peer has
 * acknowledged our done probe or sent its own (it needs nothing more from
 * us); otherwise once the peer has been quiet for engine_linger_quiet().
 */
uint64_t engine_linger_until(const struct engine *e);
/* The quiet period that ends a linger without that proof. */
uint64_t engine_linger_quiet(const struct engine *e);
/* Done, no acknowledgement owed, linger over: the engine may stop. */
int engine_may_exit(const struct engine *e, uint64_t now);

/* Child side. */
static inline struct sendq *engine_sendq(struct engine *e)
{
	return &e->snd.q;
}
void engine_child_eof(struct engine *e, enum msg_eof how);
/* What may be written to the child now. */
int engine_child_data(const struct engine *e, struct iovec iov[2]);
void engine_child_wrote(struct engine *e, size_t n);
void engine_child_closed(struct engine *e);
/* The peer's EOF kind once every byte before it was consumed. */
enum msg_eof engine_peer_eof(const struct engine *e);

#endif
