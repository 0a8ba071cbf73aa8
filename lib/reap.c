#include "reap.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Processes handled per round; more wait for the next round. */
#define REAP_MAX 1024
#define REAP_ROUNDS 64

int reap_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/* Field n (4: parent, 5: process group) of /proc/PID/stat, or -1. The
 * name (field 2) may hold spaces and parentheses: the fields after the
 * last ')' are safe. */
static pid_t stat_field(pid_t pid, int n)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t len;
	int v[2];

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d %d", &v[0], &v[1]) != 2)
		return -1;
	return (pid_t)v[n == 4 ? 0 : 1];
}

static pid_t parent_of(pid_t pid)
{
	return stat_field(pid, 4);
}

static pid_t group_of(pid_t pid)
{
	return stat_field(pid, 5);
}

static int listed(pid_t pid, const pid_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return 1;
	return 0;
}

/* Appends the pids in one children file; -1 when it cannot be read. */
static int read_children(const char *path, pid_t *out, size_t *n, size_t max)
{
	FILE *f = fopen(path, "re");
	int pid;

	if (!f)
		return -1;
	while (*n < max && fscanf(f, "%d", &pid) == 1)
		if (!listed((pid_t)pid, out, *n))
			out[(*n)++] = (pid_t)pid;
	fclose(f);
	return 0;
}

/* Without /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN): every
 * process's parent, from its stat. */
static void scan_children(pid_t parent, pid_t *out, size_t *n, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL && *n < max) {
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid > 0 && !listed(pid, out, *n) &&
		    parent_of(pid) == parent)
			out[(*n)++] = pid;
	}
	closedir(d);
}

/* Appends parent's children (of all its threads) to out. */
static void children_of(pid_t parent, pid_t *out, size_t *n, size_t max)
{
	char path[96];
	struct dirent *e;
	DIR *d;
	int ok = 0;

	snprintf(path, sizeof path, "/proc/%d/task", (int)parent);
	d = opendir(path);
	if (!d)
		return; /* gone meanwhile */
	while ((e = readdir(d)) != NULL) {
		int tid = atoi(e->d_name);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%d/children",
			 (int)parent, tid);
		if (read_children(path, out, n, max) == 0)
			ok = 1;
	}
	closedir(d);
	if (!ok)
		scan_children(parent, out, n, max);
}

/* Our children not in keep, then all their descendants: set[0..*roots)
 * are the roots (our own children), the rest below them. */
static size_t strays(pid_t self, const pid_t *keep, size_t nkeep,
		     pid_t *set, size_t *roots)
{
	pid_t kids[REAP_MAX];
	size_t nk = 0, n = 0;

	children_of(self, kids, &nk, REAP_MAX);
	/* A kept command's orphan still in its group is that command's:
	 * its group kill reaches it when its request ends. */
	for (size_t i = 0; i < nk; i++)
		if (!listed(kids[i], keep, nkeep) &&
		    !listed(group_of(kids[i]), keep, nkeep))
			set[n++] = kids[i];
	*roots = n;
	for (size_t i = 0; i < n && n < REAP_MAX; i++)
		children_of(set[i], set, &n, REAP_MAX);
	return n;
}

size_t reap_strays(const pid_t *keep, size_t nkeep)
{
	static const struct timespec tick = { 0, 1000 * 1000 };
	pid_t self = getpid(), set[REAP_MAX];
	size_t total = 0;

	for (int round = 0; round < REAP_ROUNDS; round++) {
		size_t roots, n = strays(self, keep, nkeep, set, &roots);

		if (roots == 0)
			break;
		for (size_t i = 0; i < n; i++)
			kill(set[i], SIGKILL);
		total += n;
		/* Our children die at once; grandchildren whose parent is
		 * dying come to us and are reaped in the next round. */
		for (size_t i = 0; i < roots; i++)
			while (waitpid(set[i], NULL, 0) < 0 && errno == EINTR)
				;
		if (n > roots)
			nanosleep(&tick, NULL);
	}
	return total;
}
