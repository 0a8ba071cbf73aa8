/*
 * handler-client's messages and output: what every part of the client
 * uses to report and to hand results on. A leaf: it calls nothing else in
 * the client, so the connection, the loop and the modes all depend on it
 * and never on each other for it.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd_frame.h"
#include "log.h"

void client_error(const char *fmt, ...)
{
	char msg[1024], line[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Errors are shown even with -q: the exit code alone says too little. */
	n = snprintf(line, sizeof line, "%s: error: ", log_program());
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	log_escape(line + n, sizeof line - (size_t)n - 1, msg, strlen(msg));
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0)
		return;
}

int client_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { fd, POLLOUT, 0 };

			poll(&pfd, 1, -1);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int client_exit_code(uint8_t kind, uint32_t v, int limited)
{
	if (kind == CMD_EXIT_SIGNAL)
		return 128 + (int)(v & 127);
	if (v == 0 && limited)
		return CLIENT_EXIT_PROTO;
	return v > 255 ? 255 : (int)v;
}
