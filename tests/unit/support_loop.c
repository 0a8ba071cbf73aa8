/* The loop unit tests' harness: see support_loop.h. */
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
#include "fdutil.h"
#include "log.h"
#include "support_loop.h"

struct loopt_fake loopt_fk;
struct loopt_fix loopt_fx;
char loopt_logged[16384];

uint8_t loopt_pat(size_t i)
{
	return (uint8_t)((i * 131u) ^ (i >> 11));
}

void loopt_pat_fill(uint8_t *b, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = loopt_pat(off + i);
}

/* ---- the fake modules ---- */

static void fake_reset(void)
{
	memset(&loopt_fk, 0, sizeof loopt_fk);
	loopt_fk.notify_fd = -1;
	loopt_fk.extra_fd = -1;
}

static int fake_start(struct session *s, int argc, char **argv,
		      void **state)
{
	(void)s;
	loopt_fk.starts++;
	if (loopt_fk.start_code)
		return loopt_fk.start_code;
	if (argc != 1 || !argv[0])
		return 99;
	*state = &loopt_fk;
	if (loopt_fk.period)
		loopt_fk.next = clock_now() + loopt_fk.period;
	return 0;
}

static void fake_finish(struct session *s, void *state)
{
	struct loopt_fake *f = state;

	(void)s;
	f->finishes++;
}

static int fake_idle(struct session *s, void *state)
{
	struct loopt_fake *f = state;

	(void)s;
	return !f->busy && f->tail_left == 0;
}

static void fake_note_full(struct loopt_fake *f, struct session *s)
{
	if (f->saw_full || buf_room(&s->out) || buf_room(&s->in))
		return;
	f->saw_full = 1;
	if (f->notify_fd >= 0 && write(f->notify_fd, "!", 1) != 1)
		f->notify_failed = 1;
}

static int echo_input(struct session *s, void *state)
{
	struct loopt_fake *f = state;
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
static void tail_pump(struct loopt_fake *f, struct session *s)
{
	size_t n = f->tail_left < buf_room(&s->out) ? f->tail_left :
		   buf_room(&s->out);
	uint8_t *p = buf_reserve(&s->out, n);

	if (!p)
		return;
	loopt_pat_fill(p, f->tail - f->tail_left, n);
	buf_commit(&s->out, n);
	f->tail_left -= n;
}

/*
 * Swallows input up to and including a '!', or to EOF; then sends f->tail
 * bytes and ends with f->code. Bytes after the '!' stay unconsumed.
 */
static int tail_input(struct session *s, void *state)
{
	struct loopt_fake *f = state;

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
		f->saw_truncated |= s->in_truncated;
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
	struct loopt_fake *f = state;

	(void)s;
	f->inputs++;
	return 0;
}

static int bad_input(struct session *s, void *state)
{
	struct loopt_fake *f = state;

	(void)s;
	f->inputs++;
	return f->code;
}

static uint64_t tick_deadline(struct session *s, void *state)
{
	struct loopt_fake *f = state;

	(void)s;
	return f->next;
}

static int tick_timeout(struct session *s, void *state, uint64_t now)
{
	struct loopt_fake *f = state;

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
	struct loopt_fake *f = state;

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
	struct loopt_fake *f = state;
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

const struct protocol loopt_echo_proto = {
	.name = "echo", .start = fake_start, .input = echo_input,
	.idle = fake_idle, .finish = fake_finish,
};

/* Small queues: a 1 MiB tail needs many refills of s->out. */
const struct protocol loopt_tail_proto = {
	.name = "tail", .buffer_size = 64 * 1024, .start = fake_start,
	.input = tail_input, .idle = fake_idle, .finish = fake_finish,
};

const struct protocol loopt_tick_proto = {
	.name = "tick", .start = fake_start, .input = noop_input,
	.deadline = tick_deadline, .timeout = tick_timeout,
	.idle = fake_idle, .finish = fake_finish,
};

const struct protocol loopt_ev_proto = {
	.name = "ev", .start = fake_start, .input = noop_input,
	.pollfds = ev_pollfds, .events = ev_events, .finish = fake_finish,
};

const struct protocol loopt_bad_proto = {
	.name = "bad", .start = fake_start, .input = bad_input,
	.finish = fake_finish,
};

/* ---- stderr capture, for the log lines the loop promises ---- */

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
	n = fread(loopt_logged, 1, sizeof loopt_logged - 1, log_file);
	loopt_logged[n] = 0;
	fclose(log_file);
}

/* ---- one session ---- */

void loopt_fix_init(const char *conf_text)
{
	alarm(60);
	fake_reset();
	memset(&loopt_fx, 0, sizeof loopt_fx);
	ck_assert_int_eq(conf_parse(&loopt_fx.conf, "t.conf", conf_text,
				    strlen(conf_text)), 0);
	loopt_fx.s.conf = &loopt_fx.conf;
	loopt_fx.s.started = clock_now();
	loopt_fx.s.peer.proto = "pipe";
}

int loopt_run(const struct protocol *p, int fd_in, int fd_out)
{
	return loopt_run_secure(p, fd_in, fd_out, NULL);
}

int loopt_run_secure(const struct protocol *p, int fd_in, int fd_out,
		     struct secure *sec)
{
	char *argv[] = { (char *)p->name, NULL };
	uint64_t t0 = clock_now();
	int code;

	ck_assert_int_eq(loop_init(&loopt_fx.l, &loopt_fx.s, p, 1, argv,
				   fd_in, fd_out, sec), 0);
	capture_start();
	code = loop_run(&loopt_fx.l);
	capture_stop();
	loopt_fx.ms = (clock_now() - t0) / NS_PER_MS;
	return code;
}

void loopt_fix_free(void)
{
	loop_free(&loopt_fx.l);
	conf_free(&loopt_fx.conf);
	alarm(0);
}

/* ---- the client's side ---- */

void loopt_ends_open(struct loopt_ends *e, int kind)
{
	int a[2], b[2];

	if (kind == LOOPT_PIPES) {
		ck_assert_int_eq(pipe(a), 0);
		ck_assert_int_eq(pipe(b), 0);
		*e = (struct loopt_ends){ a[0], b[1], a[1], b[0] };
		return;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	*e = (struct loopt_ends){ a[0], a[0], a[1], a[1] };
	/* inetd hands over one socket as two descriptors. */
	if (kind == LOOPT_DUP_SOCKET)
		ck_assert_int_ge(e->out = dup(a[0]), 0);
}

void loopt_close_two(int *a, int *b)
{
	if (*b != *a && *b >= 0)
		close(*b);
	if (*a >= 0)
		close(*a);
	*a = *b = -1;
}

void loopt_half_close(struct loopt_ends *e)
{
	if (e->w == e->r)
		shutdown(e->w, SHUT_WR);
	else
		fd_close(&e->w);
}

pid_t loopt_client_fork(struct loopt_ends *e, loopt_client_fn fn,
			const void *arg)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(30);
		loopt_close_two(&e->in, &e->out);
		if (loopt_fk.notify_fd >= 0)
			close(loopt_fk.notify_fd);
		_exit(fn(e, arg));
	}
	loopt_close_two(&e->w, &e->r);
	return pid;
}

int loopt_client_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void loopt_expect_output(int fd, const char *want)
{
	char got[256] = "";
	ssize_t n = fd_read_full(fd, got, sizeof got - 1);

	ck_assert_int_ge(n, 0);
	got[n] = 0;
	ck_assert_str_eq(got, want);
}

int loopt_is_nonblocking(int fd)
{
	return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}


int loopt_main(Suite *s, const char *prog)
{
	SRunner *sr = srunner_create(s);
	int failed;

	/* As session_main does: a vanished client is an EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	log_init(prog);
	log_set_level(LOG_ERROR);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
