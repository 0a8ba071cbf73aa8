/*
 * Socket activation, as sd_listen_fds(3) defines it and nbdkit supports:
 * when LISTEN_PID is our pid, fds 3 .. 3+LISTEN_FDS-1 were handed to us.
 * Listening sockets among them make handler its own superserver: it
 * accepts on them and serves each connection in a child with the socket on
 * fds 0 and 1, exactly as under tcpserver. This is how nbdinfo and nbdcopy
 * start a server command (`nbdcopy -- [ handler nbd a.img ] b.img`), and
 * what a systemd socket unit with Accept=no does.
 *
 * A connected socket there is systemd's Accept=yes: one connection, passed
 * as fd 3 (and on fds 0/1 too when the unit says StandardInput=socket). It
 * is moved onto fds 0 and 1 and served as usual.
 *
 * The parent keeps no state about a child beyond a count: a child is its
 * own session with its own `done` line. SIGTERM, SIGINT or SIGHUP stop the
 * accepting (exit 0); connections already accepted run to their end, as
 * tcpserver's children do.
 */
#include "core.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "fdutil.h"
#include "log.h"

#define LISTEN_FD_FIRST 3

/* A decimal number that fits an int, nothing else. */
static int env_int(const char *name, long max, long *v)
{
	const char *s = getenv(name);
	char *end;

	if (!s || !*s)
		return -1;
	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno || *end || *v < 0 || *v > max)
		return -1;
	return 0;
}

static int is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof on;

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 &&
	       on;
}

/* Accept=yes: the one connection onto fds 0 and 1, where handler serves. */
static int take_connection(int fd)
{
	if (fd_move(0, fd) < 0 || dup2(0, 1) < 0) {
		log_error("socket activation: cannot move the connection to "
			  "fds 0/1: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int listen_activated(struct listen_set *ls)
{
	long pid, n;

	memset(ls, 0, sizeof *ls);
	if (env_int("LISTEN_PID", 0x7fffffffL, &pid) < 0 ||
	    (pid_t)pid != getpid())
		return 0;
	/* Our children must not believe the sockets are theirs. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	if (env_int("LISTEN_FDS", LISTEN_MAX, &n) < 0 || n == 0) {
		log_error("socket activation: LISTEN_FDS must be 1..%d",
			  LISTEN_MAX);
		return -1;
	}
	unsetenv("LISTEN_FDS");
	for (long i = 0; i < n; i++) {
		int fd = LISTEN_FD_FIRST + (int)i;

		if (is_listening(fd))
			ls->fds[ls->n++] = fd;
	}
	if (ls->n == 0 && n == 1 && fd_is_open(LISTEN_FD_FIRST))
		return take_connection(LISTEN_FD_FIRST) < 0 ? -1 : 0;
	if (ls->n == 0) {
		log_error("socket activation: none of the %ld fds passed is "
			  "a listening socket", n);
		return -1;
	}
	if (ls->n != (size_t)n)
		log_warn("socket activation: %zu of %ld fds are listening "
			 "sockets; serving those", ls->n, n);
	return 1;
}

static int signals_open(sigset_t *old)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return -1;
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd;
}

/* The child: the connection on fds 0 and 1, nothing else of the parent. */
static void serve_child(const struct listen_set *ls, int sfd, int conn,
			const sigset_t *old, const struct session_opts *o)
{
	struct session_opts co = *o;

	close(sfd);
	for (size_t i = 0; i < ls->n; i++)
		close(ls->fds[i]);
	sigprocmask(SIG_SETMASK, old, NULL);
	signal(SIGCHLD, SIG_DFL);
	if (take_connection(conn) < 0)
		_exit(EXIT_TEMP);
	co.fd_in = 0;
	co.fd_out = 1;
	exit(session_main(&co));
}

static void accept_one(const struct listen_set *ls, int lfd, int sfd,
		       const sigset_t *old, const struct session_opts *o,
		       size_t *children)
{
	int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	pid_t pid;

	if (conn < 0) {
		/* A client that gave up before we got to it, or no fds left
		 * for a moment: the next poll pass tries again. */
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED && errno != EINTR)
			log_warn("socket activation: accept: %s",
				 strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0)
		serve_child(ls, sfd, conn, old, o);
	if (pid < 0)
		log_error("socket activation: fork: %s", strerror(errno));
	else
		(*children)++;
	close(conn);
}

/* Reaps every finished child; 1 once a stop signal arrived. */
static int read_signals(int sfd, size_t *children)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
		if (si.ssi_signo != SIGCHLD) {
			log_info("socket activation: signal %u: no more "
				 "connections accepted", si.ssi_signo);
			stop = 1;
		}
	while (*children > 0 && waitpid(-1, NULL, WNOHANG) > 0)
		(*children)--;
	return stop;
}

int listen_serve(const struct listen_set *ls, const struct session_opts *o,
		 size_t max_children)
{
	struct pollfd pfd[1 + LISTEN_MAX];
	size_t children = 0;
	sigset_t old;
	int sfd = signals_open(&old);

	if (sfd < 0) {
		log_error("socket activation: signalfd: %s", strerror(errno));
		return EXIT_TEMP;
	}
	for (size_t i = 0; i < ls->n; i++)
		fd_nonblock(ls->fds[i]);
	log_info("socket activation: accepting on %zu socket%s, at most %zu "
		 "connections at once", ls->n, ls->n == 1 ? "" : "s",
		 max_children);
	for (;;) {
		/* At the cap the listeners are left out of the poll set: new
		 * clients wait in the kernel's backlog, not in our memory. */
		size_t n = children < max_children ? ls->n : 0;

		pfd[0] = (struct pollfd){ sfd, POLLIN, 0 };
		for (size_t i = 0; i < n; i++)
			pfd[1 + i] = (struct pollfd){ ls->fds[i], POLLIN, 0 };
		if (poll(pfd, 1 + n, -1) < 0 && errno != EINTR) {
			log_error("socket activation: poll: %s",
				  strerror(errno));
			return EXIT_TEMP;
		}
		if ((pfd[0].revents & POLLIN) && read_signals(sfd, &children))
			break;
		for (size_t i = 0; i < n; i++)
			if (pfd[1 + i].revents & POLLIN)
				accept_one(ls, ls->fds[i], sfd, &old, o,
					   &children);
	}
	close(sfd);
	return EXIT_OK;
}
