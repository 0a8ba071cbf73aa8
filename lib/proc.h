/*
 * Child processes watched by a poll loop: a pidfd (readable when the child
 * exits) replaces SIGCHLD handlers, so no signal state is needed at all.
 */
#ifndef PROC_H
#define PROC_H

#include <stddef.h>
#include <sys/types.h>

struct proc {
	pid_t pid;   /* 0 when no child */
	int pidfd;   /* poll for POLLIN; -1 if the kernel lacks pidfd_open */
	int status;  /* wait status once reaped */
	int reaped;  /* it has exited and status is set */
	int session; /* leads a group of its own: kept a zombie until released */
};

/* child_fd in the child becomes a copy of parent_fd (-1: closed). */
struct proc_fdmap {
	int child_fd;
	int parent_fd;
};

/*
 * Starts argv[0] (searched in PATH when it has no slash) with the given
 * fds; envp NULL keeps our environment. The child gets fds 0-2 and the
 * map's targets, nothing else: every other fd from 3 up is closed before
 * exec (close_range), whatever we inherited. Fails (-1, errno) when the program
 * cannot be executed: the error travels back on a close-on-exec pipe, so
 * "no such program" is reported here rather than as an exit status.
 */
int proc_spawn(struct proc *p, char *const argv[], char *const envp[],
	       const struct proc_fdmap *map, size_t nmap);
/*
 * proc_spawn with the child in a session (and process group) of its own,
 * whose id is its pid: proc_kill_group then reaches everything it started
 * that did not leave the group. Once it exits, proc_reap reads its status
 * but leaves the zombie until proc_release: the group's id cannot be
 * handed to a new process meanwhile, so a late group kill never reaches a
 * stranger's group.
 */
int proc_spawn_session(struct proc *p, char *const argv[], char *const envp[],
		       const struct proc_fdmap *map, size_t nmap);
int proc_kill_group(struct proc *p, int sig);
/* 1 when the child has exited (status saved), 0 if still running, -1 error. */
int proc_reap(struct proc *p, int block);
int proc_kill(struct proc *p, int sig);
/* Closes the pidfd and reaps a session leader's zombie. */
void proc_release(struct proc *p);
/*
 * Our exit code for a wait status: the child's own code, or 111 when a
 * signal ended it (the signal is logged as a warning).
 */
int proc_exit_code(int status);

#endif
