#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "fdutil.h"
#include "log.h"

/* The highest target fd plus one, so temporary copies never collide. */
static int fdmap_floor(const struct proc_fdmap *map, size_t nmap)
{
	int floor = 10;

	for (size_t i = 0; i < nmap; i++)
		if (map[i].child_fd >= floor)
			floor = map[i].child_fd + 1;
	return floor;
}

/*
 * Nothing we inherited reaches the program: every fd from 3 up is closed
 * but the ones the map places (msgpipe's 6/7 for a client) and the error
 * pipe (close-on-exec, needed until exec).
 */
static void close_inherited(const struct proc_fdmap *map, size_t nmap,
			    int errfd)
{
	int keep[17];
	size_t n = 0;

	for (size_t i = 0; i < nmap && n < 16; i++)
		if (map[i].parent_fd >= 0)
			keep[n++] = map[i].child_fd;
	keep[n++] = errfd;
	fd_close_from(3, keep, n);
}

static void child_setup_fds(const struct proc_fdmap *map, size_t nmap,
			    int errfd)
{
	int tmp[16];
	int floor = fdmap_floor(map, nmap);

	if (nmap > sizeof tmp / sizeof tmp[0])
		_exit(EXIT_TEMP);
	/* Two passes: lift every source above all targets, then place. */
	for (size_t i = 0; i < nmap; i++) {
		tmp[i] = -1;
		if (map[i].parent_fd >= 0) {
			tmp[i] = fcntl(map[i].parent_fd, F_DUPFD, floor);
			if (tmp[i] < 0)
				goto fail;
		}
	}
	for (size_t i = 0; i < nmap; i++) {
		if (tmp[i] < 0) {
			close(map[i].child_fd);
			continue;
		}
		if (dup2(tmp[i], map[i].child_fd) < 0)
			goto fail;
		close(tmp[i]);
		/* The child expects ordinary blocking fds. */
		fd_block(map[i].child_fd);
	}
	close_inherited(map, nmap, errfd);
	return;
fail:
	{
		int e = errno;

		if (write(errfd, &e, sizeof e) < 0)
			_exit(EXIT_TEMP);
		_exit(EXIT_TEMP);
	}
}

static int spawn(struct proc *p, char *const argv[], char *const envp[],
		 const struct proc_fdmap *map, size_t nmap, int session)
{
	int ep[2], e = 0;
	ssize_t r;
	pid_t pid;

	memset(p, 0, sizeof *p);
	p->pidfd = -1;
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(ep[0]);
		close(ep[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		int errfd;

		close(ep[0]);
		signal(SIGPIPE, SIG_DFL);
		/* The program starts with no signal blocked (we may block
		 * SIGTERM & co. for a signalfd). */
		{
			sigset_t none;

			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
		}
		/* A fresh child is never a group leader: setsid cannot fail. */
		if (session)
			setsid();
		/* The error pipe must not sit on a target fd (8 or 9 under
		 * curvecpserver), or placing the child's fds would close it. */
		errfd = fcntl(ep[1], F_DUPFD_CLOEXEC, fdmap_floor(map, nmap));
		if (errfd < 0)
			_exit(EXIT_TEMP);
		close(ep[1]);
		ep[1] = errfd;
		child_setup_fds(map, nmap, ep[1]);
		if (envp)
			execvpe(argv[0], argv, envp);
		else
			execvp(argv[0], argv);
		e = errno;
		if (write(ep[1], &e, sizeof e) < 0)
			_exit(EXIT_TEMP);
		_exit(EXIT_TEMP);
	}
	close(ep[1]);
	do
		r = read(ep[0], &e, sizeof e);
	while (r < 0 && errno == EINTR);
	close(ep[0]);
	p->pid = pid;
	if (r == (ssize_t)sizeof e) {
		waitpid(pid, NULL, 0);
		p->pid = 0;
		errno = e;
		return -1;
	}
#ifdef SYS_pidfd_open
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd >= 0)
		fd_cloexec(p->pidfd);
#endif
	return 0;
}

int proc_spawn(struct proc *p, char *const argv[], char *const envp[],
	       const struct proc_fdmap *map, size_t nmap)
{
	return spawn(p, argv, envp, map, nmap, 0);
}

int proc_spawn_session(struct proc *p, char *const argv[], char *const envp[],
		       const struct proc_fdmap *map, size_t nmap)
{
	int r = spawn(p, argv, envp, map, nmap, 1);

	if (r == 0)
		p->session = 1;
	return r;
}

/* Also after the leader exited: its zombie still holds the group's id. */
int proc_kill_group(struct proc *p, int sig)
{
	if (p->pid <= 0 || !p->session)
		return 0;
	return kill(-p->pid, sig);
}

/* Status without reaping (WNOWAIT): 1 exited, 0 running, -1 error. */
static int peek_exit(struct proc *p, int block)
{
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof si);
	do
		r = waitid(P_PID, (id_t)p->pid, &si,
			   WEXITED | WNOWAIT | (block ? 0 : WNOHANG));
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (si.si_pid == 0)
		return 0;
	p->status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) :
		    si.si_code == CLD_DUMPED ? W_EXITCODE(0, si.si_status) | 0x80 :
		    W_EXITCODE(0, si.si_status);
	return 1;
}

int proc_reap(struct proc *p, int block)
{
	pid_t r;

	if (p->reaped)
		return 1;
	if (p->pid <= 0)
		return -1;
	if (p->session) {
		int e = peek_exit(p, block);

		if (e <= 0)
			return e;
		p->reaped = 1;
		fd_close(&p->pidfd);
		return 1;
	}
	do
		r = waitpid(p->pid, &p->status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	p->reaped = 1;
	fd_close(&p->pidfd);
	return 1;
}

int proc_kill(struct proc *p, int sig)
{
	if (p->pid <= 0 || p->reaped)
		return 0;
	return kill(p->pid, sig);
}

void proc_release(struct proc *p)
{
	fd_close(&p->pidfd);
	if (p->session && p->pid > 0 && p->reaped) {
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->session = 0;
	}
}

int proc_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) {
		log_warn("child killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
		return EXIT_TEMP;
	}
	return EXIT_TEMP;
}
