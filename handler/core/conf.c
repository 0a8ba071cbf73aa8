/*
 * The configuration parser (docs/conf.md): lines, words, and dispatch. The
 * whole text is checked before anything runs: every bad line is reported as
 * "file:line: problem" and the caller refuses to start. A keyword goes to
 * the first owner that declares it: the core (conf_items.c), then each
 * module in protocols[] order; each owner parses into its own conf struct.
 */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct line {
	char *tok[CONF_MAX_TOKENS];
	size_t ntok;
	char store[CONF_LINE_MAX + CONF_MAX_TOKENS + 1];
};

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

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n || s[i] == '#')
			return NULL;
		if (l->ntok == CONF_MAX_TOKENS)
			return "too many words on one line";
		l->tok[l->ntok++] = l->store + o;
		for (; i < n; i++) {
			char ch = s[i];

			if (!quoted && (ch == ' ' || ch == '\t'))
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

/* The item for keyword and its owner's conf, or NULL. */
static const struct conf_item *item_find(struct conf_parser *p,
					 const char *keyword, void **conf)
{
	for (size_t i = 0; i < conf_owners(); i++) {
		const struct conf_module *m = conf_owner(i);

		for (size_t k = 0; m && m->items && m->items[k].keyword; k++)
			if (strcmp(m->items[k].keyword, keyword) == 0) {
				*conf = conf_owner_conf(p->c, i);
				return &m->items[k];
			}
	}
	return NULL;
}

static void parse_line(struct conf_parser *p, struct line *l, const char *s,
		       size_t n)
{
	const struct conf_item *it;
	const char *why;
	void *conf;
	size_t nargs;

	if (memchr(s, 0, n)) {
		conf_error(p, "NUL byte");
		return;
	}
	/* CRLF endings are fine; a CR anywhere else (which some readers
	 * take for a line end and others for a blank) is an error. */
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (memchr(s, '\r', n)) {
		conf_error(p, "carriage return inside the line (only CRLF line "
			      "endings are allowed)");
		return;
	}
	if (n > CONF_LINE_MAX) {
		conf_error(p, "line too long (over %u bytes)", CONF_LINE_MAX);
		return;
	}
	if ((why = tokenize(l, s, n)) != NULL) {
		conf_error(p, "%s", why);
		return;
	}
	if (l->ntok == 0)
		return;
	it = item_find(p, l->tok[0], &conf);
	if (!it) {
		conf_error(p, "unknown keyword \"%s\"", l->tok[0]);
		return;
	}
	nargs = l->ntok - 1;
	if (nargs < it->min_args) {
		conf_error(p, "%s: missing arguments", l->tok[0]);
		return;
	}
	if (nargs > it->max_args) {
		conf_error(p, "%s: too many arguments", l->tok[0]);
		return;
	}
	it->parse(p, conf, l->tok, l->ntok);
}

/* A zeroed conf per module, holding its default limits. */
static int modules_init(struct conf *c)
{
	c->nmods = conf_owners() - 1;
	c->mconf = calloc(c->nmods ? c->nmods : 1, sizeof *c->mconf);
	if (!c->mconf)
		return -1;
	for (size_t i = 0; i < c->nmods; i++) {
		const struct conf_module *m = protocols[i]->conf;

		if (!m || !m->size)
			continue;
		c->mconf[i] = calloc(1, m->size);
		if (!c->mconf[i])
			return -1;
		if (m->limits)
			conf_limits_default(m->limits, c->mconf[i]);
	}
	conf_limits_default(conf_core_module.limits, c);
	return 0;
}

/* Whole-file checks after the last line, reported at line 0. */
static void modules_check(struct conf_parser *p)
{
	p->line = 0;
	for (size_t i = 0; i < conf_owners() && !p->nomem; i++) {
		const struct conf_module *m = conf_owner(i);

		if (m && m->check)
			m->check(p, conf_owner_conf(p->c, i));
	}
}

static void parse_text(struct conf_parser *p, struct line *l,
		       const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len && !p->nomem) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p->line++;
		parse_line(p, l, text + pos, n);
		pos += n + (nl != NULL);
	}
	if (!p->nomem)
		modules_check(p);
}

int conf_parse(struct conf *c, const char *name, const char *text,
	       size_t len)
{
	struct conf_parser p = { c, name, 0, 0, 0, NULL };
	struct line *l;

	memset(c, 0, sizeof *c);
	c->path = strdup(name);
	l = malloc(sizeof *l);
	p.limits_set = calloc(conf_owners(), sizeof *p.limits_set);
	if (!c->path || !l || !p.limits_set || modules_init(c) < 0) {
		p.nomem = 1;
		conf_error(&p, "out of memory");
	} else {
		parse_text(&p, l, text, len);
	}
	free(l);
	free(p.limits_set);
	if (p.nerr) {
		conf_free(c);
		return p.nomem ? -2 : -1;
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
		int e = errno;

		snprintf(c->error, sizeof c->error, "%s:0: cannot open: %s",
			 path, strerror(e));
		log_error("%s", c->error);
		/* Out of descriptors or memory: temporary (exit 111). */
		return e == EMFILE || e == ENFILE || e == ENOMEM ? -2 : -1;
	}
	text = malloc(CONF_FILE_MAX + 1);
	if (text)
		len = fread(text, 1, CONF_FILE_MAX + 1, f);
	if (!text || ferror(f) || len > CONF_FILE_MAX) {
		snprintf(c->error, sizeof c->error, "%s:0: %s", path,
			 !text ? "out of memory" :
			 ferror(f) ? "read error" : "file too large");
		log_error("%s", c->error);
		r = text && len > CONF_FILE_MAX ? -1 : -2;
		free(text);
		fclose(f);
		return r;
	}
	fclose(f);
	r = conf_parse(c, path, text, len);
	free(text);
	return r;
}
