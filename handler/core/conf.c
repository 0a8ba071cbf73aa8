/*
 * The configuration parser (docs/conf.md). The whole text is checked before
 * anything runs: every bad line is reported as "file:line: problem" and the
 * caller refuses to start. Items are dispatched from one table.
 */
#include "conf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CONF_MAX_TOKENS 128
#define CONF_MAX_ERRORS 20

struct parser {
	struct conf *c;
	const char *name;
	unsigned line;
	unsigned nerr;
	int nomem;
};

struct line {
	char *tok[CONF_MAX_TOKENS];
	size_t ntok;
	char store[CONF_LINE_MAX + CONF_MAX_TOKENS + 1];
};

static void perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void perr(struct parser *p, const char *fmt, ...)
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

static char *pstrdup(struct parser *p, const char *s)
{
	char *d = strdup(s);

	if (!d) {
		p->nomem = 1;
		perr(p, "out of memory");
	}
	return d;
}

/*
 * Appends one zeroed element to the array whose pointer is at arrp (n
 * elements of size sz). The pointer is moved with memcpy so any element
 * type works without type-punning through void **.
 */
static void *grow(struct parser *p, void *arrp, size_t *n, size_t sz)
{
	void *old;
	char *na;

	memcpy(&old, arrp, sizeof old);
	na = realloc(old, (*n + 1) * sz);
	if (!na) {
		p->nomem = 1;
		perr(p, "out of memory");
		return NULL;
	}
	memcpy(arrp, &na, sizeof na);
	memset(na + *n * sz, 0, sz);
	return na + (*n)++ * sz;
}

/* Words joined by single spaces (free text and split key lines). */
static char *join(struct parser *p, char **tok, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(tok[i]) + 1;
	s = malloc(len);
	if (!s) {
		p->nomem = 1;
		perr(p, "out of memory");
		return NULL;
	}
	s[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, tok[i]);
	}
	return s;
}

/*
 * Splits one line into tokens: blanks separate, '#' at the start of a
 * token begins a comment, double quotes group blanks (\" and \\ inside).
 * Returns NULL or what is wrong.
 */
static const char *tokenize(struct line *l, const char *s, size_t n)
{
	size_t i = 0, o = 0;

	l->ntok = 0;
	for (;;) {
		int quoted = 0;

		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == n || s[i] == '#')
			return NULL;
		if (l->ntok == CONF_MAX_TOKENS)
			return "too many words on one line";
		l->tok[l->ntok++] = l->store + o;
		for (; i < n; i++) {
			char ch = s[i];

			if (!quoted && (ch == ' ' || ch == '\t' || ch == '\r'))
				break;
			if ((unsigned char)ch < 0x20 && ch != '\t')
				return "control character";
			if (ch == 0x7f)
				return "control character";
			if (ch == '"') {
				quoted = !quoted;
				continue;
			}
			if (quoted && ch == '\\' && i + 1 < n &&
			    (s[i + 1] == '"' || s[i + 1] == '\\'))
				ch = s[++i];
			l->store[o++] = ch;
		}
		if (quoted)
			return "unterminated quote";
		l->store[o++] = 0;
	}
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CONF_NAME_MAX || s[0] == '-' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		      ch == '.' || ch == '@'))
			return 0;
	}
	return 1;
}

static int perm_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CONF_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		      ch == '.' || ch == ':'))
			return 0;
	}
	return 1;
}

/* Decimal digits only, no sign, no overflow. */
static int parse_u64(const char *s, uint64_t *v)
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

/* A byte count with an optional K, M or G (powers of 1024) suffix. */
static int parse_size(const char *s, uint64_t *v)
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
	if (parse_u64(num, v) < 0 || *v > (UINT64_MAX >> shift))
		return -1;
	*v <<= shift;
	return 0;
}

enum { LIM_TIME, LIM_SIZE, LIM_COUNT };

struct limit_def {
	const char *name;
	int kind;
	size_t off;
	int is32;
	uint64_t min, max;       /* in the unit written: seconds or bytes */
	uint64_t def;
};

#define LOFF(f) offsetof(struct conf_limits, f)
/* Keep in step with docs/conf.md ("Limits"). */
static const struct limit_def limit_defs[] = {
	{ "idle", LIM_TIME, LOFF(idle_ms), 0, 1, 86400, 300 },
	{ "handshake", LIM_TIME, LOFF(handshake_ms), 0, 1, 3600, 10 },
	{ "frame", LIM_SIZE, LOFF(max_frame), 1, 1024, 16u << 20, 65536 },
	{ "requests", LIM_COUNT, LOFF(max_requests), 1, 1, 1024, 16 },
	{ "args", LIM_COUNT, LOFF(max_args), 1, 1, 4096, 64 },
	{ "arglen", LIM_SIZE, LOFF(max_arglen), 1, 1, 1u << 20, 4096 },
	{ "cmd-time", LIM_TIME, LOFF(cmd_time_ms), 0, 1, 86400, 60 },
	{ "cmd-output", LIM_SIZE, LOFF(cmd_output), 0, 1, 1ull << 40,
	  16u << 20 },
	{ "sftp-handles", LIM_COUNT, LOFF(sftp_handles), 1, 1, 4096, 64 },
};
#define NLIMITS (sizeof limit_defs / sizeof limit_defs[0])

static void limit_store(struct conf_limits *lim, const struct limit_def *d,
			uint64_t v)
{
	char *base = (char *)lim + d->off;

	if (d->kind == LIM_TIME)
		v *= 1000;
	if (d->is32) {
		uint32_t v32 = (uint32_t)v;

		memcpy(base, &v32, sizeof v32);
	} else {
		memcpy(base, &v, sizeof v);
	}
}

static int limit_value(const struct limit_def *d, const char *s, uint64_t *v)
{
	int r = d->kind == LIM_SIZE ? parse_size(s, v) : parse_u64(s, v);

	return r < 0 || *v < d->min || *v > d->max ? -1 : 0;
}

struct state {
	unsigned limits_set;     /* bit per limit_defs entry */
};

typedef void item_fn(struct parser *p, struct line *l, struct state *st);

static void item_server_key(struct parser *p, struct line *l,
			    struct state *st)
{
	(void)st;
	if (p->c->server_key) {
		perr(p, "duplicate server-key");
		return;
	}
	if (!l->tok[1][0]) {
		perr(p, "empty server-key path");
		return;
	}
	p->c->server_key = pstrdup(p, l->tok[1]);
}

static void user_perms(struct parser *p, struct conf_user *u, const char *s)
{
	char buf[CONF_LINE_MAX + 1];
	char *save = NULL;

	if (strcmp(s, "-") == 0)
		return;
	snprintf(buf, sizeof buf, "%s", s);
	if (!*buf || buf[0] == ',' || buf[strlen(buf) - 1] == ',' ||
	    strstr(buf, ",,")) {
		perr(p, "bad permission list \"%s\"", s);
		return;
	}
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		char **slot;

		if (!perm_ok(t)) {
			perr(p, "bad permission name \"%s\"", t);
			return;
		}
		slot = grow(p, &u->perms, &u->nperms, sizeof *u->perms);
		if (!slot)
			return;
		*slot = pstrdup(p, t);
	}
}

static struct conf_user *user_get(struct parser *p, const char *name)
{
	struct conf_user *u = (struct conf_user *)conf_user_find(p->c, name);

	if (!u)
		perr(p, "unknown user \"%s\" (define it first)", name);
	return u;
}

static void item_user(struct parser *p, struct line *l, struct state *st)
{
	struct conf_user *u;
	const char *why;
	uint8_t pk[32];
	char *key;

	(void)st;
	if (!name_ok(l->tok[1])) {
		perr(p, "bad user name \"%s\"", l->tok[1]);
		return;
	}
	if (conf_user_find(p->c, l->tok[1])) {
		perr(p, "duplicate user \"%s\"", l->tok[1]);
		return;
	}
	/* The key may be given as words or as one quoted line. */
	key = join(p, l->tok + 3, l->ntok - 3);
	if (!key)
		return;
	if (conf_parse_pubkey(key, pk, &why) < 0) {
		perr(p, "user %s: %s", l->tok[1], why);
		free(key);
		return;
	}
	free(key);
	u = grow(p, &p->c->users, &p->c->nusers, sizeof *u);
	if (!u)
		return;
	snprintf(u->name, sizeof u->name, "%s", l->tok[1]);
	memcpy(u->pk, pk, sizeof pk);
	user_perms(p, u, l->tok[2]);
}

static void item_user_sftp_root(struct parser *p, struct line *l,
				struct state *st)
{
	struct conf_user *u = user_get(p, l->tok[1]);

	(void)st;
	if (!u)
		return;
	if (u->sftp_root) {
		perr(p, "duplicate user-sftp-root for \"%s\"", u->name);
		return;
	}
	if (l->tok[2][0] != '/') {
		perr(p, "sftp root must be an absolute path");
		return;
	}
	u->sftp_root = pstrdup(p, l->tok[2]);
}

static const char *const builtins[] = {
	"help", "version", "stat", "whoami", "caps", "ping", NULL
};

static int command_option(struct parser *p, struct conf_command *cmd,
			  const char *opt, unsigned *seen)
{
	static const char *const names[] = {
		"perm", "time", "output", "args", "payload", NULL
	};
	const char *eq = strchr(opt, '=');
	size_t klen = eq ? (size_t)(eq - opt) : 0;
	uint64_t v;
	unsigned i;

	for (i = 0; eq && names[i]; i++)
		if (strlen(names[i]) == klen &&
		    strncmp(opt, names[i], klen) == 0)
			break;
	if (!eq || !names[i]) {
		perr(p, "unknown command option \"%s\" (missing \"--\"?)", opt);
		return -1;
	}
	if (*seen & 1u << i) {
		perr(p, "duplicate command option \"%.*s\"", (int)klen, opt);
		return -1;
	}
	*seen |= 1u << i;
	eq++;
	switch (i) {
	case 0:
		if (!perm_ok(eq))
			break;
		free(cmd->perm);
		cmd->perm = pstrdup(p, eq);
		return cmd->perm ? 0 : -1;
	case 1:
		if (parse_u64(eq, &v) < 0 || v < 1 || v > 86400)
			break;
		cmd->time_limit_ms = v * 1000;
		return 0;
	case 2:
		if (parse_size(eq, &v) < 0 || v < 1 || v > (1ull << 40))
			break;
		cmd->output_limit = v;
		return 0;
	case 3:
		if (parse_u64(eq, &v) < 0 || v > 4096)
			break;
		cmd->max_args = (unsigned)v;
		return 0;
	default:
		if (strcmp(eq, "yes") != 0 && strcmp(eq, "no") != 0)
			break;
		cmd->payload = strcmp(eq, "yes") == 0;
		return 0;
	}
	perr(p, "bad value in command option \"%s\"", opt);
	return -1;
}

static void item_command(struct parser *p, struct line *l, struct state *st)
{
	struct conf_command cmd, *slot;
	unsigned seen = 0;
	size_t i;

	(void)st;
	memset(&cmd, 0, sizeof cmd);
	if (!name_ok(l->tok[1])) {
		perr(p, "bad command name \"%s\"", l->tok[1]);
		return;
	}
	for (i = 0; builtins[i]; i++)
		if (strcmp(builtins[i], l->tok[1]) == 0) {
			perr(p, "command \"%s\" is a builtin", l->tok[1]);
			return;
		}
	if (conf_command_find(p->c, l->tok[1])) {
		perr(p, "duplicate command \"%s\"", l->tok[1]);
		return;
	}
	snprintf(cmd.name, sizeof cmd.name, "%s", l->tok[1]);
	for (i = 2; i < l->ntok && strcmp(l->tok[i], "--") != 0; i++)
		if (command_option(p, &cmd, l->tok[i], &seen) < 0)
			goto fail;
	if (i == l->ntok) {
		perr(p, "command %s: missing \"-- PROGRAM\"", cmd.name);
		goto fail;
	}
	if (++i == l->ntok) {
		perr(p, "command %s: missing program after \"--\"", cmd.name);
		goto fail;
	}
	if (l->tok[i][0] != '/') {
		perr(p, "command %s: program must be an absolute path",
		     cmd.name);
		goto fail;
	}
	if (!cmd.perm && !(cmd.perm = pstrdup(p, cmd.name)))
		goto fail;
	cmd.argc = l->ntok - i;
	cmd.argv = calloc(cmd.argc + 1, sizeof *cmd.argv);
	if (!cmd.argv) {
		p->nomem = 1;
		perr(p, "out of memory");
		goto fail;
	}
	for (size_t k = 0; k < cmd.argc; k++)
		if (!(cmd.argv[k] = pstrdup(p, l->tok[i + k])))
			goto fail;
	slot = grow(p, &p->c->commands, &p->c->ncommands, sizeof *slot);
	if (!slot)
		goto fail;
	*slot = cmd;
	return;
fail:
	free(cmd.perm);
	for (size_t k = 0; cmd.argv && k < cmd.argc; k++)
		free(cmd.argv[k]);
	free(cmd.argv);
}

static void command_text(struct parser *p, struct line *l, int args)
{
	struct conf_command *cmd =
		(struct conf_command *)conf_command_find(p->c, l->tok[1]);
	char **dst;

	if (!cmd) {
		perr(p, "unknown command \"%s\" (define it first)", l->tok[1]);
		return;
	}
	dst = args ? &cmd->args_desc : &cmd->desc;
	if (*dst) {
		perr(p, "duplicate %s for \"%s\"",
		     args ? "command-args" : "describe", l->tok[1]);
		return;
	}
	*dst = join(p, l->tok + 2, l->ntok - 2);
}

static void item_describe(struct parser *p, struct line *l, struct state *st)
{
	(void)st;
	command_text(p, l, 0);
}

static void item_command_args(struct parser *p, struct line *l,
			      struct state *st)
{
	(void)st;
	command_text(p, l, 1);
}

static void item_sftp_root(struct parser *p, struct line *l,
			   struct state *st)
{
	(void)st;
	if (p->c->sftp_root) {
		perr(p, "duplicate sftp-root");
		return;
	}
	if (l->tok[1][0] != '/') {
		perr(p, "sftp root must be an absolute path");
		return;
	}
	if (strcmp(l->tok[2], "ro") != 0 && strcmp(l->tok[2], "rw") != 0) {
		perr(p, "sftp-root mode must be ro or rw, not \"%s\"",
		     l->tok[2]);
		return;
	}
	p->c->sftp_rw = strcmp(l->tok[2], "rw") == 0;
	p->c->sftp_root = pstrdup(p, l->tok[1]);
}

static void item_nbd_export(struct parser *p, struct line *l,
			    struct state *st)
{
	struct conf_export *e;

	(void)st;
	if (!name_ok(l->tok[1])) {
		perr(p, "bad export name \"%s\"", l->tok[1]);
		return;
	}
	if (conf_export_find(p->c, l->tok[1])) {
		perr(p, "duplicate nbd-export \"%s\"", l->tok[1]);
		return;
	}
	if (l->tok[2][0] != '/') {
		perr(p, "nbd-export %s: file must be an absolute path",
		     l->tok[1]);
		return;
	}
	if (strcmp(l->tok[3], "ro") != 0 && strcmp(l->tok[3], "rw") != 0) {
		perr(p, "nbd-export mode must be ro or rw, not \"%s\"",
		     l->tok[3]);
		return;
	}
	e = grow(p, &p->c->exports, &p->c->nexports, sizeof *e);
	if (!e)
		return;
	snprintf(e->name, sizeof e->name, "%s", l->tok[1]);
	e->rw = strcmp(l->tok[3], "rw") == 0;
	e->file = pstrdup(p, l->tok[2]);
	if (l->ntok > 4)
		e->desc = join(p, l->tok + 4, l->ntok - 4);
}

static void item_limit(struct parser *p, struct line *l, struct state *st)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < NLIMITS; i++)
		if (strcmp(limit_defs[i].name, l->tok[1]) == 0)
			break;
	if (i == NLIMITS) {
		perr(p, "unknown limit \"%s\"", l->tok[1]);
		return;
	}
	if (st->limits_set & 1u << i) {
		perr(p, "duplicate limit %s", l->tok[1]);
		return;
	}
	if (limit_value(&limit_defs[i], l->tok[2], &v) < 0) {
		perr(p, "limit %s: bad value \"%s\" (%llu..%llu%s)",
		     l->tok[1], l->tok[2],
		     (unsigned long long)limit_defs[i].min,
		     (unsigned long long)limit_defs[i].max,
		     limit_defs[i].kind == LIM_TIME ? " seconds" : "");
		return;
	}
	st->limits_set |= 1u << i;
	limit_store(&p->c->limits, &limit_defs[i], v);
}

static void item_require_secure(struct parser *p, struct line *l,
				struct state *st)
{
	(void)st;
	for (size_t i = 1; i < l->ntok; i++) {
		char **slot;

		if (!name_ok(l->tok[i])) {
			perr(p, "bad protocol name \"%s\"", l->tok[i]);
			return;
		}
		if (conf_requires_secure(p->c, l->tok[i]))
			continue;
		slot = grow(p, &p->c->require_secure,
			    &p->c->nrequire_secure, sizeof *slot);
		if (!slot || !(*slot = pstrdup(p, l->tok[i])))
			return;
	}
}

static const struct item {
	const char *keyword;
	size_t min_args, max_args;
	item_fn *fn;
} items[] = {
	{ "server-key", 1, 1, item_server_key },
	{ "user", 3, CONF_MAX_TOKENS, item_user },
	{ "user-sftp-root", 2, 2, item_user_sftp_root },
	{ "command", 3, CONF_MAX_TOKENS, item_command },
	{ "describe", 2, CONF_MAX_TOKENS, item_describe },
	{ "command-args", 2, CONF_MAX_TOKENS, item_command_args },
	{ "sftp-root", 2, 2, item_sftp_root },
	{ "nbd-export", 3, CONF_MAX_TOKENS, item_nbd_export },
	{ "limit", 2, 2, item_limit },
	{ "require-secure", 1, CONF_MAX_TOKENS, item_require_secure },
};

static void parse_line(struct parser *p, struct line *l, struct state *st,
		       const char *s, size_t n)
{
	const char *why;
	size_t i, nargs;

	if (memchr(s, 0, n)) {
		perr(p, "NUL byte");
		return;
	}
	if (n > CONF_LINE_MAX) {
		perr(p, "line too long (over %u bytes)", CONF_LINE_MAX);
		return;
	}
	if ((why = tokenize(l, s, n)) != NULL) {
		perr(p, "%s", why);
		return;
	}
	if (l->ntok == 0)
		return;
	for (i = 0; i < sizeof items / sizeof items[0]; i++)
		if (strcmp(items[i].keyword, l->tok[0]) == 0)
			break;
	if (i == sizeof items / sizeof items[0]) {
		perr(p, "unknown keyword \"%s\"", l->tok[0]);
		return;
	}
	nargs = l->ntok - 1;
	if (nargs < items[i].min_args) {
		perr(p, "%s: missing arguments", l->tok[0]);
		return;
	}
	if (nargs > items[i].max_args) {
		perr(p, "%s: too many arguments", l->tok[0]);
		return;
	}
	items[i].fn(p, l, st);
}

static void limits_default(struct conf_limits *lim)
{
	for (size_t i = 0; i < NLIMITS; i++)
		limit_store(lim, &limit_defs[i], limit_defs[i].def);
}

int conf_parse(struct conf *c, const char *name, const char *text,
	       size_t len)
{
	struct parser p = { c, name, 0, 0, 0 };
	struct state st = { 0 };
	struct line *l;
	size_t pos = 0;

	memset(c, 0, sizeof *c);
	limits_default(&c->limits);
	c->path = strdup(name);
	l = malloc(sizeof *l);
	if (!c->path || !l) {
		free(l);
		perr(&p, "out of memory");
		conf_free(c);
		return -1;
	}
	while (pos < len && !p.nomem) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		parse_line(&p, l, &st, text + pos, n);
		pos += n + (nl != NULL);
	}
	free(l);
	if (p.nerr) {
		conf_free(c);
		return -1;
	}
	return 0;
}

int conf_load(struct conf *c, const char *path)
{
	char *text;
	size_t len = 0;
	FILE *f;
	int r;

	if (!path)
		return conf_parse(c, "(embedded default)", conf_default_text,
				  strlen(conf_default_text));
	memset(c, 0, sizeof *c);
	f = fopen(path, "r");
	if (!f) {
		snprintf(c->error, sizeof c->error, "%s:0: cannot open: %s",
			 path, strerror(errno));
		log_error("%s", c->error);
		return -1;
	}
	text = malloc(CONF_FILE_MAX + 1);
	if (text)
		len = fread(text, 1, CONF_FILE_MAX + 1, f);
	if (!text || ferror(f) || len > CONF_FILE_MAX) {
		snprintf(c->error, sizeof c->error, "%s:0: %s", path,
			 !text ? "out of memory" :
			 ferror(f) ? "read error" : "file too large");
		log_error("%s", c->error);
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	r = conf_parse(c, path, text, len);
	free(text);
	return r;
}
