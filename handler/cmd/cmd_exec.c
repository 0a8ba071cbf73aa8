/*
 * Configured commands as child processes: no shell, a clean environment,
 * stdin from the payload or /dev/null, stdout and stderr on non-blocking
 * pipes polled by the session loop, a time limit and an output limit.
 *
 * Back-pressure both ways: a pipe is read only while s->out has room for
 * a band frame, and the client may send only the payload bytes it was
 * granted (WINDOW), which never exceed the per-request buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cmd_priv.h"
#include "fdutil.h"
#include "log.h"
#include "reap.h"

enum { FD_IN = 0, FD_OUT = 1, FD_ERR = 2, FD_PID = 3 };

/* The smallest band worth a read: fewer bytes wait for the output. */
static size_t band_min(const struct session *s)
{
	size_t half = s->out.cap / 2;

	return half < CMD_HDR_LEN + 4096 ? half : CMD_HDR_LEN + 4096;
}

static void close_pair(int p[2])
{
	fd_close(&p[0]);
	fd_close(&p[1]);
}

/* The fixed argv from the conf, then the user's arguments. */
static char **build_argv(const struct conf_command *cc, int argc, char **argv)
{
	size_t n = cc->argc + (size_t)(argc - 1), k = 0;
	char **v = calloc(n + 1, sizeof *v);

	if (!v)
		return NULL;
	for (size_t i = 0; i < cc->argc; i++)
		v[k++] = cc->argv[i];
	for (int i = 1; i < argc; i++)
		v[k++] = argv[i];
	return v;
}

/*
 * Each command runs in a session of its own, so a limit or the end of the
 * request reaches its background children too.
 */
static void child_signal(struct cmd_child *c, int sig)
{
	proc_kill_group(&c->proc, sig);
	proc_kill(&c->proc, sig);
}

static int open_stdin(int payload, int in[2])
{
	if (payload)
		return pipe2(in, O_CLOEXEC);
	in[1] = -1;
	in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return in[0] < 0 ? -1 : 0;
}

static int spawn(struct cmd_req *rq, char **v, char **envp, int in[2],
		 int out[2], int err[2])
{
	struct proc_fdmap map[3] = {
		{ 0, in[0] }, { 1, out[1] }, { 2, err[1] }
	};

	if (proc_spawn_session(&rq->child.proc, v, envp, map, 3) < 0)
		return -1;
	fd_close(&in[0]);
	fd_close(&out[1]);
	fd_close(&err[1]);
	rq->child.fd_in = in[1];
	rq->child.fd_out = out[0];
	rq->child.fd_err = err[0];
	if (in[1] >= 0)
		fd_nonblock(in[1]);
	fd_nonblock(out[0]);
	fd_nonblock(err[0]);
	return 0;
}

int cmd_exec_start(struct cmd_state *st, struct cmd_req *rq,
		   const struct cmd_entry *e, int argc, char **argv,
		   int payload)
{
	const struct conf_command *cc = e->conf;
	struct cmd_child *c = &rq->child;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	char user[CONF_NAME_MAX + 16];
	char *envp[] = { "PATH=/usr/bin:/bin", user, NULL };
	char **v;
	int e_save;

	memset(c, 0, sizeof *c);
	c->fd_in = c->fd_out = c->fd_err = -1;
	c->proc.pidfd = -1;
	snprintf(user, sizeof user, "HANDLER_USER=%s",
		 st->s->user ? st->s->user->name : "");
	v = build_argv(cc, argc, argv);
	if (!v)
		return -1;
	if (payload && buf_init(&c->payload, st->lim.window) < 0)
		goto fail;
	if (open_stdin(payload, in) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0)
		goto fail;
	if (spawn(rq, v, envp, in, out, err) < 0)
		goto fail;
	free(v);
	rq->is_child = 1;
	c->payload_eof = !payload;
	c->grant = payload ? st->lim.window : 0;
	c->deadline = rq->started + (cc->time_limit_ms ? cc->time_limit_ms :
				     st->lim.cmd_time_ms) * NS_PER_MS;
	c->payload_limit = cc->payload_limit;
	c->output_limit = cc->output_limit ? cc->output_limit :
			  st->lim.cmd_output;
	return 0;
fail:
	e_save = errno;
	free(v);
	close_pair(in);
	close_pair(out);
	close_pair(err);
	buf_free(&c->payload);
	errno = e_save;
	return -1;
}

static void close_output(struct cmd_child *c)
{
	fd_close(&c->fd_out);
	fd_close(&c->fd_err);
}

/* The child will read no more: drop what is queued, give the credit back. */
static void stdin_gone(struct cmd_child *c)
{
	fd_close(&c->fd_in);
	c->stdin_gone = 1;
	c->grant += (uint32_t)buf_len(&c->payload);
	buf_clear(&c->payload);
}

void cmd_exec_kill(struct cmd_state *st, struct cmd_req *rq,
		   enum cmd_kill_reason why, uint64_t now)
{
	struct cmd_child *c = &rq->child;

	(void)st;
	if (!rq->is_child || c->why != CMD_KILL_NONE)
		return;
	c->why = why;
	child_signal(c, SIGTERM);
	c->kill_at = now + CMD_KILL_GRACE_MS * NS_PER_MS;
	if (why == CMD_KILL_OUTPUT || why == CMD_KILL_SESSION)
		close_output(c);
	if (c->fd_in >= 0)
		stdin_gone(c);
}

static void add_fd(struct cmd_state *st, struct pollfd *pfd, size_t *n,
		   int fd, short events, size_t slot, int kind)
{
	pfd[*n].fd = fd;
	pfd[*n].events = events;
	pfd[*n].revents = 0;
	st->map_req[*n] = (uint32_t)slot;
	st->map_kind[*n] = (uint8_t)kind;
	(*n)++;
}

void cmd_exec_poll_add(struct cmd_state *st, struct cmd_req *rq,
		       struct pollfd *pfd, size_t *n, size_t max, size_t slot)
{
	struct cmd_child *c = &rq->child;
	int room = buf_room(st->out) >= band_min(st->s);
	size_t need = (size_t)(c->fd_in >= 0 && buf_len(&c->payload) > 0) +
		      (size_t)(room && c->fd_out >= 0) +
		      (size_t)(room && c->fd_err >= 0) +
		      (size_t)(!c->proc.reaped && c->proc.pidfd >= 0);

	if (need > max - *n) {
		st->fds_short = 1;
		return;
	}
	if (c->fd_in >= 0 && buf_len(&c->payload) > 0)
		add_fd(st, pfd, n, c->fd_in, POLLOUT, slot, FD_IN);
	if (room && c->fd_out >= 0)
		add_fd(st, pfd, n, c->fd_out, POLLIN, slot, FD_OUT);
	if (room && c->fd_err >= 0)
		add_fd(st, pfd, n, c->fd_err, POLLIN, slot, FD_ERR);
	if (!c->proc.reaped && c->proc.pidfd >= 0)
		add_fd(st, pfd, n, c->proc.pidfd, POLLIN, slot, FD_PID);
}

static void read_band(struct cmd_state *st, struct cmd_req *rq, int *fd,
		      uint8_t type, uint64_t now)
{
	struct cmd_child *c = &rq->child;
	struct buf *out = st->out;
	size_t room = buf_room(out), n;
	uint64_t left = c->output_limit - rq->bytes_out;
	uint8_t *p;
	ssize_t r;

	if (room <= CMD_HDR_LEN)
		return;
	n = room - CMD_HDR_LEN;
	if (n > CMD_BAND_MAX)
		n = CMD_BAND_MAX;
	/* One byte past the limit is enough to know it was crossed. */
	if (left < n)
		n = (size_t)left + 1;
	p = buf_reserve(out, CMD_HDR_LEN + n);
	do
		r = read(*fd, p + CMD_HDR_LEN, n);
	while (r < 0 && errno == EINTR);
	if (r == 0 || (r < 0 && errno != EAGAIN)) {
		fd_close(fd);
		return;
	}
	if (r < 0)
		return;
	if ((uint64_t)r > left) {
		r = (ssize_t)left;
		snprintf(rq->note, sizeof rq->note,
			 "output limit of %llu bytes exceeded",
			 (unsigned long long)c->output_limit);
		rq->note_code = CMD_E_LIMIT;
		cmd_exec_kill(st, rq, CMD_KILL_OUTPUT, now);
	}
	if (r > 0) {
		cmd_hdr_encode(p, type, rq->id, (uint32_t)r);
		buf_commit(out, CMD_HDR_LEN + (size_t)r);
		rq->bytes_out += (uint64_t)r;
	}
}

static void write_stdin(struct cmd_child *c)
{
	ssize_t w = buf_write_fd(&c->payload, c->fd_in);

	if (w > 0) {
		c->grant += (uint32_t)w;
	} else if (w < 0 && errno != EAGAIN) {
		stdin_gone(c);
		return;
	}
	if (c->payload_eof && buf_len(&c->payload) == 0)
		fd_close(&c->fd_in);
}

void cmd_exec_event(struct cmd_state *st, struct cmd_req *rq, int kind,
		    short revents, uint64_t now)
{
	struct cmd_child *c = &rq->child;

	if (!revents)
		return;
	switch (kind) {
	case FD_IN:
		if (c->fd_in >= 0)
			write_stdin(c);
		break;
	case FD_OUT:
		if (c->fd_out >= 0)
			read_band(st, rq, &c->fd_out, CMD_STDOUT, now);
		break;
	case FD_ERR:
		if (c->fd_err >= 0)
			read_band(st, rq, &c->fd_err, CMD_STDERR, now);
		break;
	case FD_PID:
		proc_reap(&c->proc, 0);
		break;
	default:
		break;
	}
}

void cmd_exec_timers(struct cmd_state *st, struct cmd_req *rq, uint64_t now)
{
	struct cmd_child *c = &rq->child;

	if (!rq->is_child)
		return;
	if (!c->proc.reaped && c->proc.pidfd < 0)
		proc_reap(&c->proc, 0);  /* no pidfd: we poll */
	if (c->why == CMD_KILL_NONE && now >= c->deadline &&
	    !cmd_exec_done(rq)) {
		snprintf(rq->note, sizeof rq->note,
			 "time limit of %llu ms exceeded",
			 (unsigned long long)((c->deadline - rq->started) /
					      NS_PER_MS));
		rq->note_code = CMD_E_LIMIT;
		cmd_exec_kill(st, rq, CMD_KILL_TIME, now);
	}
	if (c->kill_at && now >= c->kill_at) {
		child_signal(c, SIGKILL);
		/* A grandchild may hold the pipes: stop waiting for them. */
		close_output(c);
		c->kill_at = 0;
	}
}

uint64_t cmd_exec_deadline(const struct cmd_req *rq)
{
	const struct cmd_child *c = &rq->child;
	uint64_t d;

	if (!rq->is_child || cmd_exec_done(rq))
		return 0;
	d = c->kill_at ? c->kill_at : c->why == CMD_KILL_NONE ? c->deadline : 0;
	if (!c->proc.reaped && c->proc.pidfd < 0) {
		uint64_t soon = clock_now() + 20 * NS_PER_MS;

		if (!d || soon < d)
			d = soon;
	}
	return d;
}

int cmd_exec_done(const struct cmd_req *rq)
{
	const struct cmd_child *c = &rq->child;

	return c->proc.reaped && c->fd_out < 0 && c->fd_err < 0;
}

/*
 * A payload past its limit: the command must never take a cut payload for
 * a whole one, so it gets SIGKILL before its stdin is closed (SIGTERM
 * could let it read the end of file first and act on it).
 */
static void payload_over(struct cmd_state *st, struct cmd_req *rq)
{
	struct cmd_child *c = &rq->child;

	snprintf(rq->note, sizeof rq->note,
		 "payload limit of %llu bytes exceeded",
		 (unsigned long long)c->payload_limit);
	rq->note_code = CMD_E_LIMIT;
	child_signal(c, SIGKILL);
	cmd_exec_kill(st, rq, CMD_KILL_PAYLOAD, clock_now());
}

void cmd_exec_payload(struct cmd_state *st, struct cmd_req *rq,
		      const uint8_t *p, size_t n)
{
	struct cmd_child *c = &rq->child;

	c->credit -= (uint32_t)n;
	rq->bytes_in += n;
	if (c->payload_limit && rq->bytes_in > c->payload_limit &&
	    c->why == CMD_KILL_NONE)
		payload_over(st, rq);
	if (c->stdin_gone || c->fd_in < 0) {
		c->grant += (uint32_t)n;
		return;
	}
	buf_append(&c->payload, p, n);
}

void cmd_exec_payload_eof(struct cmd_req *rq)
{
	struct cmd_child *c = &rq->child;

	c->payload_eof = 1;
	if (c->fd_in >= 0 && buf_len(&c->payload) == 0)
		fd_close(&c->fd_in);
}

void cmd_exec_grant(struct cmd_state *st, struct cmd_req *rq)
{
	struct cmd_child *c = &rq->child;
	uint32_t quarter = st->lim.window / 4;

	if (!rq->is_child || c->payload_eof || c->grant == 0)
		return;
	/* Grant in big steps unless the command is starving. */
	if (c->grant < quarter && buf_len(&c->payload) > 0)
		return;
	if (cmd_put_window(st->out, rq->id, c->grant, st->lim.max_frame) < 0)
		return;
	c->credit += c->grant;
	c->grant = 0;
}

void cmd_exec_free(struct cmd_req *rq)
{
	struct cmd_child *c = &rq->child;

	if (!rq->is_child)
		return;
	fd_close(&c->fd_in);
	close_output(c);
	/* Nothing the command started outlives its request. */
	proc_kill_group(&c->proc, SIGKILL);
	if (c->proc.pid > 0 && !c->proc.reaped) {
		proc_kill(&c->proc, SIGKILL);
		proc_reap(&c->proc, 1);
	}
	proc_release(&c->proc);
	buf_free(&c->payload);
	rq->is_child = 0;
}

/*
 * After a request's command and its process group: whatever else it
 * started (a setsid'd, double-forked grandchild came to us, the child
 * subreaper) is killed too. Such a stray cannot be told apart from one of
 * another request's, so every stray goes; running commands and their own
 * children stay.
 */
void cmd_exec_strays(struct cmd_state *st)
{
	pid_t keep[CMD_REQUESTS_MAX];
	size_t n = 0, killed;

	for (size_t i = 0; i < st->lim.max_requests && n < CMD_REQUESTS_MAX;
	     i++) {
		const struct cmd_req *rq = &st->reqs[i];

		if (rq->used && rq->is_child && rq->child.proc.pid > 0)
			keep[n++] = rq->child.proc.pid;
	}
	killed = reap_strays(keep, n);
	if (killed)
		log_warn("cmd: user=%s killed %zu processes that left their "
			 "command's process group", st->s->user ?
			 st->s->user->name : "-", killed);
}
