/*
 * Unit tests for handler's poll loop (handler/loop.c), plain transport.
 * A fake protocol module defined here stands in for sftp/cmd; the client's
 * side is a socketpair or two pipes. loop_run() blocks this process, so
 * when bytes must flow both ways at once the client is a forked child that
 * reports through its exit status. Every test arms alarm() so a hang ends
 * it, also under CK_FORK=no.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "exitcode.h"
#include "fdutil.h"
#include "handler.h"
#include "log.h"

#define MIB (1024u * 1024u)

/* A position-dependent byte, so reordered or lost bytes show. */
static uint8_t pat(size_t i)
{
	return (uint8_t)((i * 131u) ^ (i >> 11));
}

static void pat_fill(uint8_t *b, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pat(off + i);
}

static int pat_check(const uint8_t *b, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != pat(off + i))
			return -1;
	return 0;
}

/* ---- the fake module ---- */

static struct fake {
	int start_code;       /* start() returns this */
	int code;             /* what the module ends with */
	int starts, inputs, finishes, events_calls;
	int late_inputs;      /* input() after the module asked to end */
	int ended;
	int saw_eof;
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
} fk;

static void fake_reset(void)
{
	memset(&fk, 0, sizeof fk);
	fk.notify_fd = -1;
	fk.extra_fd = -1;
}

static int fake_start(struct session *s, int argc, char **argv,
		      void **state)
{
	(void)s;
	fk.starts++;
	if (fk.start_code)
		return fk.start_code;
	if (argc != 1 || !argv[0])
		return 99;
	*state = &fk;
	if (fk.period)
		fk.next = clock_now() + fk.period;
	return 0;
}

static void fake_finish(struct session *s, void *state)
{
	struct fake *f = state;

	(void)s;
	f->finishes++;
}

static int fake_idle(struct session *s, void *state)
{
	struct fake *f = state;

	(void)s;
	return !f->busy && f->tail_left == 0;
}

static void fake_note_full(struct fake *f, struct session *s)
{
	if (f->saw_full || buf_room(&s->out) || buf_room(&s->in))
		return;
	f->saw_full = 1;
	if (f->notify_fd >= 0 && write(f->notify_fd, "!", 1) != 1)
		f->notify_failed = 1;
}

/* Copies s->in to s->out as far as s->out has room. */
static int echo_input(struct session *s, void *state)
{
	struct fake *f = state;
	size_t n = buf_len(&s->in);

	f->inputs++;
	if (n > buf_room(&s->out))
		n = buf_room(&s->out);
	if (buf_append(&s->out, buf_data(&s->in), n) < 0)
		return -1;
	buf_consume(&s->in, n);
	f->consumed += n;
	if (s->in_eof)
		f->saw_eof = 1;
	fake_note_full(f, s);
	return 0;
}

/* Appends what is left of the tail, as far as s->out has room. */
static void tail_pump(struct fake *f, struct session *s)
{
	size_t n = f->tail_left < buf_room(&s->out) ? f->tail_left :
		   buf_room(&s->out);
	uint8_t *p = buf_reserve(&s->out, n);

	if (!p)
		return;
	pat_fill(p, f->tail - f->tail_left, n);
	buf_commit(&s->out, n);
	f->tail_left -= n;
}

/*
 * Swallows input up to and including a '!', or to EOF; then sends f->tail
 * bytes and ends with f->code. Bytes after the '!' stay unconsumed.
 */
static int tail_input(struct session *s, void *state)
{
	struct fake *f = state;

	f->inputs++;
	if (f->ended)
		f->late_inputs++;
	if (!f->triggered) {
		const uint8_t *bang = memchr(buf_data(&s->in), '!',
					     buf_len(&s->in));
		size_t n = bang ? (size_t)(bang - buf_data(&s->in)) + 1 :
			   buf_len(&s->in);

		buf_consume(&s->in, n);
		f->consumed += n;
		f->saw_eof |= s->in_eof;
		if (!bang && !s->in_eof)
			return 0;
		f->triggered = 1;
		f->tail_left = f->tail;
	}
	tail_pump(f, s);
	if (f->tail_left)
		return 0;
	f->ended = 1;
	return f->code;
}

static int noop_input(struct session *s, void *state)
{
	struct fake *f = state;

	(void)s;
	f->inputs++;
	return 0;
}

static int bad_input(struct session *s, void *state)
{
	struct fake *f = state;

	(void)s;
	f->inputs++;
	return f->code;
}

static uint64_t tick_deadline(struct session *s, void *state)
{
	struct fake *f = state;

	(void)s;
	return f->next;
}

static int tick_timeout(struct session *s, void *state, uint64_t now)
{
	struct fake *f = state;

	if (now < f->next)
		f->early++;
	f->ticks++;
	if (buf_append(&s->out, "tick\n", 5) < 0)
		return -1;
	if (f->ticks < f->max_ticks) {
		f->next = now + f->period;
		return 0;
	}
	f->next = 0;
	f->busy = 0;
	return f->code;
}

static size_t ev_pollfds(struct session *s, void *state, struct pollfd *pfd,
			 size_t max)
{
	struct fake *f = state;

	(void)s;
	if (f->extra_fd < 0 || max < 1)
		return 0;
	pfd[0] = (struct pollfd){ f->extra_fd, POLLIN, 0 };
	return 1;
}

/* Forwards the module fd's bytes as "ev:..."; its EOF ends with f->code. */
static int ev_events(struct session *s, void *state, struct pollfd *pfd,
		     size_t n, uint64_t now)
{
	struct fake *f = state;
	char b[64];
	ssize_t r;

	f->events_calls++;
	if (n != 1 || pfd[0].fd != f->extra_fd || now == 0)
		return -1;
	if (!pfd[0].revents)
		return 0;
	r = read(f->extra_fd, b, sizeof b);
	if (r < 0)
		return errno == EAGAIN ? 0 : -1;
	if (r == 0)
		return f->code;
	if (buf_append(&s->out, "ev:", 3) < 0 ||
	    buf_append(&s->out, b, (size_t)r) < 0)
		return -1;
	return 0;
}

static const struct protocol echo_proto = {
	.name = "echo", .start = fake_start, .input = echo_input,
	.idle = fake_idle, .finish = fake_finish,
};

/* Small queues: a 1 MiB tail needs many refills of s->out. */
static const struct protocol tail_proto = {
	.name = "tail", .buffer_size = 64 * 1024, .start = fake_start,
	.input = tail_input, .idle = fake_idle, .finish = fake_finish,
};

static const struct protocol tick_proto = {
	.name = "tick", .start = fake_start, .input = noop_input,
	.deadline = tick_deadline, .timeout = tick_timeout,
	.idle = fake_idle, .finish = fake_finish,
};

static const struct protocol ev_proto = {
	.name = "ev", .start = fake_start, .input = noop_input,
	.pollfds = ev_pollfds, .events = ev_events, .finish = fake_finish,
};

static const struct protocol bad_proto = {
	.name = "bad", .start = fake_start, .input = bad_input,
	.finish = fake_finish,
};

/* ---- stderr capture, for the log lines the loop promises ---- */

static char logged[16384];
static int saved_stderr = -1;
static FILE *log_file;

static void capture_start(void)
{
	log_file = tmpfile();
	ck_assert_ptr_nonnull(log_file);
	saved_stderr = dup(2);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_eq(dup2(fileno(log_file), 2), 2);
}

static void capture_stop(void)
{
	size_t n;

	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	rewind(log_file);
	n = fread(logged, 1, sizeof logged - 1, log_file);
	logged[n] = 0;
	fclose(log_file);
}

/* ---- one session: conf, struct session, struct loop ---- */

static struct fix {
	struct conf conf;
	struct session s;
	struct loop l;
	uint64_t ms;          /* loop_init to loop_run's return */
} fx;

static void fix_init(const char *conf_text)
{
	alarm(60);
	fake_reset();
	memset(&fx, 0, sizeof fx);
	ck_assert_int_eq(conf_parse(&fx.conf, "t.conf", conf_text,
				    strlen(conf_text)), 0);
	fx.s.conf = &fx.conf;
	fx.s.started = clock_now();
	fx.s.peer.proto = "pipe";
}

static int fix_run(const struct protocol *p, int fd_in, int fd_out)
{
	char *argv[] = { (char *)p->name, NULL };
	uint64_t t0 = clock_now();
	int code;

	ck_assert_int_eq(loop_init(&fx.l, &fx.s, p, 1, argv, fd_in, fd_out,
				   NULL), 0);
	capture_start();
	code = loop_run(&fx.l);
	capture_stop();
	fx.ms = (clock_now() - t0) / NS_PER_MS;
	return code;
}

static void fix_free(void)
{
	loop_free(&fx.l);
	conf_free(&fx.conf);
	alarm(0);
}

/* ---- the client's side ---- */

enum { ONE_SOCKET, DUP_SOCKET, PIPES, NKINDS };

struct ends {
	int in, out;          /* the loop's fd_in and fd_out */
	int w, r;             /* the client's writing and reading ends */
};

static void ends_open(struct ends *e, int kind)
{
	int a[2], b[2];

	if (kind == PIPES) {
		ck_assert_int_eq(pipe(a), 0);
		ck_assert_int_eq(pipe(b), 0);
		*e = (struct ends){ a[0], b[1], a[1], b[0] };
		return;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	*e = (struct ends){ a[0], a[0], a[1], a[1] };
	/* inetd hands over one socket as two descriptors. */
	if (kind == DUP_SOCKET)
		ck_assert_int_ge(e->out = dup(a[0]), 0);
}

static void close_two(int *a, int *b)
{
	if (*b != *a && *b >= 0)
		close(*b);
	if (*a >= 0)
		close(*a);
	*a = *b = -1;
}

/* The client is done sending: EOF for the loop, its reading side open. */
static void client_half_close(struct ends *e)
{
	if (e->w == e->r)
		shutdown(e->w, SHUT_WR);
	else
		fd_close(&e->w);
}

typedef int (*client_fn)(struct ends *e, const void *arg);

static pid_t client_fork(struct ends *e, client_fn fn, const void *arg)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(30);
		close_two(&e->in, &e->out);
		if (fk.notify_fd >= 0)
			close(fk.notify_fd);
		_exit(fn(e, arg));
	}
	close_two(&e->w, &e->r);
	return pid;
}

static int client_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct stream_arg {
	size_t total;
	int notify;           /* read end of fk.notify_fd */
};

/* One non-blocking step of writing the pattern; -1 on error. */
static int stream_write(int fd, size_t *sent, size_t total)
{
	uint8_t b[64 * 1024];
	size_t n = total - *sent < sizeof b ? total - *sent : sizeof b;
	ssize_t w;

	pat_fill(b, *sent, n);
	w = write(fd, b, n);
	if (w < 0)
		return errno == EAGAIN ? 0 : -1;
	*sent += (size_t)w;
	return 0;
}

/* One small read that must continue the pattern: 1 EOF, 0 on, -1 bad. */
static int stream_read(int fd, size_t *got, size_t total)
{
	uint8_t b[4096];
	ssize_t r = read(fd, b, sizeof b);

	if (r < 0)
		return errno == EAGAIN ? 0 : -1;
	if (r == 0)
		return 1;
	if (*got + (size_t)r > total || pat_check(b, *got, (size_t)r) < 0)
		return -1;
	*got += (size_t)r;
	return 0;
}

/*
 * Sends a->total pattern bytes in large writes and reads the echo back in
 * small reads, so the reader is the bottleneck. Nothing is read until the
 * module reports both queues full: back-pressure must then hold the writer
 * rather than grow anything. Exit 0 when the whole echo came back in order
 * followed by EOF.
 */
static int client_stream(struct ends *e, const void *arg)
{
	const struct stream_arg *a = arg;
	size_t sent = 0, got = 0;
	int writing = 1, reading = a->notify < 0;

	fd_nonblock(e->w);
	fd_nonblock(e->r);
	for (;;) {
		struct pollfd p[2];
		nfds_t n = 0;
		int r = 0;

		if (writing && sent == a->total) {
			if (!reading)
				return 2;  /* never saw both queues full */
			client_half_close(e);
			writing = 0;
		}
		if (writing)
			p[n++] = (struct pollfd){ e->w, POLLOUT, 0 };
		p[n++] = (struct pollfd){ reading ? e->r : a->notify, POLLIN,
					  0 };
		if (poll(p, n, -1) < 0 && errno != EINTR)
			return 3;
		if (writing && p[0].revents &&
		    stream_write(e->w, &sent, a->total) < 0)
			return 4;
		if (!p[n - 1].revents)
			continue;
		if (!reading) {
			char c;

			reading = read(a->notify, &c, 1) == 1;
			if (!reading)
				return 5;
			continue;
		}
		r = stream_read(e->r, &got, a->total);
		if (r < 0)
			return 6;
		if (r > 0)
			return got == a->total && !writing ? 0 : 7;
	}
}

struct tail_arg {
	const char *msg;      /* sent first, in one write */
	int half_close;       /* then EOF */
	size_t tail;          /* expected pattern bytes, then EOF */
};

static int client_tail(struct ends *e, const void *arg)
{
	const struct tail_arg *a = arg;
	size_t got = 0;
	int r;

	if (fd_write_all(e->w, a->msg, strlen(a->msg)) < 0)
		return 2;
	if (a->half_close)
		client_half_close(e);
	while ((r = stream_read(e->r, &got, a->tail)) == 0)
		;
	return r > 0 && got == a->tail ? 0 : 3;
}

/* Reads what the loop sent until EOF (the loop shut its side down). */
static void expect_output(int fd, const char *want)
{
	char got[256] = "";
	ssize_t n = fd_read_full(fd, got, sizeof got - 1);

	ck_assert_int_ge(n, 0);
	got[n] = 0;
	ck_assert_str_eq(got, want);
}

static int is_nonblocking(int fd)
{
	return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

/* ---- tests ---- */

/*
 * 8 MiB through the echo module, far more than both 1 MiB queues and the
 * socket buffers hold, with a client that reads slowly: everything comes
 * back in order, the loop stops reading while s->in is full, and a clean
 * EOF ends the session with 0.
 */
START_TEST(echo_large_with_backpressure)
{
	struct stream_arg a = { 8 * MIB, -1 };
	int notify[2];
	struct ends e;
	pid_t pid;

	fix_init("");
	ends_open(&e, _i);
	ck_assert_int_eq(pipe(notify), 0);
	fk.notify_fd = notify[1];
	a.notify = notify[0];
	pid = client_fork(&e, client_stream, &a);
	close(notify[0]);
	ck_assert_int_eq(fix_run(&echo_proto, e.in, e.out), EXIT_OK);
	ck_assert_int_eq(fk.notify_failed, 0);
	ck_assert(fk.saw_full);
	ck_assert(fk.saw_eof);
	ck_assert_uint_eq(fk.consumed, a.total);
	ck_assert_uint_eq(fx.s.bytes_in, a.total);
	ck_assert_uint_eq(fx.s.bytes_out, a.total);
	ck_assert_int_eq(fk.starts, 1);
	ck_assert_int_eq(fk.finishes, 1);
	ck_assert_int_eq(fx.l.same_socket, _i != PIPES);
	/* Only a socket can be shut down for writing. */
	ck_assert_int_eq(fx.l.out_shut, _i != PIPES);
	ck_assert_ptr_null(fx.l.why);
	ck_assert_str_eq(logged, "");
	fix_free();
	/* The fds go back as they came: blocking. */
	ck_assert(!is_nonblocking(e.in));
	ck_assert(!is_nonblocking(e.out));
	close_two(&e.in, &e.out);
	close(notify[1]);
	ck_assert_int_eq(client_wait(pid), 0);
}
END_TEST

/*
 * The client sends a little and closes its sending side; the module
 * answers only at EOF, with 1 MiB (many times s->out), so input() must be
 * called again as the output drains although nothing new arrives. The
 * session ends with the module's code once all of it is delivered.
 */
START_TEST(half_close_flushes_then_module_code)
{
	struct tail_arg a = { "hello", 1, MIB + 123 };
	struct ends e;
	pid_t pid;

	fix_init("");
	fk.tail = a.tail;
	fk.code = 42;
	ends_open(&e, _i);
	pid = client_fork(&e, client_tail, &a);
	ck_assert_int_eq(fix_run(&tail_proto, e.in, e.out), 42);
	ck_assert(fk.saw_eof);
	ck_assert_uint_eq(fk.consumed, 5);
	ck_assert_uint_eq(fx.s.bytes_out, a.tail);
	ck_assert_int_eq(fk.late_inputs, 0);
	ck_assert_int_eq(fk.finishes, 1);
	ck_assert_ptr_null(fx.l.why);
	fix_free();
	close_two(&e.in, &e.out);
	ck_assert_int_eq(client_wait(pid), 0);
}
END_TEST

/* At EOF the module returns 0 throughout; idle() says when it is done. */
START_TEST(half_close_idle_decides)
{
	struct tail_arg a = { "hello", 1, 300000 };
	struct ends e;
	pid_t pid;

	fix_init("");
	fk.tail = a.tail;
	ends_open(&e, ONE_SOCKET);
	pid = client_fork(&e, client_tail, &a);
	ck_assert_int_eq(fix_run(&tail_proto, e.in, e.out), EXIT_OK);
	ck_assert_uint_eq(fx.s.bytes_out, a.tail);
	ck_assert_int_eq(fk.finishes, 1);
	fix_free();
	close_two(&e.in, &e.out);
	ck_assert_int_eq(client_wait(pid), 0);
}
END_TEST

/*
 * EOF with nothing queued is not the end while idle() reports work
 * pending (a child still running): the module's late reply goes out.
 */
START_TEST(eof_waits_for_busy_module)
{
	struct ends e;

	fix_init("");
	fk.period = 200 * NS_PER_MS;
	fk.max_ticks = 1;
	fk.busy = 1;
	ends_open(&e, ONE_SOCKET);
	client_half_close(&e);
	ck_assert_int_eq(fix_run(&tick_proto, e.in, e.out), EXIT_OK);
	ck_assert_int_eq(fk.ticks, 1);
	ck_assert_uint_ge(fx.ms, 200);
	ck_assert_int_eq(fk.finishes, 1);
	expect_output(e.r, "tick\n");
	fix_free();
	close_two(&e.in, &e.out);
	close_two(&e.w, &e.r);
}
END_TEST

/*
 * No EOF from the client: input() returns 100 after queueing a reply
 * bigger than s->out. The reply is delivered whole, input() is not called
 * again, and what followed the request stays unread by the module.
 */
START_TEST(module_code_ends_after_flush)
{
	struct tail_arg a = { "ab!cd", 0, 700000 };
	struct ends e;
	pid_t pid;

	fix_init("");
	fk.tail = a.tail;
	fk.code = EXIT_PERM;
	ends_open(&e, _i);
	pid = client_fork(&e, client_tail, &a);
	ck_assert_int_eq(fix_run(&tail_proto, e.in, e.out), EXIT_PERM);
	ck_assert(!fk.saw_eof);
	ck_assert_uint_eq(fk.consumed, 3);
	ck_assert_uint_eq(fx.s.bytes_out, a.tail);
	ck_assert_int_eq(fk.late_inputs, 0);
	ck_assert_int_eq(fk.finishes, 1);
	fix_free();
	close_two(&e.in, &e.out);
	ck_assert_int_eq(client_wait(pid), 0);
}
END_TEST

/* A failed start() cleaned up itself: no input(), no finish(). */
START_TEST(start_failure)
{
	struct ends e;

	fix_init("");
	fk.start_code = EXIT_PERM;
	ends_open(&e, ONE_SOCKET);
	ck_assert_int_eq(fix_run(&echo_proto, e.in, e.out), EXIT_PERM);
	ck_assert_int_eq(fk.starts, 1);
	ck_assert_int_eq(fk.inputs, 0);
	ck_assert_int_eq(fk.finishes, 0);
	expect_output(e.r, "");
	fix_free();
	close_two(&e.in, &e.out);
	close_two(&e.w, &e.r);
}
END_TEST

/* Neither a negative value nor one above 255 is an exit code. */
START_TEST(module_bug_is_temporary)
{
	static const int bad[] = { -5, 256 };
	char want[64];
	struct ends e;

	fix_init("");
	fk.code = bad[_i];
	ends_open(&e, ONE_SOCKET);
	ck_assert_int_eq(fix_run(&bad_proto, e.in, e.out), EXIT_TEMP);
	snprintf(want, sizeof want, "error: module returned %d, not an exit "
		 "code", bad[_i]);
	ck_assert_ptr_nonnull(strstr(logged, want));
	ck_assert_int_eq(fk.inputs, 1);
	ck_assert_int_eq(fk.finishes, 1);
	fix_free();
	close_two(&e.in, &e.out);
	close_two(&e.w, &e.r);
}
END_TEST

/* Nothing either way for limit idle: 111, "idle", and the log line. */
START_TEST(idle_timeout)
{
	struct ends e;

	fix_init("limit idle 1\n");
	fk.period = 30 * NS_PER_SEC;
	fk.max_ticks = 1;
	ends_open(&e, ONE_SOCKET);
	ck_assert_int_eq(fix_run(&tick_proto, e.in, e.out), EXIT_TEMP);
	ck_assert_uint_ge(fx.ms, 1000);
	ck_assert_uint_lt(fx.ms, 10000);
	ck_assert_str_eq(fx.l.why, "idle");
	ck_assert_ptr_nonnull(strstr(logged, "test_loop: error: idle timeout: "
				     "no bytes either way for 1 s\n"));
	ck_assert_int_eq(fk.ticks, 0);
	ck_assert_int_eq(fk.finishes, 1);
	expect_output(e.r, "");
	fix_free();
	close_two(&e.in, &e.out);
	close_two(&e.w, &e.r);
}
END_TEST

/* Silence while the module says it is busy (idle() false) is not idle. */
START_TEST(idle_not_while_module_busy)
{
	struct ends e;

	fix_init("limit idle 1\n");
	fk.period = 1500 * NS_PER_MS;
	fk.max_ticks = 1;
	fk.busy = 1;
	fk.code = 5;
	ends_open(&e, ONE_SOCKET);
	ck_assert_int_eq(fix_run(&tick_proto, e.in, e.out), 5);
	ck_assert_uint_ge(fx.ms, 1500);
	ck_assert_ptr_null(fx.l.why);
	ck_assert_int_eq(fk.early, 0);
	ck_assert_str_eq(logged, "");
	expect_output(e.r, "tick\n");
	fix_free();
	close_two(&e.in, &e.out);
	close_two(&e.w, &e.r);
}
END_TEST

/*
 * A client that stops reading: output stays queued, so a busy module does
 * not hold the idle timeout off.
 */
START_TEST(idle_when_output_stuck)
{
	struct ends e;

	fix_init("limit idle 1\n");
	fk.triggered = 1;
	fk.tail = fk.tail_left = 64 * MIB;
	fk.busy = 1;
	ends_open(&e, ONE_SOCKET);
	ck_assert_int_eq(fix_run(&tail_proto, e.in, e.out), EXIT_TEMP);
	ck_assert_str_eq(fx.l.why, "idle");
	ck_assert_uint_gt(fx.s.bytes_out, 0);
	ck_assert_uint_lt(fx.s.bytes_out, fk.tail);
	ck_assert_ptr_nonnull(strstr(logged, "error: idle timeout"));
	fix_free();
	close_two(&e.in, &e.out);
	close_two(&e.w, &e.r);
}
END_TEST

/*
 * The module's timer: timeout() runs at (never before) each deadline and
 * with no I/O at all; its code ends the session after the ticks are out.
 */
START_TEST(module_timer)
{
	struct ends e;

	fix_init("");
	fk.period = 100 * NS_PER_MS;
	fk.max_ticks = 3;
	fk.busy = 1;
	fk.code = 9;
	ends_open(&e, _i == 0 ? ONE_SOCKET : PIPES);
	ck_assert_int_eq(fix_run(&tick_proto, e.in, e.out), 9);
	ck_assert_int_eq(fk.ticks, 3);
	ck_assert_int_eq(fk.early, 0);
	ck_assert_uint_ge(fx.ms, 300);
	fix_free();
	close_two(&e.in, &e.out);
	if (e.w != e.r)
		fd_close(&e.w);
	expect_output(e.r, "tick\ntick\ntick\n");
	close_two(&e.w, &e.r);
}
END_TEST

/* The module's own fd joins the poll set; its events reach events(). */
START_TEST(module_pollfds)
{
	struct ends e;
	int x[2];

	fix_init("");
	ck_assert_int_eq(pipe(x), 0);
	ck_assert_int_eq(fd_write_all(x[1], "abc", 3), 0);
	close(x[1]);
	fk.extra_fd = x[0];
	fk.code = 3;
	ends_open(&e, ONE_SOCKET);
	ck_assert_int_eq(fix_run(&ev_proto, e.in, e.out), 3);
	ck_assert_int_ge(fk.events_calls, 2);
	ck_assert_int_eq(fk.finishes, 1);
	expect_output(e.r, "ev:abc");
	fix_free();
	close(x[0]);
	close_two(&e.in, &e.out);
	close_two(&e.w, &e.r);
}
END_TEST

/* fd_out's reader is gone: EPIPE is logged and ends with 111. */
START_TEST(reader_gone_pipe)
{
	struct ends e;

	fix_init("");
	ends_open(&e, PIPES);
	fd_close(&e.r);
	ck_assert_int_eq(fd_write_all(e.w, "hello", 5), 0);
	ck_assert_int_eq(fix_run(&echo_proto, e.in, e.out), EXIT_TEMP);
	ck_assert_str_eq(fx.l.why, "peer-gone");
	ck_assert(fx.l.out_dead);
	ck_assert_ptr_nonnull(strstr(logged, "error: write: Broken pipe\n"));
	ck_assert_int_eq(fk.finishes, 1);
	fix_free();
	close_two(&e.in, &e.out);
	fd_close(&e.w);
}
END_TEST

/*
 * The client sent a request and vanished. Even a module that ends cleanly
 * (SESSION_DONE) gets 111 when its reply cannot be delivered.
 */
START_TEST(client_gone_socket)
{
	const struct protocol *p = _i == 0 ? &echo_proto : &tail_proto;
	struct ends e;

	fix_init("");
	fk.tail = 1000;
	fk.code = SESSION_DONE;
	ends_open(&e, ONE_SOCKET);
	ck_assert_int_eq(fd_write_all(e.w, "hi!", 3), 0);
	close_two(&e.w, &e.r);
	ck_assert_int_eq(fix_run(p, e.in, e.out), EXIT_TEMP);
	ck_assert_str_eq(fx.l.why, "peer-gone");
	ck_assert_ptr_nonnull(strstr(logged, "error: write: "));
	ck_assert_int_eq(fk.finishes, 1);
	fix_free();
	close_two(&e.in, &e.out);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *flow = tcase_create("flow");
	TCase *end = tcase_create("end");
	TCase *timers = tcase_create("timers");

	tcase_set_timeout(flow, 60);
	tcase_add_loop_test(flow, echo_large_with_backpressure, 0, NKINDS);
	tcase_add_loop_test(flow, half_close_flushes_then_module_code, 0,
			    NKINDS);
	tcase_add_test(flow, half_close_idle_decides);
	tcase_add_test(flow, eof_waits_for_busy_module);
	tcase_add_loop_test(flow, module_code_ends_after_flush, ONE_SOCKET,
			    NKINDS);
	tcase_add_test(flow, module_pollfds);
	suite_add_tcase(s, flow);
	tcase_set_timeout(end, 30);
	tcase_add_test(end, start_failure);
	tcase_add_loop_test(end, module_bug_is_temporary, 0, 2);
	tcase_add_test(end, reader_gone_pipe);
	tcase_add_loop_test(end, client_gone_socket, 0, 2);
	suite_add_tcase(s, end);
	tcase_set_timeout(timers, 30);
	tcase_add_test(timers, idle_timeout);
	tcase_add_test(timers, idle_not_while_module_busy);
	tcase_add_test(timers, idle_when_output_stuck);
	tcase_add_loop_test(timers, module_timer, 0, 2);
	suite_add_tcase(s, timers);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(loop_suite());
	int failed;

	/* As session_main does: a vanished client is an EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	log_init("test_loop");
	log_set_level(LOG_ERROR);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
