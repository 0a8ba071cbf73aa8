/*
 * The command catalogue (builtins, then configured commands), the single
 * permission check, and the capabilities document a client gets first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_priv.h"
#include "json.h"

static size_t builtin_count(const struct cmd_builtin *b)
{
	size_t n = 0;

	while (b[n].name)
		n++;
	return n;
}

static const struct cmd_builtin *builtin_find(const struct cmd_builtin *b,
					      const char *name)
{
	for (; b->name; b++)
		if (strcmp(b->name, name) == 0)
			return b;
	return NULL;
}

size_t cmd_catalogue_size(const struct cmd_builtin *b, const struct cmd_conf *c)
{
	return builtin_count(b) + c->ncommands;
}

static void entry_from_builtin(struct cmd_entry *e, const struct cmd_builtin *b)
{
	memset(e, 0, sizeof *e);
	e->name = b->name;
	e->args = b->args;
	e->desc = b->desc;
	e->perm = NULL;
	e->builtin = b;
}

static void entry_from_conf(struct cmd_entry *e, const struct conf_command *cc)
{
	memset(e, 0, sizeof *e);
	e->name = cc->name;
	e->args = cc->args_desc ? cc->args_desc :
		  cc->max_args ? "[ARG...]" : "";
	e->desc = cc->desc ? cc->desc : "";
	e->perm = cc->perm;
	e->payload = cc->payload;
	e->conf = cc;
}

void cmd_catalogue_at(const struct cmd_builtin *b, const struct cmd_conf *c,
		      size_t i, struct cmd_entry *e)
{
	size_t nb = builtin_count(b);

	if (i < nb)
		entry_from_builtin(e, &b[i]);
	else
		entry_from_conf(e, &c->commands[i - nb]);
}

int cmd_lookup(const struct cmd_builtin *b, const struct cmd_conf *c,
	       const char *name, struct cmd_entry *e)
{
	const struct cmd_builtin *bi = builtin_find(b, name);
	const struct conf_command *cc;

	if (bi) {
		entry_from_builtin(e, bi);
		return 0;
	}
	cc = cmd_conf_find(c, name);
	if (!cc)
		return -1;
	entry_from_conf(e, cc);
	return 0;
}

int cmd_permitted(const struct conf_user *u, const struct cmd_entry *e)
{
	if (!u)
		return 0;     /* cmd never runs unauthenticated */
	if (!e->perm)
		return 1;     /* builtins: every authenticated user */
	return conf_user_has(u, e->perm);
}

int cmd_visible(const struct conf_user *u, const struct cmd_conf *c,
		const struct cmd_entry *e)
{
	return !c->hide_forbidden || cmd_permitted(u, e);
}

/*
 * The synopsis conventions of man pages, kept simple on purpose: words
 * split on blanks, "[" opens and "]" closes an optional part (nesting
 * counts), "..." after a word (or alone, for the word before) repeats it.
 * Anything else is part of the name ("-p", "a|b", "KEY=VALUE"), so no
 * text is ever rejected: a synopsis is for people first.
 */
static const char *synopsis_word(const char *p, int *depth,
				 struct cmd_synarg *a)
{
	const char *end;

	while (*p == '[') {
		(*depth)++;
		p++;
	}
	a->optional = *depth > 0;
	a->name = p;
	while (*p && *p != ' ' && *p != '\t' && *p != ']')
		p++;
	end = p;
	while (*p == ']') {
		if (*depth > 0)
			(*depth)--;
		p++;
	}
	a->repeat = end - a->name >= 3 && memcmp(end - 3, "...", 3) == 0;
	a->len = (size_t)(end - a->name) - (a->repeat ? 3 : 0);
	/* Whatever follows up to the next blank ("]x") is dropped. */
	while (*p && *p != ' ' && *p != '\t')
		p++;
	return p;
}

size_t cmd_synopsis_parse(const char *text, struct cmd_synarg *out,
			  size_t max)
{
	const char *p = text ? text : "";
	int depth = 0;
	size_t n = 0;

	for (;;) {
		struct cmd_synarg a;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || n == max)
			return n;
		p = synopsis_word(p, &depth, &a);
		if (a.len == 0 && a.repeat && n > 0)
			out[n - 1].repeat = 1;      /* "FILE [...]" */
		else if (a.len > 0)
			out[n++] = a;
	}
}

/* The synopsis as [{name, optional, repeat}], beside the text. */
static void caps_synopsis(struct json *j, const char *text)
{
	struct cmd_synarg a[32];
	size_t n = cmd_synopsis_parse(text, a, sizeof a / sizeof a[0]);

	json_key(j, "synopsis");
	json_arr_begin(j);
	for (size_t i = 0; i < n; i++) {
		json_obj_begin(j);
		json_key(j, "name");
		json_strn(j, a[i].name, a[i].len);
		json_kv_bool(j, "optional", a[i].optional);
		json_kv_bool(j, "repeat", a[i].repeat);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void caps_limits(struct json *j, const struct cmd_limits *lim)
{
	json_key(j, "limits");
	json_obj_begin(j);
	json_kv_u64(j, "max_frame", lim->max_frame);
	json_kv_u64(j, "max_requests", lim->max_requests);
	json_kv_u64(j, "max_args", lim->max_args);
	json_kv_u64(j, "max_arglen", lim->max_arglen);
	json_kv_u64(j, "cmd_time_ms", lim->cmd_time_ms);
	json_kv_u64(j, "cmd_output", lim->cmd_output);
	json_kv_u64(j, "payload_window", lim->window);
	json_obj_end(j);
}

static void caps_command(struct json *j, const struct cmd_entry *e,
			 const struct conf_user *u,
			 const struct cmd_limits *lim)
{
	json_obj_begin(j);
	json_kv_str(j, "name", e->name);
	json_kv_str(j, "args", e->args);
	caps_synopsis(j, e->args);
	json_kv_str(j, "description", e->desc);
	json_kv_str(j, "permission", e->perm);
	json_kv_bool(j, "permitted", cmd_permitted(u, e));
	json_kv_bool(j, "payload", e->payload);
	json_kv_bool(j, "builtin", e->builtin != NULL);
	if (e->conf) {
		const struct conf_command *cc = e->conf;

		json_kv_u64(j, "max_args", cc->max_args);
		json_kv_u64(j, "time_limit_ms", cc->time_limit_ms ?
			    cc->time_limit_ms : lim->cmd_time_ms);
		json_kv_u64(j, "output_limit", cc->output_limit ?
			    cc->output_limit : lim->cmd_output);
		if (cc->payload_limit)
			json_kv_u64(j, "payload_limit", cc->payload_limit);
	}
	json_obj_end(j);
}

char *cmd_caps_json(const struct session *s, const struct cmd_builtin *b,
		    const struct cmd_limits *lim, size_t max, size_t *len)
{
	struct json j;
	size_t n = cmd_catalogue_size(b, s->mconf);
	char *text;

	json_init(&j, max);
	json_obj_begin(&j);
	json_kv_str(&j, "protocol", "handler-cmd");
	/* The session starts at 1 (old clients check it); VERSION moves it. */
	json_kv_u64(&j, "version", CMD_PROTOCOL_VERSION);
	json_key(&j, "versions");
	json_arr_begin(&j);
	for (uint32_t v = 1; v <= CMD_PROTOCOL_MAX; v++)
		json_u64(&j, v);
	json_arr_end(&j);
	json_kv_str(&j, "server", "handler " HANDLER_VERSION);
	json_kv_str(&j, "user", s->user ? s->user->name : "");
	caps_limits(&j, lim);
	json_key(&j, "commands");
	json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		struct cmd_entry e;

		cmd_catalogue_at(b, s->mconf, i, &e);
		if (cmd_visible(s->user, s->mconf, &e))
			caps_command(&j, &e, s->user, lim);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	if (!json_ok(&j)) {
		json_free(&j);
		errno = j.nomem ? ENOMEM : EMSGSIZE;
		return NULL;
	}
	*len = json_len(&j);
	text = j.p;  /* ownership moves to the caller */
	return text;
}
