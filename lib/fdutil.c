#include "fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fd_flags(int fd, int cmdget, int cmdset, int set, int clear)
{
	int fl = fcntl(fd, cmdget);

	if (fl < 0)
		return -1;
	return fcntl(fd, cmdset, (fl | set) & ~clear);
}

int fd_nonblock(int fd)
{
	return fd_flags(fd, F_GETFL, F_SETFL, O_NONBLOCK, 0);
}

int fd_block(int fd)
{
	return fd_flags(fd, F_GETFL, F_SETFL, 0, O_NONBLOCK);
}

int fd_cloexec(int fd)
{
	return fd_flags(fd, F_GETFD, F_SETFD, FD_CLOEXEC, 0);
}

int fd_move(int to, int fd)
{
	if (to == fd)
		return 0;
	if (dup2(fd, to) < 0)
		return -1;
	close(fd);
	return 0;
}

int fd_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t fd_read_full(int fd, void *p, size_t n)
{
	char *s = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, s + got, n - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

void fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Closes [lo, hi]: close_range, else a loop (Linux before 5.9). */
static void close_span(unsigned lo, unsigned hi)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	{
		struct rlimit rl;
		unsigned top = hi, cap = 1u << 20; /* fs.nr_open's default */

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < cap)
			cap = (unsigned)rl.rlim_cur;
		if (top > cap - 1)
			top = cap - 1;
		for (unsigned fd = lo; fd <= top && fd >= lo; fd++)
			close((int)fd);
	}
}

/* The smallest kept fd above after (UINT_MAX: none). */
static unsigned next_kept(unsigned after, const int *keep, size_t nkeep)
{
	unsigned best = UINT_MAX;

	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] >= 0 && (unsigned)keep[i] > after &&
		    (unsigned)keep[i] < best)
			best = (unsigned)keep[i];
	return best;
}

void fd_close_from(int first, const int *keep, size_t nkeep)
{
	unsigned lo = (unsigned)first;

	for (;;) {
		unsigned k = next_kept(lo == 0 ? 0 : lo - 1, keep, nkeep);

		if (k == UINT_MAX) {
			close_span(lo, UINT_MAX);
			return;
		}
		if (k > lo)
			close_span(lo, k - 1);
		lo = k + 1;
	}
}
