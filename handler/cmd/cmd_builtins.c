/*
 * The builtin commands. Each produces its whole output as text at once
 * (it is small and bounded); cmd.c sends it as bands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cmd_priv.h"

/* Builtin output never grows past this (the caps document included). */
#define CMD_TEXT_MAX (1024 * 1024)

void cmd_text_add(struct cmd_text *t, const char *s, size_t n)
{
	if (t->err)
		return;
	if (n > CMD_TEXT_MAX - t->len) {
		t->err = EMSGSIZE;
		return;
	}
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 256;
		char *p;

		while (cap < t->len + n + 1)
			cap *= 2;
		p = realloc(t->p, cap);
		if (!p) {
			t->err = ENOMEM;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = 0;
}

void cmd_text_printf(struct cmd_text *t, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->err = EMSGSIZE;
		return;
	}
	cmd_text_add(t, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void cmd_text_free(struct cmd_text *t)
{
	free(t->p);
	memset(t, 0, sizeof *t);
}

static int usage_error(struct cmd_text *err, const char *usage)
{
	cmd_text_printf(err, "usage: %s", usage);
	return -CMD_E_INVALID;
}

static int bi_ping(struct cmd_state *st, int argc, char **argv,
		   struct cmd_text *out, struct cmd_text *err)
{
	(void)st;
	(void)argv;
	if (argc != 1)
		return usage_error(err, "ping");
	cmd_text_printf(out, "pong\n");
	return 0;
}

static int bi_version(struct cmd_state *st, int argc, char **argv,
		      struct cmd_text *out, struct cmd_text *err)
{
	(void)argv;
	if (argc != 1)
		return usage_error(err, "version");
	cmd_text_printf(out, "handler %s (cmd protocol %u)\n", HANDLER_VERSION,
			(unsigned)st->version);
	return 0;
}

static int bi_whoami(struct cmd_state *st, int argc, char **argv,
		     struct cmd_text *out, struct cmd_text *err)
{
	(void)argv;
	if (argc != 1)
		return usage_error(err, "whoami");
	cmd_text_printf(out, "%s\n", st->s->user ? st->s->user->name : "");
	return 0;
}

static int bi_caps(struct cmd_state *st, int argc, char **argv,
		   struct cmd_text *out, struct cmd_text *err)
{
	size_t len;
	char *json;

	(void)argv;
	if (argc != 1)
		return usage_error(err, "caps");
	json = cmd_caps_json(st->s, cmd_builtins, &st->lim, CMD_TEXT_MAX - 1,
			     &len);
	if (!json) {
		/* Short of memory is not "too large": say which. */
		cmd_text_printf(err, "%s", errno == ENOMEM ? strerror(ENOMEM) :
				"capabilities too large");
		return -CMD_E_INTERNAL;
	}
	cmd_text_add(out, json, len);
	cmd_text_add(out, "\n", 1);
	free(json);
	return 0;
}

static void help_line(struct cmd_text *out, const struct cmd_entry *e,
		      const struct conf_user *u)
{
	char syn[CONF_NAME_MAX + 96], line[1024];
	int ok = cmd_permitted(u, e);
	size_t n;

	snprintf(syn, sizeof syn, "%s%s%s", e->name, *e->args ? " " : "",
		 e->args);
	snprintf(line, sizeof line, "%-24s %s%s%s%s", syn, e->desc,
		 ok ? "" : *e->desc ? " [needs permission " :
		 "[needs permission ", ok ? "" : e->perm,
		 ok ? "" : "]");
	n = strlen(line);
	while (n > 0 && line[n - 1] == ' ')
		n--;
	cmd_text_add(out, line, n);
	cmd_text_add(out, "\n", 1);
}

static void help_one(struct cmd_text *out, const struct cmd_entry *e,
		     const struct conf_user *u)
{
	cmd_text_printf(out, "usage: %s%s%s\n", e->name, *e->args ? " " : "",
			e->args);
	if (*e->desc)
		cmd_text_printf(out, "%s\n", e->desc);
	if (e->perm)
		cmd_text_printf(out, "permission: %s (%s)\n", e->perm,
				cmd_permitted(u, e) ? "granted" : "not granted");
	else
		cmd_text_printf(out, "permission: none (builtin)\n");
	cmd_text_printf(out, "payload: %s\n", e->payload ? "yes" : "no");
	if (e->conf)
		cmd_text_printf(out, "user arguments: at most %u\n",
				e->conf->max_args);
}

static int bi_help(struct cmd_state *st, int argc, char **argv,
		   struct cmd_text *out, struct cmd_text *err)
{
	const struct cmd_conf *c = st->s->mconf;
	struct cmd_entry e;

	if (argc > 2)
		return usage_error(err, "help [COMMAND]");
	if (argc == 2) {
		if (cmd_lookup(cmd_builtins, c, argv[1], &e) < 0 ||
		    !cmd_visible(st->s->user, c, &e)) {
			cmd_text_printf(err, "help: no such command: %s\n",
					argv[1]);
			return 1;
		}
		help_one(out, &e, st->s->user);
		return 0;
	}
	for (size_t i = 0; i < cmd_catalogue_size(cmd_builtins, c); i++) {
		cmd_catalogue_at(cmd_builtins, c, i, &e);
		if (cmd_visible(st->s->user, c, &e))
			help_line(out, &e, st->s->user);
	}
	return 0;
}

/* Peer-supplied strings (environment) printed on one line, tamed. */
static void stat_clean(char *dst, size_t size, const char *s)
{
	size_t i = 0;

	for (; s && *s && i + 1 < size; s++)
		dst[i++] = (*s > 0x20 && *s < 0x7f) ? *s : '?';
	dst[i] = 0;
}

static void stat_item(struct cmd_text *out, int pf, const char *key,
		      const char *label, const char *val)
{
	if (pf)
		cmd_text_printf(out, "%s=%s\n", key, val);
	else
		cmd_text_printf(out, "%-22s %s\n", label, *val ? val : "-");
}

static void stat_num(struct cmd_text *out, int pf, const char *key,
		     const char *label, unsigned long long v)
{
	char tmp[32];

	snprintf(tmp, sizeof tmp, "%llu", v);
	stat_item(out, pf, key, label, tmp);
}

static int bi_stat(struct cmd_state *st, int argc, char **argv,
		   struct cmd_text *out, struct cmd_text *err)
{
	const struct session *s = st->s;
	const struct cmd_limits *l = &st->lim;
	char tmp[128];
	int pf = 0;

	if (argc == 2 && strcmp(argv[1], "-p") == 0)
		pf = 1;
	else if (argc != 1)
		return usage_error(err, "stat [-p]");
	/* Parser-friendly values have no spaces: the version alone. */
	stat_item(out, pf, "server_version", "server:",
		  pf ? HANDLER_VERSION : "handler " HANDLER_VERSION);
	stat_num(out, pf, "protocol_version", "protocol version:",
		 st->version);
	stat_item(out, pf, "user", "user:", s->user ? s->user->name : "");
	stat_clean(tmp, sizeof tmp, s->user_fp);
	stat_item(out, pf, "user_key", "user key:", tmp);
	stat_clean(tmp, sizeof tmp, s->peer.proto);
	stat_item(out, pf, "peer_proto", "peer protocol:", tmp);
	stat_clean(tmp, sizeof tmp, s->peer.remote_ip);
	stat_item(out, pf, "peer_ip", "peer address:", tmp);
	stat_clean(tmp, sizeof tmp, s->peer.remote_port);
	stat_item(out, pf, "peer_port", "peer port:", tmp);
	stat_num(out, pf, "uptime_ms", "connection uptime ms:",
		 (clock_now() - s->started) / NS_PER_MS);
	stat_num(out, pf, "requests_served", "requests served:", st->served);
	stat_num(out, pf, "requests_refused", "requests refused:",
		 st->refused);
	/* This request counts as in flight while it runs. */
	stat_num(out, pf, "requests_in_flight", "requests in flight:",
		 st->inflight);
	stat_num(out, pf, "bytes_in", "bytes in:", s->bytes_in);
	stat_num(out, pf, "bytes_out", "bytes out:", s->bytes_out);
	stat_num(out, pf, "max_frame", "limit frame:", l->max_frame);
	stat_num(out, pf, "max_requests", "limit requests:", l->max_requests);
	stat_num(out, pf, "max_args", "limit args:", l->max_args);
	stat_num(out, pf, "max_arglen", "limit arglen:", l->max_arglen);
	stat_num(out, pf, "cmd_time_ms", "limit cmd time ms:", l->cmd_time_ms);
	stat_num(out, pf, "cmd_output", "limit cmd output:", l->cmd_output);
	return 0;
}

const struct cmd_builtin cmd_builtins[] = {
	{ "help", "[COMMAND]", "list the commands, or describe one", bi_help },
	{ "version", "", "print the server's version", bi_version },
	{ "stat", "[-p]", "connection and server status (-p: key=value lines)",
	  bi_stat },
	{ "whoami", "", "print the authenticated user name", bi_whoami },
	{ "caps", "", "print the capabilities document (JSON)", bi_caps },
	{ "ping", "", "answer \"pong\"", bi_ping },
	{ NULL, NULL, NULL, NULL }
};
