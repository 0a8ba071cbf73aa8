/*
 * The cmd module's configuration items and limits (docs/conf.md). The core
 * hands over every `command`, `describe` and `command-args` line and the
 * cmd limits; the result is struct cmd_conf (cmd_conf.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_priv.h"

/* Builtin names are taken: a command cannot hide one. */
static int is_builtin(const char *name)
{
	for (const struct cmd_builtin *b = cmd_builtins; b->name; b++)
		if (strcmp(b->name, name) == 0)
			return 1;
	return 0;
}

/* payload=yes|no|SIZE: a size says yes, and at most that many bytes. */
static int payload_option(struct conf_command *cmd, const char *val)
{
	uint64_t v;

	if (strcmp(val, "yes") == 0 || strcmp(val, "no") == 0) {
		cmd->payload = strcmp(val, "yes") == 0;
		return 0;
	}
	if (conf_parse_size(val, &v) < 0 || v < 1 || v > (1ull << 50))
		return -1;
	cmd->payload = 1;
	cmd->payload_limit = v;
	return 0;
}

/* One KEY=VALUE before the "--"; seen has a bit per option. */
static int command_option(struct conf_parser *p, struct conf_command *cmd,
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
		conf_error(p, "unknown command option \"%s\" (missing \"--\"?)",
			   opt);
		return -1;
	}
	if (*seen & 1u << i) {
		conf_error(p, "duplicate command option \"%.*s\"", (int)klen,
			   opt);
		return -1;
	}
	*seen |= 1u << i;
	eq++;
	switch (i) {
	case 0:
		if (!conf_perm_ok(eq))
			break;
		free(cmd->perm);
		cmd->perm = conf_strdup(p, eq);
		return cmd->perm ? 0 : -1;
	case 1:
		if (conf_parse_u64(eq, &v) < 0 || v < 1 || v > 86400)
			break;
		cmd->time_limit_ms = v * 1000;
		return 0;
	case 2:
		if (conf_parse_size(eq, &v) < 0 || v < 1 || v > (1ull << 40))
			break;
		cmd->output_limit = v;
		return 0;
	case 3:
		if (conf_parse_u64(eq, &v) < 0 || v > 4096)
			break;
		cmd->max_args = (unsigned)v;
		return 0;
	default:
		if (payload_option(cmd, eq) < 0)
			break;
		return 0;
	}
	conf_error(p, "bad value in command option \"%s\"", opt);
	return -1;
}

static void command_clear(struct conf_command *cmd)
{
	free(cmd->perm);
	free(cmd->desc);
	free(cmd->args_desc);
	for (size_t k = 0; cmd->argv && k < cmd->argc; k++)
		free(cmd->argv[k]);
	free(cmd->argv);
}

/* A new command's name: valid, not a builtin's, not taken. */
static int command_name_ok(struct conf_parser *p, const struct cmd_conf *c,
			   const char *name)
{
	if (!conf_name_ok(name)) {
		conf_error(p, "bad command name \"%s\"", name);
		return 0;
	}
	if (is_builtin(name)) {
		conf_error(p, "command \"%s\" is a builtin", name);
		return 0;
	}
	if (cmd_conf_find(c, name)) {
		conf_error(p, "duplicate command \"%s\"", name);
		return 0;
	}
	return 1;
}

/*
 * A program that is missing or not executable would only fail when a
 * user runs it; `handler -n` (and every start) says so at its line.
 */
static int command_runnable(struct conf_parser *p,
			    const struct conf_command *cmd, const char *prog)
{
	struct stat sb;

	if (stat(prog, &sb) < 0) {
		conf_error(p, "command %s: program %s: %s", cmd->name, prog,
			   strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || access(prog, X_OK) < 0) {
		conf_error(p, "command %s: program %s is not an executable "
			   "file", cmd->name, prog);
		return -1;
	}
	return 0;
}

/* The words from "-- PROGRAM" on; i is the index of the "--" or nword. */
static int command_program(struct conf_parser *p, struct conf_command *cmd,
			   char **word, size_t nword, size_t i)
{
	if (i == nword) {
		conf_error(p, "command %s: missing \"-- PROGRAM\"", cmd->name);
		return -1;
	}
	if (++i == nword) {
		conf_error(p, "command %s: missing program after \"--\"",
			   cmd->name);
		return -1;
	}
	if (word[i][0] != '/') {
		conf_error(p, "command %s: program must be an absolute path",
			   cmd->name);
		return -1;
	}
	if (command_runnable(p, cmd, word[i]) < 0)
		return -1;
	if (!cmd->perm && !(cmd->perm = conf_strdup(p, cmd->name)))
		return -1;
	cmd->argc = nword - i;
	cmd->argv = conf_calloc(p, cmd->argc + 1, sizeof *cmd->argv);
	if (!cmd->argv)
		return -1;
	for (size_t k = 0; k < cmd->argc; k++)
		if (!(cmd->argv[k] = conf_strdup(p, word[i + k])))
			return -1;
	return 0;
}

static void item_command(struct conf_parser *p, void *conf, char **word,
			 size_t nword)
{
	struct cmd_conf *c = conf;
	struct conf_command cmd, *slot;
	unsigned seen = 0;
	size_t i;

	memset(&cmd, 0, sizeof cmd);
	if (!command_name_ok(p, c, word[1]))
		return;
	snprintf(cmd.name, sizeof cmd.name, "%s", word[1]);
	for (i = 2; i < nword && strcmp(word[i], "--") != 0; i++)
		if (command_option(p, &cmd, word[i], &seen) < 0)
			goto fail;
	if (command_program(p, &cmd, word, nword, i) < 0)
		goto fail;
	slot = conf_grow(p, &c->commands, &c->ncommands, sizeof *slot);
	if (!slot)
		goto fail;
	*slot = cmd;
	return;
fail:
	command_clear(&cmd);
}

static void command_text(struct conf_parser *p, struct cmd_conf *c,
			 char **word, size_t nword, int args)
{
	struct conf_command *cmd =
		(struct conf_command *)cmd_conf_find(c, word[1]);
	char **dst;

	if (!cmd) {
		conf_error(p, "unknown command \"%s\" (define it first)",
			   word[1]);
		return;
	}
	dst = args ? &cmd->args_desc : &cmd->desc;
	if (*dst) {
		conf_error(p, "duplicate %s for \"%s\"",
			   args ? "command-args" : "describe", word[1]);
		return;
	}
	*dst = conf_join(p, word + 2, nword - 2);
}

static void item_describe(struct conf_parser *p, void *conf, char **word,
			  size_t nword)
{
	command_text(p, conf, word, nword, 0);
}

static void item_command_args(struct conf_parser *p, void *conf,
			      char **word, size_t nword)
{
	command_text(p, conf, word, nword, 1);
}

static void item_hide_forbidden(struct conf_parser *p, void *conf,
				char **word, size_t nword)
{
	struct cmd_conf *c = conf;

	(void)nword;
	if (c->set_hide_forbidden) {
		conf_error(p, "duplicate %s", word[0]);
		return;
	}
	if (strcmp(word[1], "yes") != 0 && strcmp(word[1], "no") != 0) {
		conf_error(p, "%s must be yes or no, not \"%s\"", word[0],
			   word[1]);
		return;
	}
	c->set_hide_forbidden = 1;
	c->hide_forbidden = strcmp(word[1], "yes") == 0;
}

static void cmd_conf_free(void *conf)
{
	struct cmd_conf *c = conf;

	for (size_t i = 0; i < c->ncommands; i++)
		command_clear(&c->commands[i]);
	free(c->commands);
}

static void cmd_conf_summary(const void *conf, char *dst, size_t size)
{
	const struct cmd_conf *c = conf;

	snprintf(dst, size, "%zu commands", c ? c->ncommands : 0);
}

static const struct conf_item cmd_items[] = {
	{ "command", 3, CONF_MAX_TOKENS, item_command },
	{ "describe", 2, CONF_MAX_TOKENS, item_describe },
	{ "command-args", 2, CONF_MAX_TOKENS, item_command_args },
	{ "cmd-hide-forbidden", 1, 1, item_hide_forbidden },
	{ NULL, 0, 0, NULL }
};

#define CMD_LIMIT(f) CONF_FIELD(struct cmd_conf, f)
/* Keep in step with docs/conf.md ("Limits"). */
static const struct conf_limit cmd_limits[] = {
	{ "requests", CONF_LIMIT_COUNT, CMD_LIMIT(max_requests), 1, CMD_REQUESTS_MAX,
	  16 },
	{ "args", CONF_LIMIT_COUNT, CMD_LIMIT(max_args), 1, 4096, 64 },
	{ "arglen", CONF_LIMIT_SIZE, CMD_LIMIT(max_arglen), 1, 1u << 20,
	  4096 },
	{ "cmd-time", CONF_LIMIT_TIME, CMD_LIMIT(cmd_time_ms), 1, 86400, 60 },
	{ "cmd-output", CONF_LIMIT_SIZE, CMD_LIMIT(cmd_output), 1,
	  1ull << 40, 16u << 20 },
	{ NULL, 0, 0, 0, 0, 0, 0 }
};

const struct conf_module cmd_conf_module = {
	.size = sizeof(struct cmd_conf),
	.items = cmd_items,
	.limits = cmd_limits,
	.free = cmd_conf_free,
	.summary = cmd_conf_summary,
};
