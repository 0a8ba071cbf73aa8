/*
 * One line per event on stderr: "program: level: message". Bytes outside
 * printable ASCII are escaped as \xHH so a peer cannot forge log lines.
 *
 * The program name and verbosity are process-wide by nature (there is one
 * stderr), so they are the only state kept here.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

enum log_level {
	LOG_FATAL = 0,
	LOG_ERROR = 1,
	LOG_WARN = 2,
	LOG_INFO = 3,
	LOG_DEBUG = 4
};

void log_init(const char *program);
/* Messages above this level are dropped: -q = LOG_FATAL, -v = LOG_DEBUG. */
void log_set_level(enum log_level max);
enum log_level log_get_level(void);
const char *log_program(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Logs at LOG_FATAL and exits with code. */
void log_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Like log_die, appending ": strerror(errno)". */
void log_die_sys(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/*
 * Writes s (n bytes) into dst as printable text, escaping anything else;
 * always NUL-terminates. For quoting peer-supplied names in messages.
 */
void log_escape(char *dst, size_t dstsize, const void *s, size_t n);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
