#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "exitcode.h"
#include "fdutil.h"
#include "log.h"
#include "proc.h"

#define INBUF_SIZE (128 * 1024)
/* About one pipe's worth: enough to batch, small enough that messages do
 * not wait in our own queue and inflate the RTT. */
#define OUTBUF_SIZE (64 * 1024)
#define EOF_GRACE (50ULL * NS_PER_MS)

struct mp_loop {
	struct engine eng;
	struct proc child;
	int net_in, net_out;
	int from_child;        /* the child's stdout (or fd 7) */
	int to_child;          /* the child's stdin (or fd 6) */
	struct buf in, out;
	uint64_t eof_grace_at; /* the child's output ended; waiting on exit */
	int exit_code;         /* set when the loop must stop now */
	/* Readiness from the last poll: no syscall on an fd known idle. */
	int net_in_ready, child_out_ready, child_in_blocked, net_out_blocked;
	int child_exit_ready;
};

static int make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	return 0;
}

static int spawn_child(struct mp_loop *l, enum engine_role role,
		       char *const argv[])
{
	int in[2], out[2];
	int client = role != ROLE_SERVER;
	struct proc_fdmap map[4] = {
		{ client ? 6 : 0, -1 },
		{ client ? 7 : 1, -1 },
		{ 8, -1 },
		{ 9, -1 },
	};

	if (make_pipe(in) < 0)
		return -1;
	if (make_pipe(out) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	map[0].parent_fd = in[0];
	map[1].parent_fd = out[1];
	if (proc_spawn(&l->child, argv, NULL, map, 4) < 0) {
		int e = errno;

		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		errno = e;
		return -1;
	}
	close(in[0]);
	close(out[1]);
	l->to_child = in[1];
	l->from_child = out[0];
	fd_nonblock(l->to_child);
	fd_nonblock(l->from_child);
	return 0;
}

/* Complete frames leave the input buffer one by one, copied out first. */
static void parse_input(struct mp_loop *l, uint64_t now)
{
	uint8_t msg[MSG_MAX];

	while (buf_len(&l->in) >= 1) {
		const uint8_t *p = buf_data(&l->in);
		size_t n = (size_t)p[0] * 16;

		if (p[0] == 0 || n > MSG_MAX) {
			/* The framing is lost: skip a byte and resync on
			 * whatever validates next. */
			engine_refused(&l->eng, "bad length byte");
			buf_consume(&l->in, 1);
			continue;
		}
		if (buf_len(&l->in) < 1 + n)
			break;
		memcpy(msg, p + 1, n);
		buf_consume(&l->in, 1 + n);
		engine_input(&l->eng, now, msg, n);
	}
}

static void read_net(struct mp_loop *l, uint64_t now)
{
	for (;;) {
		ssize_t r;

		if (buf_room(&l->in) == 0) /* cannot happen: frames fit */
			buf_clear(&l->in);
		if (!l->net_in_ready)
			return;
		size_t room = buf_room(&l->in);

		r = buf_read_fd(&l->in, l->net_in);
		if (r > 0) {
			parse_input(l, now);
			/* A short read drained the pipe: poll says when
			 * there is more, saving a read that would fail. */
			if ((size_t)r < room) {
				l->net_in_ready = 0;
				return;
			}
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			l->net_in_ready = 0;
			return;
		}
		if (r < 0)
			log_error("unable to read from fd %d: %s", l->net_in,
				  strerror(errno));
		else if (!engine_done(&l->eng))
			log_error("fd %d closed before the end of the "
				  "connection", l->net_in);
		fd_close(&l->net_in);
		if (!engine_done(&l->eng))
			l->exit_code = EXIT_TEMP;
		return;
	}
}

static void child_output_ended(struct mp_loop *l, uint64_t now, int failed)
{
	fd_close(&l->from_child);
	if (failed) {
		engine_child_eof(&l->eng, MSG_EOF_FAIL);
		return;
	}
	/* Its exit status decides the kind of EOF, if it comes soon. */
	l->eof_grace_at = now + EOF_GRACE;
}

static void read_child(struct mp_loop *l, uint64_t now)
{
	struct sendq *q = engine_sendq(&l->eng);

	while (l->from_child >= 0 && l->child_out_ready) {
		struct iovec iov[2];
		int n = sendq_space(q, iov);
		size_t room = sendq_room(q);
		ssize_t r;

		if (n == 0)
			return;
		r = readv(l->from_child, iov, n);
		if (r > 0) {
			sendq_commit(q, (size_t)r);
			if ((size_t)r < room)
				l->child_out_ready = 0;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			l->child_out_ready = 0;
			return;
		}
		if (r < 0)
			log_warn("unable to read the program's output: %s",
				 strerror(errno));
		child_output_ended(l, now, r < 0);
	}
}

static void decide_eof(struct mp_loop *l, uint64_t now)
{
	int bad;

	if (!l->eof_grace_at)
		return;
	if (l->child.reaped) {
		bad = !WIFEXITED(l->child.status) ||
		      WEXITSTATUS(l->child.status) != 0;
		engine_child_eof(&l->eng, bad ? MSG_EOF_FAIL : MSG_EOF_OK);
		if (bad)
			log_info("program failed: sending failure EOF");
		l->eof_grace_at = 0;
	} else if (now >= l->eof_grace_at) {
		engine_child_eof(&l->eng, MSG_EOF_OK);
		l->eof_grace_at = 0;
	}
}

static void write_child(struct mp_loop *l)
{
	struct iovec iov[2];
	int n;

	while (l->to_child >= 0 && !l->child_in_blocked &&
	       (n = engine_child_data(&l->eng, iov))) {
		size_t want = iov[0].iov_len + (n > 1 ? iov[1].iov_len : 0);
		ssize_t w = writev(l->to_child, iov, n);

		if (w > 0) {
			engine_child_wrote(&l->eng, (size_t)w);
			/* A short write filled the pipe. */
			if ((size_t)w < want)
				l->child_in_blocked = 1;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			l->child_in_blocked = 1;
			return;
		}
		if (errno != EPIPE)
			log_warn("unable to write to the program: %s",
				 strerror(errno));
		fd_close(&l->to_child);
		engine_child_closed(&l->eng);
	}
	if (l->to_child >= 0 && engine_peer_eof(&l->eng) != MSG_EOF_NONE)
		fd_close(&l->to_child);
	if (l->to_child < 0)
		engine_child_closed(&l->eng);
}

static void reap_child(struct mp_loop *l)
{
	if (l->child.reaped || (l->child.pidfd >= 0 && !l->child_exit_ready))
		return;
	l->child_exit_ready = 0;
	if (proc_reap(&l->child, 0) < 0 && errno != EINTR)
		l->child.reaped = 1; /* not ours any more: stop waiting */
}

static void fill_output(struct mp_loop *l, uint64_t now)
{
	for (;;) {
		uint8_t *p = buf_reserve(&l->out, MSG_FRAME_MAX);
		size_t n;

		if (!p)
			return;
		n = engine_output(&l->eng, now, p, MSG_FRAME_MAX);
		if (!n)
			return;
		buf_commit(&l->out, n);
	}
}

static void write_net(struct mp_loop *l)
{
	while (l->net_out >= 0 && !l->net_out_blocked && buf_len(&l->out)) {
		size_t want = buf_len(&l->out);
		ssize_t w = buf_write_fd(&l->out, l->net_out);

		if (w > 0) {
			if ((size_t)w < want)
				l->net_out_blocked = 1;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			l->net_out_blocked = 1;
			return;
		}
		log_error("unable to write to fd %d: %s", l->net_out,
			  strerror(errno));
		fd_close(&l->net_out);
		l->exit_code = EXIT_TEMP;
		return;
	}
}

static int finished(struct mp_loop *l, uint64_t now)
{
	if (!engine_done(&l->eng) || !l->child.reaped || l->to_child >= 0 ||
	    l->from_child >= 0 || buf_len(&l->out))
		return 0;
	/* Linger until the peer has our final acks: they may be lost. With
	 * fd 8 closed nothing more can come. */
	return engine_may_exit(&l->eng, now) ||
	       (l->net_in < 0 && !l->eng.ack_now && !l->eng.ack_due);
}

static int poll_timeout_ns(struct mp_loop *l, uint64_t now, struct timespec *ts)
{
	uint64_t d = engine_deadline(&l->eng, now);

	if (l->eof_grace_at && (!d || l->eof_grace_at < d))
		d = l->eof_grace_at;
	if (engine_done(&l->eng)) {
		uint64_t t = engine_linger_until(&l->eng);

		if (!d || t < d)
			d = t;
	}
	if (!d)
		return 0;
	d = d > now ? d - now : 0;
	ts->tv_sec = (time_t)(d / NS_PER_SEC);
	ts->tv_nsec = (long)(d % NS_PER_SEC);
	return 1;
}

static void note_ready(struct mp_loop *l, const struct pollfd *pf, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++) {
		if (!pf[i].revents)
			continue;
		if (pf[i].fd == l->net_in)
			l->net_in_ready = 1;
		else if (pf[i].fd == l->net_out)
			l->net_out_blocked = 0;
		else if (pf[i].fd == l->from_child)
			l->child_out_ready = 1;
		else if (pf[i].fd == l->to_child)
			l->child_in_blocked = 0;
		else if (pf[i].fd == l->child.pidfd)
			l->child_exit_ready = 1;
	}
}

static void wait_events(struct mp_loop *l, uint64_t now)
{
	struct pollfd pf[5];
	struct timespec ts;
	nfds_t n = 0;
	int timed = poll_timeout_ns(l, now, &ts);
	int r;

	if (l->net_in >= 0)
		pf[n++] = (struct pollfd){ l->net_in, POLLIN, 0 };
	if (l->net_out >= 0 && buf_len(&l->out))
		pf[n++] = (struct pollfd){ l->net_out, POLLOUT, 0 };
	if (l->from_child >= 0 && sendq_room(engine_sendq(&l->eng)))
		pf[n++] = (struct pollfd){ l->from_child, POLLIN, 0 };
	if (l->to_child >= 0) {
		struct iovec iov[2];

		if (engine_child_data(&l->eng, iov))
			pf[n++] = (struct pollfd){ l->to_child, POLLOUT, 0 };
	}
	if (!l->child.reaped && l->child.pidfd >= 0)
		pf[n++] = (struct pollfd){ l->child.pidfd, POLLIN, 0 };
	if (!l->child.reaped && l->child.pidfd < 0 && !timed) {
		/* No pidfd: look for the exit every 100 ms. */
		ts.tv_sec = 0;
		ts.tv_nsec = 100 * 1000 * 1000;
		timed = 1;
	}
	r = ppoll(pf, n, timed ? &ts : NULL, NULL);
	if (r < 0 && errno != EINTR)
		log_die_sys(EXIT_TEMP, "poll failed");
	if (r > 0)
		note_ready(l, pf, n);
}

static int exit_status(struct mp_loop *l)
{
	int code = proc_exit_code(l->child.status);

	if (l->eng.rcv.eof == MSG_EOF_FAIL && code == 0) {
		log_error("exiting 111: the peer's stream ended in failure");
		return EXIT_TEMP;
	}
	return code;
}

static void log_stats(const struct mp_loop *l)
{
	const struct engine *e = &l->eng;

	log_info("sent %llu bytes (%llu retransmissions), received %llu "
		 "bytes (%llu duplicate, %llu dropped), %llu messages in "
		 "(%llu refused), %llu out, srtt %llu us, %llu loss events, "
		 "%llu timeouts (%llu undone as spurious)",
		 (unsigned long long)e->snd.acked_bytes,
		 (unsigned long long)e->snd.retransmits,
		 (unsigned long long)e->rcv.bytes,
		 (unsigned long long)e->rcv.dups,
		 (unsigned long long)e->rcv.dropped,
		 (unsigned long long)e->msgs_in,
		 (unsigned long long)e->bad_in,
		 (unsigned long long)e->msgs_out,
		 (unsigned long long)(e->snd.cc.srtt / 1000),
		 (unsigned long long)e->snd.cc.losses,
		 (unsigned long long)e->snd.cc.timeouts,
		 (unsigned long long)e->snd.cc.undos);
}

static int run(struct mp_loop *l)
{
	for (;;) {
		uint64_t now = clock_now();

		if (l->net_in >= 0)
			read_net(l, now);
		read_child(l, now);
		reap_child(l);
		decide_eof(l, now);
		write_child(l);
		if (l->exit_code)
			return l->exit_code;
		switch (engine_tick(&l->eng, now)) {
		case ENGINE_GIVEUP:
			log_error("giving up: no message from the peer for "
				  "%.3g s %s", (double)l->eng.cfg.giveup_ns / 1e9,
				  l->eng.peer_spoke ? "with data outstanding"
						    : "since the start");
			return EXIT_TEMP;
		case ENGINE_VIOLATION:
			log_error("giving up: the peer sent data past or "
				  "against its stream's end");
			return EXIT_TEMP;
		case ENGINE_DONE:
		case ENGINE_RUNNING:
			break;
		}
		fill_output(l, now);
		write_net(l);
		if (l->exit_code)
			return l->exit_code;
		if (finished(l, now))
			return exit_status(l);
		wait_events(l, now);
	}
}

int mp_loop_run(const struct mp_loop_cfg *cfg, char *const argv[])
{
	struct mp_loop l;
	int code;

	memset(&l, 0, sizeof l);
	l.net_in = cfg->net_in;
	l.net_out = cfg->net_out;
	l.from_child = l.to_child = -1;
	l.net_in_ready = l.child_out_ready = 1;
	signal(SIGPIPE, SIG_IGN);
	if (fd_nonblock(l.net_in) < 0 || fd_nonblock(l.net_out) < 0)
		log_die_sys(EXIT_TEMP, "fds 8 and 9 must be open");
	if (buf_init(&l.in, INBUF_SIZE) < 0 || buf_init(&l.out, OUTBUF_SIZE) < 0)
		log_die(EXIT_TEMP, "out of memory");
	if (engine_init(&l.eng, &cfg->eng, clock_now()) < 0)
		log_die(EXIT_TEMP, "out of memory for buffers");
	if (spawn_child(&l, cfg->eng.role, argv) < 0)
		log_die_sys(EXIT_TEMP, "unable to run %s", argv[0]);
	code = run(&l);
	log_stats(&l);
	/* A child still running sees EOF on its pipes once we are gone. */
	engine_free(&l.eng);
	buf_free(&l.in);
	buf_free(&l.out);
	proc_release(&l.child);
	return code;
}
