/* libFuzzer harness: conf_parse() on arbitrary bytes must never crash,
 * leak, or accept a file and then fail a lookup on it, in the core or in a
 * module's conf (cmd, sftp, nbd). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmd_conf.h"
#include "core.h"
#include "log.h"
#include "nbd_conf.h"
#include "sftp_conf.h"

extern const struct protocol proto_cmd;
extern const struct protocol proto_sftp;
extern const struct protocol proto_nbd;

static void check_cmd(const struct cmd_conf *cc)
{
	for (size_t i = 0; i < cc->ncommands; i++)
		if (cmd_conf_find(cc, cc->commands[i].name) == NULL ||
		    cc->commands[i].argv[cc->commands[i].argc] != NULL)
			__builtin_trap();
}

static void check_sftp(const struct conf *c, const struct sftp_conf *sc)
{
	for (size_t i = 0; i < sc->nuser_roots; i++) {
		const struct sftp_user_root *r = &sc->user_roots[i];

		if (conf_user_find(c, r->user) == NULL || r->root[0] != '/' ||
		    sftp_conf_user_root(sc, r->user) != r->root)
			__builtin_trap();
	}
	if (sc->root && sc->root[0] != '/')
		__builtin_trap();
}

/* Every accepted export is found again by its own name, has a path and
 * a non-empty name, and the first one is also the default (""). */
static void check_nbd(const struct conf *c, const struct nbd_conf *nc)
{
	const struct nbd_exports *x = &nc->exports;

	for (size_t i = 0; i < x->n; i++) {
		const char *name = x->e[i].name;

		if (!name || !name[0] || !x->e[i].path || !x->e[i].path[0] ||
		    nbd_exports_find(x, (const uint8_t *)name,
				     strlen(name)) != (int)i)
			__builtin_trap();
	}
	if (x->n && nbd_exports_find(x, (const uint8_t *)"", 0) != 0)
		__builtin_trap();
	for (size_t i = 0; i < c->nusers && x->n; i++)
		(void)nbd_access(&c->users[i], &x->e[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;

	/* Errors go to stderr; thousands per second would drown the run. */
	log_set_level(LOG_FATAL);
	if (conf_parse(&c, "fuzz", (const char *)data, size) == 0) {
		for (size_t i = 0; i < c.nusers; i++) {
			if (conf_user_find(&c, c.users[i].name) == NULL)
				__builtin_trap();
			(void)conf_user_has(&c.users[i], "sftp:rw");
		}
		check_cmd(conf_module_conf(&c, &proto_cmd));
		check_sftp(&c, conf_module_conf(&c, &proto_sftp));
		check_nbd(&c, conf_module_conf(&c, &proto_nbd));
		conf_free(&c);
	} else if (strncmp(c.error, "fuzz:", 5) != 0) {
		__builtin_trap();
	}
	return 0;
}
