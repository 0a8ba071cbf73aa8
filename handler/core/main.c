/*
 * handler [-f CONF] [-s] [-q|-v] PROTOCOL [ARGS...]: serves one connection
 * on fds 0/1 and exits (docs/handler.1), or, socket-activated, each
 * connection on the sockets it was handed (listen.c). Only the command line lives here;
 * everything else is in session.c so tests and fuzzers link it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "core.h"
#include "log.h"
#include "version.h"

/* To stdout for --help (asked for), to stderr after a mistake. */
static void usage(FILE *f)
{
	fprintf(f, "usage: handler [-f CONF] [-l LOGFILE] [-s] [-q|-v] "
		"[-c MAXCONN] PROTOCOL [ARGS...]\n"
		"       handler -n [-f CONF] [-s]\n"
		"       handler -h|--help | -V|--version\n"
		"protocols:");
	for (size_t i = 0; protocols[i]; i++)
		fprintf(f, " %s", protocols[i]->name);
	fprintf(f, "\nsee handler(1) and handler.conf(5)\n");
}

/*
 * handler-client -q exports HANDLER_LOG=quiet to a server it starts with
 * --exec, so a quiet client does not get the server's info lines on the
 * terminal; errors still show (they say why), and -q or -v on the
 * server's own command line still win.
 */
static void log_from_env(void)
{
	const char *v = getenv("HANDLER_LOG");

	if (v && strcmp(v, "quiet") == 0)
		log_set_level(LOG_ERROR);
}

/* -c: how many connections socket activation serves at once. */
static int parse_count(const char *s, size_t *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || n < 1 || n > 10000)
		return -1;
	*v = n;
	return 0;
}

/*
 * inetd and xinetd hand the client's socket over as fd 2 as well: a log
 * line there would land in the client's protocol stream. Then logs go to
 * -l FILE, or nowhere.
 */
static int log_target(const char *path)
{
	struct stat s0, s2;
	int fd;

	if (!path) {
		if (fstat(0, &s0) < 0 || fstat(2, &s2) < 0 ||
		    !S_ISSOCK(s2.st_mode) || s0.st_dev != s2.st_dev ||
		    s0.st_ino != s2.st_ino)
			return 0;
		path = "/dev/null";
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fd != 2 && (dup2(fd, 2) < 0 || close(fd) < 0))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *logfile = NULL;
	struct session_opts o;
	struct listen_set ls;
	size_t max_conn = 40;
	int c, r;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	log_init("handler");
	log_from_env();
	memset(&o, 0, sizeof o);
	o.fd_in = 0;
	o.fd_out = 1;
	opterr = 0;
	/* '+': options end at the protocol name; the rest is the module's. */
	while ((c = getopt_long(argc, argv, "+c:f:l:nsqvhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
		case 'V':
			printf("handler %s\n", HANDLER_VERSION);
			return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
		case 'c':
			if (parse_count(optarg, &max_conn) < 0) {
				log_error("-c needs a number of connections "
					  "from 1 to 10000");
				return EXIT_PERM;
			}
			break;
		case 'f':
			o.conf_path = optarg;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'n':
			o.check_only = 1;
			break;
		case 's':
			o.secure = 1;
			break;
		case 'q':
			log_set_level(LOG_FATAL);
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		default:
			log_error(optopt == 'c' ? "option -%c needs a number" :
				  optopt == 'f' || optopt == 'l' ?
				  "option -%c needs a file" :
				  "unknown option -%c", optopt);
			usage(stderr);
			return EXIT_PERM;
		}
	}
	if (log_target(logfile) < 0) {
		log_error("cannot open log file %s: %s", logfile,
			  strerror(errno));
		return EXIT_TEMP;
	}
	if (o.check_only && optind == argc)
		return session_main(&o);
	if (optind >= argc) {
		usage(stderr);
		return EXIT_PERM;
	}
	if (!protocol_find(argv[optind])) {
		log_error("unknown protocol \"%s\"", argv[optind]);
		usage(stderr);
		return EXIT_PERM;
	}
	o.argc = argc - optind;
	o.argv = argv + optind;
	r = listen_activated(&ls);
	if (r < 0)
		return EXIT_PERM;
	if (r > 0)
		return listen_serve(&ls, &o, max_conn);
	return session_main(&o);
}
