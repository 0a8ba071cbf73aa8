/*
 * lossylink: a fake curvecpserver/curvecpclient pair for message handlers.
 *
 *   lossylink [-s seed] [-l loss%] [-d dup%] [-r reorder%] [-D delay_ms]
 *             [-J jitter_ms] [-Q queue_msgs] [-t seconds] [-o statusfile]
 *             [-T tracefile] [-A] [-v] -- SERVER-CMD... -- CLIENT-CMD...
 *
 * Both commands get pipes on fds 8 (messages in) and 9 (messages out),
 * non-blocking as curvecpserver leaves them. Each message (length byte n,
 * 1..68, then 16n bytes) read from one side's fd 9 is forwarded whole to
 * the other side's fd 8, after seeded impairments: loss, duplication,
 * reordering (an extra random hold so later messages overtake), a fixed
 * delay plus jitter, and a bounded queue per direction (tail drop, like a
 * router). A message that does not fit in the receiver's pipe is dropped,
 * as the message API allows.
 *
 * As with curvecpserver, the server starts only when the client's first
 * message arrives, and client messages longer than 40 blocks are dropped
 * (with a warning) until the server has spoken. A bad length byte is a
 * protocol violation: logged, that side's output is no longer read, and
 * lossylink fails.
 *
 * -A rewrites the "acknowledged message id" field to 0 when a side repeats
 * the id it acknowledged last (curvecpmessage takes an RTT sample from every
 * message naming an id, so repeats may upset it; this isolates that).
 * -T writes one line per message read: direction, header fields, and what
 * the link did with it (for diagnosing a stalled transfer).
 *
 * Exit: 0 when both commands exited 0 and no violation was seen, 124 when
 * the time limit (-t, default 120 s) killed them, 1 otherwise. The
 * statusfile gets "SERVER CLIENT\n": exit codes, 128+signal, -1 if never
 * started.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linkqueue.h"

#include "buf.h"
#include "bytes.h"
#include "clock.h"
#include "exitcode.h"
#include "fdutil.h"
#include "log.h"
#include "proc.h"
#include "wire.h"

#define MSG_MAX_BLOCKS 68
#define INITIATE_MAX_BLOCKS 40
#define READ_BUF 65536

struct impair {
	double loss, dup, reorder; /* probabilities 0..1 */
	uint64_t delay_ns, jitter_ns;
	uint64_t rng;
};

struct side {
	const char *name;
	char **argv;
	struct proc p;
	int to8, from9;   /* our ends; -1 once closed */
	int started, done;
	int code;         /* exit code, 128+signal, -1 never started */
	int violation;
	struct buf in;    /* bytes from fd 9 not yet framed */
};

struct stats {
	unsigned long msgs, lost, dup, reordered, overflow, pipefull, dead, early;
	unsigned long long data;
};

struct link {
	struct impair imp;
	struct side side[2];  /* 0 server, 1 client */
	struct lq q[2];       /* q[i]: messages travelling to side i */
	struct stats st[2];   /* st[i]: messages sent by side i */
	int server_spoke;
	uint64_t deadline;
	const char *statusfile;
	FILE *trace;
	int dedup_acks;
	uint32_t last_acked[2];
};

static uint64_t rng_next(struct impair *m)
{
	/* xorshift64*: seeded, reproducible, plenty for test impairments. */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 2685821657736338717ULL;
}

static int rng_hit(struct impair *m, double prob)
{
	return prob > 0 && (double)(rng_next(m) >> 11) / 9007199254740992.0 < prob;
}

static uint64_t rng_below(struct impair *m, uint64_t n)
{
	return n ? rng_next(m) % n : 0;
}

static void usage(void)
{
	log_die(EXIT_PERM,
		"usage: lossylink [-s seed] [-l loss%%] [-d dup%%] [-r reorder%%] "
		"[-D delay_ms] [-J jitter_ms] [-Q queue_msgs] [-t seconds] "
		"[-o statusfile] [-T tracefile] [-A] [-v] -- SERVER... -- CLIENT...");
}

static double percent(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || v < 0 || v > 100)
		usage();
	return v / 100;
}

static void split_commands(struct link *l, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc && strcmp(argv[i], "--"); i++)
		;
	if (i == 0 || i >= argc - 1)
		usage();
	argv[i] = NULL;
	l->side[0].argv = argv;
	l->side[1].argv = argv + i + 1;
}

static void parse_args(struct link *l, size_t *qmax, int argc, char **argv)
{
	unsigned long long seed = 1;
	unsigned timeout = 120;
	int c;

	while ((c = getopt(argc, argv, "s:l:d:r:D:J:Q:t:o:T:Av")) != -1) {
		switch (c) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'l': l->imp.loss = percent(optarg); break;
		case 'd': l->imp.dup = percent(optarg); break;
		case 'r': l->imp.reorder = percent(optarg); break;
		case 'D': l->imp.delay_ns = strtoull(optarg, NULL, 10) * NS_PER_MS; break;
		case 'J': l->imp.jitter_ns = strtoull(optarg, NULL, 10) * NS_PER_MS; break;
		case 'Q': *qmax = strtoul(optarg, NULL, 10); break;
		case 't': timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'o': l->statusfile = optarg; break;
		case 'A': l->dedup_acks = 1; break;
		case 'T':
			l->trace = fopen(optarg, "w");
			if (!l->trace)
				log_die_sys(EXIT_TEMP, "cannot open %s", optarg);
			break;
		case 'v': log_set_level(LOG_DEBUG); break;
		default: usage();
		}
	}
	if (*qmax == 0 || timeout == 0)
		usage();
	l->imp.rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	l->deadline = clock_now() + timeout * NS_PER_SEC;
	split_commands(l, argc - optind, argv + optind);
}

/*
 * Fills fds 3..9 with close-on-exec /dev/null so that every pipe, ours and
 * proc_spawn's exec-error pipe, lands above the children's 8 and 9
 * (an error pipe on fd 8 would be overwritten by the fd mapping).
 */
static void reserve_low_fds(void)
{
	for (;;) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			log_die_sys(EXIT_TEMP, "open /dev/null");
		if (fd > 9) {
			close(fd);
			return;
		}
	}
}

static void side_start(struct side *s)
{
	int p8[2], p9[2];
	struct proc_fdmap map[2];

	if (pipe2(p8, O_CLOEXEC) < 0 || pipe2(p9, O_CLOEXEC) < 0)
		log_die_sys(EXIT_TEMP, "pipe");
	map[0] = (struct proc_fdmap){ 8, p8[0] };
	map[1] = (struct proc_fdmap){ 9, p9[1] };
	if (proc_spawn(&s->p, s->argv, NULL, map, 2) < 0)
		log_die_sys(EXIT_TEMP, "cannot run %s", s->argv[0]);
	/* proc_spawn hands blocking fds over; curvecpserver's are not. */
	fd_nonblock(p8[0]);
	fd_nonblock(p9[1]);
	close(p8[0]);
	close(p9[1]);
	s->to8 = p8[1];
	s->from9 = p9[0];
	fd_nonblock(s->to8);
	fd_nonblock(s->from9);
	s->started = 1;
	log_debug("%s started, pid %d", s->name, (int)s->p.pid);
}

/* Queues one message towards side `to`, with the impairments applied. */
static const char *impair_enqueue(struct link *l, int to, const uint8_t *msg,
				  size_t len, uint64_t now)
{
	struct impair *m = &l->imp;
	struct stats *st = &l->st[!to];
	uint64_t due = now + m->delay_ns + rng_below(m, m->jitter_ns + 1);
	int copies = 1;
	const char *fate = "sent";

	if (rng_hit(m, m->loss)) {
		st->lost++;
		return "lost";
	}
	if (rng_hit(m, m->reorder)) {
		/* Held long enough that several later messages overtake. */
		uint64_t hold = m->delay_ns > 5 * NS_PER_MS ? m->delay_ns
							     : 5 * NS_PER_MS;
		due += 1 + rng_below(m, 2 * hold);
		st->reordered++;
		fate = "held";
	}
	if (rng_hit(m, m->dup)) {
		copies = 2;
		st->dup++;
		fate = "dup";
	}
	for (int i = 0; i < copies; i++) {
		uint64_t extra = i ? rng_below(m, 2 * NS_PER_MS) : 0;

		if (lq_push(&l->q[to], due + extra, msg, len) < 0) {
			st->overflow++;
			fate = "queue-full";
		}
	}
	return fate;
}

/* Data bytes and flags from the 48-byte header (for counting only). */
static void account(struct stats *st, const uint8_t *body, size_t len)
{
	struct rd r;
	uint16_t dflags;

	rd_init(&r, body, len);
	if (rd_skip(&r, 38) < 0 || rd_le16(&r, &dflags) < 0)
		return;
	st->data += dflags & 2047;
}

/* One trace line: the header fields as the CurveCP message format has them. */
static void trace_msg(struct link *l, int from, const uint8_t *body,
		      size_t len, const char *fate, uint64_t now)
{
	struct rd r;
	uint32_t id, acked, gap1;
	uint64_t range1, pos;
	uint16_t f[10], dflags;

	if (!l->trace)
		return;
	rd_init(&r, body, len);
	rd_le32(&r, &id);
	rd_le32(&r, &acked);
	rd_le64(&r, &range1);
	rd_le32(&r, &gap1);
	for (int i = 0; i < 9; i++)
		rd_le16(&r, &f[i]);
	rd_le16(&r, &dflags);
	rd_le64(&r, &pos);
	if (!rd_ok(&r)) {
		fprintf(l->trace, "%llu %s short %zu %s\n",
			(unsigned long long)(now / 1000), l->side[from].name,
			len, fate);
		return;
	}
	fprintf(l->trace,
		"%llu %s id=%u ack=%u r1=%llu g=%u r2=%u g=%u r3=%u g=%u r4=%u "
		"g=%u r5=%u g=%u r6=%u D=%u%s%s pos=%llu len=%zu %s\n",
		(unsigned long long)(now / 1000), l->side[from].name, id, acked,
		(unsigned long long)range1, gap1, f[0], f[1], f[2], f[3], f[4],
		f[5], f[6], f[7], f[8], dflags & 2047,
		dflags & 2048 ? " EOF" : "", dflags & 4096 ? " FAIL" : "",
		(unsigned long long)pos, len, fate);
}

/* -A: a repeated acknowledged id becomes 0 (in our copy of the message). */
static void dedup_ack(struct link *l, int from, uint8_t *msg, size_t len)
{
	uint32_t id;

	if (!l->dedup_acks || len < 1 + 8)
		return;
	id = le32_get(msg + 1 + 4);
	if (id && id == l->last_acked[from])
		le32_put(msg + 1 + 4, 0);
	else if (id)
		l->last_acked[from] = id;
}

/* Frames what side `from` wrote and queues it for the other side. */
static void frame_input(struct link *l, int from, uint64_t now)
{
	struct side *s = &l->side[from];

	for (;;) {
		struct rd r;
		uint8_t n;
		const uint8_t *body;

		rd_init(&r, buf_data(&s->in), buf_len(&s->in));
		if (rd_u8(&r, &n) < 0)
			return;
		if (n < 1 || n > MSG_MAX_BLOCKS) {
			log_error("%s wrote length byte %u: protocol violation",
				  s->name, n);
			s->violation = 1;
			fd_close(&s->from9);
			buf_clear(&s->in);
			return;
		}
		if (rd_view(&r, &body, 16 * (size_t)n) < 0)
			return;
		l->st[from].msgs++;
		account(&l->st[from], body, 16 * (size_t)n);
		if (from == 1 && !l->server_spoke && n > INITIATE_MAX_BLOCKS) {
			log_warn("client sent %u blocks before the server spoke "
				 "(limit %d): dropped", n, INITIATE_MAX_BLOCKS);
			l->st[from].early++;
			trace_msg(l, from, body, 16 * (size_t)n, "early", now);
		} else {
			const char *fate;
			uint8_t copy[LQ_MSG_MAX];

			if (from == 1 && !l->side[0].started)
				side_start(&l->side[0]);
			memcpy(copy, buf_data(&s->in), 1 + 16 * (size_t)n);
			dedup_ack(l, from, copy, 1 + 16 * (size_t)n);
			fate = impair_enqueue(l, !from, copy, 1 + 16 * (size_t)n,
					      now);
			trace_msg(l, from, body, 16 * (size_t)n, fate, now);
		}
		buf_consume(&s->in, 1 + 16 * (size_t)n);
	}
}

static void read_side(struct link *l, int from, uint64_t now)
{
	struct side *s = &l->side[from];
	ssize_t r = buf_read_fd(&s->in, s->from9);

	if (r < 0 && errno == EAGAIN)
		return;
	if (r <= 0) {
		if (buf_len(&s->in))
			log_warn("%s closed fd 9 inside a message", s->name);
		fd_close(&s->from9);
		return;
	}
	frame_input(l, from, now);
}

/* Writes every due message to side `to`; a full pipe drops the message. */
static void deliver(struct link *l, int to, uint64_t now)
{
	struct side *s = &l->side[to];
	const uint8_t *msg;
	size_t len;

	while (lq_peek(&l->q[to], now, &msg, &len)) {
		if (s->to8 < 0 || !s->started) {
			l->st[!to].dead++;
		} else if (write(s->to8, msg, len) != (ssize_t)len) {
			if (errno == EAGAIN)
				l->st[!to].pipefull++;
			else
				fd_close(&s->to8);
		} else if (to == 1) {
			l->server_spoke = 1;
		}
		lq_pop(&l->q[to]);
	}
}

static int wait_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

static void check_exit(struct side *s)
{
	if (!s->started || s->done || proc_reap(&s->p, 0) != 1)
		return;
	s->done = 1;
	s->code = wait_code(s->p.status);
	fd_close(&s->to8);
	log_debug("%s exited with %d", s->name, s->code);
}

static int all_done(const struct link *l)
{
	return l->side[1].done && (l->side[0].done || !l->side[0].started);
}

static int next_timeout(struct link *l, uint64_t now)
{
	uint64_t due = l->deadline;
	int t;

	for (int i = 0; i < 2; i++) {
		uint64_t d = lq_next_due(&l->q[i]);

		if (d && d < due)
			due = d;
	}
	t = clock_poll_timeout(now, due);
	/* Without pidfds, exits are noticed by polling every 50 ms. */
	for (int i = 0; i < 2; i++)
		if (l->side[i].started && l->side[i].p.pidfd < 0 && t > 50)
			t = 50;
	return t;
}

static void loop(struct link *l)
{
	while (!all_done(l)) {
		struct pollfd p[4];
		uint64_t now = clock_now();

		if (now >= l->deadline)
			return;
		for (int i = 0; i < 2; i++) {
			struct side *s = &l->side[i];

			p[2 * i] = (struct pollfd){ .fd = s->from9, .events = POLLIN };
			p[2 * i + 1] = (struct pollfd){
				.fd = s->started && !s->done ? s->p.pidfd : -1,
				.events = POLLIN
			};
		}
		if (poll(p, 4, next_timeout(l, now)) < 0 && errno != EINTR)
			log_die_sys(EXIT_TEMP, "poll");
		now = clock_now();
		for (int i = 0; i < 2; i++)
			if (p[2 * i].revents)
				read_side(l, i, now);
		for (int i = 0; i < 2; i++) {
			deliver(l, i, now);
			check_exit(&l->side[i]);
		}
	}
}

static void kill_all(struct link *l)
{
	for (int sig = SIGTERM; sig; sig = sig == SIGTERM ? SIGKILL : 0) {
		for (int i = 0; i < 2; i++)
			if (l->side[i].started && !l->side[i].done)
				proc_kill(&l->side[i].p, sig);
		for (int t = 0; t < 20 && !all_done(l); t++) {
			poll(NULL, 0, 50);
			check_exit(&l->side[0]);
			check_exit(&l->side[1]);
		}
	}
}

static void report(struct link *l)
{
	for (int i = 0; i < 2; i++) {
		struct stats *st = &l->st[i];

		log_info("%s: %lu msgs, %llu data bytes; lost %lu, dup %lu, "
			 "reordered %lu, queue full %lu, pipe full %lu, "
			 "undeliverable %lu, early %lu", l->side[i].name,
			 st->msgs, st->data, st->lost, st->dup, st->reordered,
			 st->overflow, st->pipefull, st->dead, st->early);
	}
	log_info("exit codes: server %d, client %d", l->side[0].code,
		 l->side[1].code);
	if (l->statusfile) {
		FILE *f = fopen(l->statusfile, "w");

		if (!f || fprintf(f, "%d %d\n", l->side[0].code,
				  l->side[1].code) < 0 || fclose(f) != 0)
			log_die_sys(EXIT_TEMP, "cannot write %s", l->statusfile);
	}
}

static void side_init(struct side *s, const char *name)
{
	s->name = name;
	s->to8 = s->from9 = -1;
	s->code = -1;
	s->p.pidfd = -1;
	if (buf_init(&s->in, READ_BUF) < 0)
		log_die(EXIT_TEMP, "out of memory");
}

int main(int argc, char **argv)
{
	struct link l = { 0 };
	size_t qmax = 4096;
	int timed_out, rc;

	log_init("lossylink");
	signal(SIGPIPE, SIG_IGN);
	reserve_low_fds();
	side_init(&l.side[0], "server");
	side_init(&l.side[1], "client");
	parse_args(&l, &qmax, argc, argv);
	if (lq_init(&l.q[0], qmax) < 0 || lq_init(&l.q[1], qmax) < 0)
		log_die(EXIT_TEMP, "out of memory");
	side_start(&l.side[1]);
	loop(&l);
	timed_out = !all_done(&l);
	if (timed_out) {
		log_error("time limit reached: killing both sides");
		kill_all(&l);
	}
	report(&l);
	rc = timed_out ? 124 : 0;
	if (!rc && (l.side[0].code || l.side[1].code || l.side[0].violation ||
		    l.side[1].violation))
		rc = 1;
	if (l.trace && fclose(l.trace) != 0)
		log_error("trace file: %s", strerror(errno));
	for (int i = 0; i < 2; i++) {
		fd_close(&l.side[i].to8);
		fd_close(&l.side[i].from9);
		proc_release(&l.side[i].p);
		buf_free(&l.side[i].in);
		lq_free(&l.q[i]);
	}
	return rc;
}
