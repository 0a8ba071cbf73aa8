#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	const char *program;
	enum log_level max;
} logger = { "?", LOG_INFO };

static const char *const level_names[] = {
	"fatal", "error", "warning", "info", "debug"
};

void log_init(const char *program)
{
	const char *slash = strrchr(program, '/');

	logger.program = slash ? slash + 1 : program;
}

void log_set_level(enum log_level max)
{
	logger.max = max;
}

enum log_level log_get_level(void)
{
	return logger.max;
}

const char *log_program(void)
{
	return logger.program;
}

void log_escape(char *dst, size_t dstsize, const void *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t o = 0;

	if (dstsize == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstsize)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstsize)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = 0;
}

static void log_vwrite(enum log_level level, const char *fmt, va_list ap,
		       int with_errno, int saved_errno)
{
	char msg[1024], line[1400];
	int n;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (with_errno) {
		size_t len = strlen(msg);

		snprintf(msg + len, sizeof msg - len, ": %s",
			 strerror(saved_errno));
	}
	/* The message itself may carry peer bytes: escape it whole. */
	n = snprintf(line, sizeof line, "%s: %s: ", logger.program,
		     level_names[level]);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	log_escape(line + n, sizeof line - (size_t)n - 1, msg, strlen(msg));
	n = (int)strlen(line);
	line[n++] = '\n';
	/* One write per line keeps lines whole when processes share stderr. */
	while (write(2, line, (size_t)n) < 0 && errno == EINTR)
		;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > logger.max)
		return;
	va_start(ap, fmt);
	log_vwrite(level, fmt, ap, 0, 0);
	va_end(ap);
}

void log_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_FATAL, fmt, ap, 0, 0);
	va_end(ap);
	exit(code);
}

void log_die_sys(int code, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_FATAL, fmt, ap, 1, e);
	va_end(ap);
	exit(code);
}
