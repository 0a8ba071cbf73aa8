/*
 * The cmd module's configuration (docs/conf.md): the commands it may run
 * (`command`, `describe`, `command-args`) and its limits (requests, args,
 * arglen, cmd-time, cmd-output). cmd_conf.c parses them into struct
 * cmd_conf, which the module gets as s->mconf.
 */
#ifndef CMD_CONF_H
#define CMD_CONF_H

#include <stddef.h>
#include <string.h>
#include <stdint.h>

#include "conf.h"

struct conf_command {
	char name[CONF_NAME_MAX];
	char *perm;                /* permission a user needs to run it */
	char *desc;                /* one line for help/caps; may be NULL */
	char *args_desc;           /* e.g. "FILE..." for help/caps; may be NULL */
	char **argv;               /* program and fixed args, NULL-terminated */
	size_t argc;
	unsigned max_args;         /* user args allowed after the fixed ones */
	int payload;               /* may take a payload on its stdin */
	uint64_t payload_limit;    /* payload=SIZE: most bytes; 0 = no limit */
	uint64_t time_limit_ms;    /* killed after this long; 0 = cmd_time_ms */
	uint64_t output_limit;     /* stdout+stderr bytes; 0 = cmd_output */
};

struct cmd_conf {
	struct conf_command *commands;
	size_t ncommands;
	uint32_t max_requests;     /* limit requests: in flight at once */
	uint32_t max_args;         /* limit args: argv entries in a request */
	uint32_t max_arglen;       /* limit arglen: bytes in one argument */
	uint64_t cmd_time_ms;      /* limit cmd-time: default time limit */
	uint64_t cmd_output;       /* limit cmd-output: default output limit */
	int hide_forbidden;        /* cmd-hide-forbidden: caps/help omit them */
	int set_hide_forbidden;
};

extern const struct conf_module cmd_conf_module;

/*
 * Inline so that the catalogue (cmd_caps.c) and the conf parser, which
 * checks names against the builtins, depend on no file of each other.
 */
static inline const struct conf_command *
cmd_conf_find(const struct cmd_conf *c, const char *name)
{
	for (size_t i = 0; i < c->ncommands; i++)
		if (strcmp(c->commands[i].name, name) == 0)
			return &c->commands[i];
	return NULL;
}

#endif
