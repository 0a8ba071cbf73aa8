/*
 * A session's state: its start (sftp-server's options, the root, the
 * start directory, the limits) and its end. Which root, and whether it is
 * writable, is the policy's to say (sftp_policy.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "sftp_priv.h"

int sftp_usage(const char *why)
{
	log_error("sftp: %s; usage: sftp [-R] [-A|-S] [-d START] [-u UMASK] "
		  "[-e] [-l LEVEL] [-f FACILITY] [ROOT]", why);
	return EXIT_PERM;
}

static int parse_umask(const char *v, mode_t *m)
{
	char *end;
	long u;

	errno = 0;
	u = strtol(v, &end, 8);
	if (errno || end == v || *end || u < 0 || u > 0777)
		return -1;
	*m = (mode_t)u;
	return 0;
}

/* sftp-server's options, clustered or not; -e -l -f are accepted and
 * ignored so handler can be sshd's "Subsystem sftp". */
int sftp_parse_args(int argc, char **argv, struct sftp_args *a)
{
	int i;

	memset(a, 0, sizeof *a);
	/* Data written is on disk when CLOSE is answered OK; -A opts out. */
	a->sync_close = 1;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i] + 1;

		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		for (; *o; o++) {
			const char *v;

			if (strchr("ReSA", *o)) {
				if (*o == 'R')
					a->readonly = 1;
				if (*o == 'S')
					a->sync_close = 1;
				if (*o == 'A')
					a->sync_close = 0;
				continue;
			}
			if (!strchr("dulf", *o))
				return sftp_usage("unknown option");
			v = o[1] ? o + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v)
				return sftp_usage("option needs a value");
			if (*o == 'd')
				a->start = v;
			if (*o == 'u') {
				if (parse_umask(v, &a->umask) < 0)
					return sftp_usage("bad umask");
				a->umask_set = 1;
			}
			break;
		}
	}
	if (argc - i > 1)
		return sftp_usage("too many arguments");
	a->root = i < argc ? argv[i] : NULL;
	return 0;
}

static int open_root(struct sftp_state *st, const char *root)
{
	struct stat sb;

	if (root[0] != '/')
		return sftp_usage("ROOT must be an absolute path");
	st->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st->root_fd < 0 || fstat(st->root_fd, &sb) < 0) {
		int err = errno;

		session_refuse(st->s, "sftp: cannot open root %s: %s", root,
			       strerror(err));
		return (err == ENOENT || err == ENOTDIR || err == EACCES)
			       ? EXIT_PERM
			       : EXIT_TEMP;
	}
	st->root_dev = sb.st_dev;
	st->root_ino = sb.st_ino;
	return 0;
}

/* sftp-server's -d tokens: %u is the user's name, %% a percent sign. */
static int expand_start(const struct sftp_state *st, const char *in,
			char *out, size_t size)
{
	size_t n = 0;

	for (; *in; in++) {
		const char *add = NULL;
		char one[2] = { *in, 0 };

		if (*in == '%') {
			in++;
			if (*in == '%')
				add = "%";
			else if (*in == 'u' && st->s->user)
				add = st->s->user->name;
			else
				return -1;
		}
		if (!add)
			add = one;
		if (n + strlen(add) >= size)
			return -1;
		strcpy(out + n, add);
		n += strlen(add);
	}
	out[n] = 0;
	return 0;
}

static void set_start(struct sftp_state *st, const char *start)
{
	char want[SFTP_PATH_MAX], out[SFTP_PATH_MAX];
	int fd;

	strcpy(st->cwd, "/");
	if (!start)
		return;
	if (expand_start(st, start, want, sizeof want) < 0 ||
	    sftp_realpath(st, want, out, sizeof out) < 0 ||
	    (fd = sftp_openat2(st->root_fd, out, O_PATH | O_DIRECTORY, 0)) < 0) {
		log_warn("sftp: start directory %s not found in the root; "
			 "using /", start);
		return;
	}
	close(fd);
	strcpy(st->cwd, out);
}

/* Sizes from the core's buffers: a request and its reply always fit. */
static int set_limits(struct sftp_state *st)
{
	const struct session *s = st->s;
	const struct sftp_conf *c = s->mconf;
	uint32_t handles = c && c->handles ? c->handles : SFTP_DEFAULT_HANDLES;

	if (s->in.cap < 4 + SFTP_SMALL_REPLY ||
	    s->out.cap < SFTP_READDIR_REPLY + SFTP_SMALL_REPLY) {
		log_error("sftp: session buffers too small");
		return EXIT_TEMP;
	}
	st->max_packet = SFTP_MAX_PACKET;
	if (s->in.cap - 4 < st->max_packet)
		st->max_packet = (uint32_t)(s->in.cap - 4);
	st->max_data = st->max_packet - 1024;
	if (s->out.cap - SFTP_DATA_HDR < st->max_data)
		st->max_data = (uint32_t)(s->out.cap - SFTP_DATA_HDR);
	if (sftp_handles_init(&st->handles, handles) < 0) {
		log_error("sftp: out of memory");
		return EXIT_TEMP;
	}
	return 0;
}

struct sftp_state *sftp_state_new(struct session *s,
				  const struct sftp_args *a)
{
	struct sftp_state *st = calloc(1, sizeof *st);

	if (!st) {
		log_error("sftp: out of memory");
		return NULL;
	}
	st->s = s;
	st->root_fd = -1;
	st->copy.rfd = st->copy.wfd = -1;
	st->copy_step = SFTP_COPY_STEP;
	st->sync_close = a->sync_close;
	return st;
}

int sftp_state_open(struct sftp_state *st, const struct sftp_args *a)
{
	int r = open_root(st, a->root);

	if (!r)
		r = set_limits(st);
	if (r)
		return r;
	if (a->umask_set)
		umask(a->umask);
	set_start(st, a->start);
	sftp_longname_prime(&st->ids);
	return 0;
}

void sftp_state_free(struct sftp_state *st)
{
	if (st->copy.rfd >= 0)
		close(st->copy.rfd);
	if (st->copy.wfd >= 0)
		close(st->copy.wfd);
	sftp_handles_free(&st->handles);
	if (st->root_fd >= 0)
		close(st->root_fd);
	free(st->scratch);
	free(st);
}
