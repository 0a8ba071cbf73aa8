/* msgpipe [-q] [-Q] [-v] [-c | -C | -s] prog [args]: arguments only. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "loop.h"
#include "version.h"

#define MSGPIPE_USAGE "usage: msgpipe [-q] [-Q] [-v] [-c | -C | -s] prog [args]"

static void usage(void)
{
	log_die(EXIT_PERM, MSGPIPE_USAGE);
}

/* --help/-h and --version/-V, only as the first argument: after it, the
 * options end at prog, whose own options are its. 1 if handled. */
static int help_or_version(const char *a)
{
	if (!strcmp(a, "--help") || !strcmp(a, "-h"))
		printf("%s\n       msgpipe -h|--help | -V|--version\n"
		       "see msgpipe(1)\n", MSGPIPE_USAGE);
	else if (!strcmp(a, "--version") || !strcmp(a, "-V"))
		printf("msgpipe %s\n", HANDLER_VERSION);
	else
		return 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct mp_loop_cfg cfg;
	int i;

	memset(&cfg, 0, sizeof cfg);
	log_init("msgpipe");
	if (argc > 1 && help_or_version(argv[1]))
		return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
	log_set_level(LOG_WARN);
	cfg.eng.role = ROLE_SERVER;
	cfg.net_in = 8;
	cfg.net_out = 9;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		for (const char *o = argv[i] + 1; *o; o++) {
			switch (*o) {
			case 'q': log_set_level(LOG_FATAL); break;
			case 'Q': log_set_level(LOG_WARN); break;
			case 'v': log_set_level(LOG_DEBUG); break;
			case 'c': cfg.eng.role = ROLE_CLIENT; break;
			case 'C': cfg.eng.role = ROLE_CLIENT_FIRST; break;
			case 's': cfg.eng.role = ROLE_SERVER; break;
			default: usage();
			}
		}
	}
	if (i >= argc)
		usage();
	if (config_from_env(&cfg.eng) < 0)
		return EXIT_PERM;
	return mp_loop_run(&cfg, argv + i);
}
