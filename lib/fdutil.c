#include "fdutil.h"

#include <errno.h>
#include <fcntl.h>
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
