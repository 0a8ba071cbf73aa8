/*
 * session_refuse(): a module's reason for refusing to start, logged here
 * and sent to the client by the loop (the FINAL frame's reason), so the
 * user sees why instead of a closed connection.
 */
#include <stdarg.h>
#include <stdio.h>

#include "handler.h"
#include "log.h"

void session_refuse(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->refusal, sizeof s->refusal, fmt, ap);
	va_end(ap);
	log_error("%s", s->refusal);
}
