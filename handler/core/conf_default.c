/*
 * The configuration used without -f: safe for a first run. No users, so
 * the secure layer refuses everyone; no server key; every module item
 * absent and every limit at its default (each owner's table). Parsed by
 * the same code as a file, so it is checked like one.
 */
#include "core.h"

const char conf_default_text[] =
	"# handler's embedded default configuration (docs/conf.md)\n"
	"# No users: every secure handshake is refused.\n"
	"# No module items: each protocol runs with its own defaults.\n"
	"limit idle 300\n"
	"limit handshake 10\n"
	"limit frame 64K\n"
	"require-secure cmd\n";
