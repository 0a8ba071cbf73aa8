/*
 * The configuration used without -f: safe for a first run. No users, so
 * the secure layer refuses everyone; no commands beyond the builtins; no
 * SFTP root (give one on the protocol's command line); conservative limits.
 * Parsed by the same code as a file, so it is checked like one.
 */
#include "conf.h"

const char conf_default_text[] =
	"# handler's embedded default configuration (docs/conf.md)\n"
	"# No users: every secure handshake is refused.\n"
	"# No commands: builtins only. No sftp-root: read-only, none.\n"
	"limit idle 300\n"
	"limit handshake 10\n"
	"limit frame 64K\n"
	"limit requests 16\n"
	"limit args 64\n"
	"limit arglen 4K\n"
	"limit cmd-time 60\n"
	"limit cmd-output 16M\n"
	"limit sftp-handles 64\n"
	"require-secure cmd\n";
