/*
 * The signals that end a session: SIGTERM, SIGHUP and SIGINT arrive on a
 * signalfd in the loop's poll set (no handlers, no global state), so the
 * session ends like any other: commands killed, the module's finish(), the
 * `done` line. A signal that was ignored when handler started (nohup, or
 * handler-client --exec, which starts the server with SIGINT ignored so a
 * terminal's ^C reaches only the client) stays ignored.
 */
#include "core.h"

#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const int stop_signals[] = { SIGTERM, SIGHUP, SIGINT };

void stop_open(struct stop_signals *st)
{
	sigset_t set;

	memset(st, 0, sizeof *st);
	st->fd = -1;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0];
	     i++) {
		struct sigaction sa;

		if (sigaction(stop_signals[i], NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN)
			continue;
		sigaddset(&set, stop_signals[i]);
	}
	if (sigprocmask(SIG_BLOCK, &set, &st->old) < 0)
		return;
	st->blocked = 1;
	st->fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int stop_read(struct stop_signals *st)
{
	struct signalfd_siginfo si;

	if (st->fd < 0 || read(st->fd, &si, sizeof si) != (ssize_t)sizeof si)
		return 0;
	return (int)si.ssi_signo;
}

const char *stop_name(int sig)
{
	return sig == SIGTERM ? "TERM" : sig == SIGHUP ? "HUP" :
	       sig == SIGINT ? "INT" : "?";
}

void stop_close(struct stop_signals *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	if (st->blocked)
		sigprocmask(SIG_SETMASK, &st->old, NULL);
	st->blocked = 0;
}
