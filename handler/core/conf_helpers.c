/*
 * What item parsers (the core's and the modules') build on: errors tied to
 * the current line, allocation that reports failure there, and the checks
 * and number forms every item shares (conf.h).
 */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CONF_MAX_ERRORS 20

void conf_error(struct conf_parser *p, const char *fmt, ...)
{
	char msg[200], full[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "%s:%u: %s", p->name, p->line, msg);
	if (p->nerr == 0)
		snprintf(p->c->error, sizeof p->c->error, "%s", full);
	if (p->nerr < CONF_MAX_ERRORS)
		log_error("%s", full);
	else if (p->nerr == CONF_MAX_ERRORS)
		log_error("%s: too many errors, not reporting more", p->name);
	p->nerr++;
}

static void nomem(struct conf_parser *p)
{
	p->nomem = 1;
	conf_error(p, "out of memory");
}

char *conf_strdup(struct conf_parser *p, const char *s)
{
	char *d = strdup(s);

	if (!d)
		nomem(p);
	return d;
}

void *conf_calloc(struct conf_parser *p, size_t n, size_t size)
{
	void *v = calloc(n, size);

	if (!v)
		nomem(p);
	return v;
}

/*
 * The array pointer is moved with memcpy so any element type works without
 * type-punning through void **.
 */
void *conf_grow(struct conf_parser *p, void *arrp, size_t *n, size_t size)
{
	void *old;
	char *na;

	memcpy(&old, arrp, sizeof old);
	na = realloc(old, (*n + 1) * size);
	if (!na) {
		nomem(p);
		return NULL;
	}
	memcpy(arrp, &na, sizeof na);
	memset(na + *n * size, 0, size);
	return na + (*n)++ * size;
}

char *conf_join(struct conf_parser *p, char **word, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(word[i]) + 1;
	s = malloc(len);
	if (!s) {
		nomem(p);
		return NULL;
	}
	s[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, word[i]);
	}
	return s;
}

static int chars_ok(const char *s, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CONF_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		      ch == '.' || strchr(extra, ch)))
			return 0;
	}
	return 1;
}

int conf_name_ok(const char *s)
{
	return s[0] != '-' && s[0] != '.' && chars_ok(s, "@");
}

int conf_perm_ok(const char *s)
{
	return chars_ok(s, ":");
}

int conf_parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}

/* K, M and G are powers of 1024. */
int conf_parse_size(const char *s, uint64_t *v)
{
	char num[32];
	size_t n = strlen(s);
	unsigned shift = 0;

	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	default: break;
	}
	if (shift)
		num[n - 1] = 0;
	if (conf_parse_u64(num, v) < 0 || *v > (UINT64_MAX >> shift))
		return -1;
	*v <<= shift;
	return 0;
}

const struct conf_user *conf_user_get(struct conf_parser *p,
				      const char *name)
{
	const struct conf_user *u = conf_user_find(p->c, name);

	if (!u)
		conf_error(p, "unknown user \"%s\" (define it first)", name);
	return u;
}
