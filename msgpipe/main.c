/* msgpipe [-q] [-Q] [-v] [-c | -C | -s] prog [args]: arguments only. */
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "loop.h"

static void usage(void)
{
	log_die(EXIT_PERM, "usage: msgpipe [-q] [-Q] [-v] [-c | -C | -s] "
			   "prog [args]");
}

int main(int argc, char **argv)
{
	struct mp_loop_cfg cfg;
	int i;

	memset(&cfg, 0, sizeof cfg);
	log_init("msgpipe");
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
