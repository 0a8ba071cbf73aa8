/*
 * handler-client [options] COMMAND ...: the client side of handler
 * (docs/handler-client.1). Only the command line lives here.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "keys.h"
#include "log.h"
#include "version.h"

/* To stdout for --help (asked for), to stderr after a mistake. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: handler-client [-k KEYFILE | -a] [-u USER] -p SERVERKEY "
		"[--exec 'SERVER'] [-q|-v] COMMAND\n"
		"       handler-client -h|--help | -V|--version\n"
		"commands:\n"
		"  run [-i|--stdin] CMD [ARGS...]  run a command, exit with its status\n"
		"  caps                            print the capabilities (JSON)\n"
		"  ping                            check the server answers\n"
		"  batch [--json]                  one request per stdin line, all at once\n"
		"  tunnel                          relay stdin/stdout through the secure layer\n"
		"  keygen FILE                     make an ed25519 key pair FILE, FILE.pub\n"
		"  pubkey FILE                     print the public line of a private key\n"
		"see handler-client(1)\n");
}

static const char *default_user(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u && *u)
		return u;
	u = getenv("LOGNAME");
	if (u && *u)
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : NULL;
}

static const char *default_key(char *buf, size_t size)
{
	const char *k = getenv("HANDLER_KEY"), *home = getenv("HOME");

	if (k && *k)
		return k;
	if (!home || !*home)
		return NULL;
	snprintf(buf, size, "%s/.config/handler/id_ed25519", home);
	return buf;
}

/*
 * A fresh machine has neither /etc/handler nor ~/.config/handler: make
 * the missing directories, private (0700) as ssh makes ~/.ssh.
 */
static int make_parents(const char *path)
{
	char dir[4096];

	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
		return -1;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* A server key's public half is pinned by clients; a user key's is a
 * conf item. The name says which (server_key, ssh_host_...). */
static void keygen_advice(const char *path, const char *pub)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (strstr(base, "server") || strstr(base, "host"))
		log_info("wrote %s and %s; as a server key: put `server-key "
			 "%s` in the server's conf, and have clients pin it "
			 "with -p %s", path, pub, path, pub);
	else
		log_info("wrote %s and %s; as a user key: add the line above "
			 "to the server's conf as `user NAME PERMISSIONS "
			 "<line>`", path, pub);
}

static int do_keygen(const char *path)
{
	char err[KEYS_ERR_MAX], comment[128], host[64] = "localhost";
	char pub[4096], line[KEYS_PUBLINE_MAX];
	const char *u = default_user();
	struct keys_secret k;

	if (make_parents(path) < 0) {
		client_error("%s: cannot make its directory: %s", path,
			     strerror(errno));
		return CLIENT_EXIT_PROTO;
	}
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = 0;
	snprintf(comment, sizeof comment, "%s@%s", u ? u : "user", host);
	if (keys_generate(path, comment, err) < 0) {
		client_error("%s", err);
		return CLIENT_EXIT_PROTO;
	}
	snprintf(pub, sizeof pub, "%s.pub", path);
	if (keys_load_secret(path, &k, err) < 0 ||
	    keys_format_public(k.pk, k.comment, line, sizeof line) < 0) {
		keys_secret_wipe(&k);
		client_error("%s", err);
		return CLIENT_EXIT_TEMP;
	}
	keys_secret_wipe(&k);
	printf("%s\n", line);
	keygen_advice(path, pub);
	return fflush(stdout) == 0 ? 0 : CLIENT_EXIT_TEMP;
}

static int do_pubkey(const char *path)
{
	char err[KEYS_ERR_MAX], line[KEYS_PUBLINE_MAX];
	struct keys_secret k;

	if (keys_load_secret(path, &k, err) < 0) {
		keys_secret_wipe(&k);
		client_error("%s", err);
		return CLIENT_EXIT_PROTO;
	}
	if (keys_format_public(k.pk, k.comment, line, sizeof line) < 0) {
		keys_secret_wipe(&k);
		client_error("%s: cannot format the public key", path);
		return CLIENT_EXIT_PROTO;
	}
	keys_secret_wipe(&k);
	printf("%s\n", line);
	return fflush(stdout) == 0 ? 0 : CLIENT_EXIT_TEMP;
}

/* run [-i|--stdin] CMD [ARGS...] */
static int do_run(const struct client_opts *o, int argc, char **argv)
{
	int with_stdin = 0, i = 1;

	if (i < argc && (strcmp(argv[i], "-i") == 0 ||
			 strcmp(argv[i], "--stdin") == 0)) {
		with_stdin = 1;
		i++;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc) {
		client_error("run: missing command name");
		usage(stderr);
		return CLIENT_EXIT_PROTO;
	}
	return client_cmd(o, CLIENT_RUN, with_stdin, argc - i, argv + i);
}

static int dispatch(const struct client_opts *o, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "run") == 0)
		return do_run(o, argc, argv);
	if ((strcmp(cmd, "keygen") == 0 || strcmp(cmd, "pubkey") == 0) &&
	    argc != 2) {
		client_error("%s: needs exactly one FILE", cmd);
		return CLIENT_EXIT_PROTO;
	}
	if (strcmp(cmd, "keygen") == 0)
		return do_keygen(argv[1]);
	if (strcmp(cmd, "pubkey") == 0)
		return do_pubkey(argv[1]);
	if (strcmp(cmd, "batch") == 0 && argc == 2 &&
	    strcmp(argv[1], "--json") == 0)
		return client_batch(o, 1);
	if (argc != 1) {
		client_error("%s takes no arguments", cmd);
		return CLIENT_EXIT_PROTO;
	}
	if (strcmp(cmd, "caps") == 0)
		return client_cmd(o, CLIENT_CAPS, 0, 0, NULL);
	if (strcmp(cmd, "ping") == 0)
		return client_cmd(o, CLIENT_PING, 0, 0, NULL);
	if (strcmp(cmd, "tunnel") == 0)
		return client_tunnel(o);
	if (strcmp(cmd, "batch") == 0)
		return client_batch(o, 0);
	client_error("unknown command \"%s\"", cmd);
	usage(stderr);
	return CLIENT_EXIT_PROTO;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "agent", no_argument, NULL, 'a' },
		{ "exec", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct client_opts o;
	char keybuf[4096];
	int c;

	log_init("handler-client");
	signal(SIGPIPE, SIG_IGN);
	memset(&o, 0, sizeof o);
	o.rfd = 6;
	o.wfd = 7;
	o.server_key = getenv("HANDLER_SERVER_KEY");
	o.user = default_user();
	opterr = 0;
	/* '+': options end at the command; run's arguments are the remote's. */
	while ((c = getopt_long(argc, argv, "+k:au:p:e:qvhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'k': o.keyfile = optarg; break;
		case 'a': o.agent = 1; break;
		case 'u': o.user = optarg; break;
		case 'p': o.server_key = optarg; break;
		case 'e': o.exec = optarg; break;
		case 'q':
			/* An --exec server (handler) reads this: quiet too. */
			log_set_level(LOG_FATAL);
			setenv("HANDLER_LOG", "quiet", 1);
			break;
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'h':
			usage(stdout);
			return fflush(stdout) == 0 ? 0 : CLIENT_EXIT_TEMP;
		case 'V':
			printf("handler-client %s\n", HANDLER_VERSION);
			return fflush(stdout) == 0 ? 0 : CLIENT_EXIT_TEMP;
		default:
			client_error(optopt ? "bad option -%c (or missing "
				     "argument)" : "bad option", optopt);
			usage(stderr);
			return CLIENT_EXIT_PROTO;
		}
	}
	if (!o.keyfile && !o.agent)
		o.keyfile = default_key(keybuf, sizeof keybuf);
	if (optind >= argc) {
		usage(stderr);
		return CLIENT_EXIT_PROTO;
	}
	return dispatch(&o, argc - optind, argv + optind);
}
