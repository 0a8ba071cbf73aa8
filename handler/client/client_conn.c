/*
 * handler-client's connection: the UCSPI fds 6/7 (tcpclient, msgpipe -c)
 * or a server started over pipes with --exec, plus the keys: the user's
 * identity (key file or ssh-agent) and the pinned server key.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd_frame.h"
#include "fdutil.h"
#include "keys.h"
#include "log.h"
#include "sshagent.h"

#define CLIENT_IN_CAP (CLIENT_FRAME_MAX + CMD_HDR_LEN + SECURE_FRAME_MAX)
#define CLIENT_OUT_CAP (4 * SECURE_FRAME_MAX)

/* -p: a public key line, or the name of a file holding one. */
/* -p given the private key file by mistake (the .pub is next to it). */
static int is_private_key(const char *path)
{
	static const char mark[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	char head[sizeof mark];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return 0;
	n = fread(head, 1, sizeof head - 1, f);
	fclose(f);
	head[n] = 0;
	return strcmp(head, mark) == 0;
}

static int load_server_key(const char *spec, uint8_t pk[32])
{
	char err[KEYS_ERR_MAX];
	const char *why;

	if (!spec || !*spec) {
		client_error("no server key: give -p 'ssh-ed25519 AAAA...' or "
			     "-p FILE.pub (or set $HANDLER_SERVER_KEY)");
		return -1;
	}
	if (strncmp(spec, "ssh-ed25519 ", 12) == 0) {
		if (keys_parse_public(spec, strlen(spec), pk, NULL, 0, &why) < 0) {
			client_error("server key: %s", why);
			return -1;
		}
		return 0;
	}
	if (keys_load_public(spec, pk, err) < 0) {
		if (is_private_key(spec))
			client_error("server key: %s is a private key: pin the "
				     "public one, -p %s.pub", spec, spec);
		else
			client_error("server key: %s", err);
		return -1;
	}
	return 0;
}

/* -a: the agent signs; -k FILE with -a picks the agent key FILE.pub. */
static int load_agent_identity(struct client *c, const struct client_opts *o)
{
	char err[KEYS_ERR_MAX], pub[4096];
	uint8_t want[32];
	const uint8_t *wantp = NULL;

	if (o->keyfile) {
		size_t n = strlen(o->keyfile);

		snprintf(pub, sizeof pub, "%s%s", o->keyfile,
			 n > 4 && strcmp(o->keyfile + n - 4, ".pub") == 0 ?
			 "" : ".pub");
		if (keys_load_public(pub, want, err) < 0) {
			client_error("%s", err);
			return -1;
		}
		wantp = want;
	} else {
		uint8_t pks[SSHAGENT_MAX_KEYS][32];
		int n = sshagent_list(NULL, pks, SSHAGENT_MAX_KEYS, err);

		if (n < 0) {
			client_error("ssh-agent: %s", err);
			return -1;
		}
		if (n == 0 || o->agent_index >= (size_t)n) {
			client_error("ssh-agent holds no (other) ed25519 key");
			return -1;
		}
		c->agent_keys = (size_t)n;
		memcpy(want, pks[o->agent_index], 32);
		wantp = want;
	}
	if (sshagent_identity(&c->id, NULL, wantp, err) < 0) {
		client_error("ssh-agent: %s", err);
		return -1;
	}
	return 0;
}

static int load_identity(struct client *c, const struct client_opts *o)
{
	char err[KEYS_ERR_MAX];

	if (o->agent)
		return load_agent_identity(c, o);
	if (!o->keyfile) {
		client_error("no key: give -k KEYFILE, set $HANDLER_KEY, or "
			     "create ~/.config/handler/id_ed25519 with "
			     "'handler-client keygen'");
		return -1;
	}
	if (keys_identity_load(&c->id, o->keyfile, err) < 0) {
		client_error("%s", err);
		return -1;
	}
	return 0;
}

/* --exec: the server runs under /bin/sh -c with pipes as its 0 and 1. */
static int start_server(struct client *c, const char *cmd)
{
	int to[2], from[2];
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	struct proc_fdmap map[2];
	struct sigaction ign, old;
	int r;

	if (pipe2(to, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(from, O_CLOEXEC) < 0) {
		close(to[0]);
		close(to[1]);
		return -1;
	}
	map[0] = (struct proc_fdmap){ 0, to[0] };
	map[1] = (struct proc_fdmap){ 1, from[1] };
	/* ^C on a terminal reaches the whole process group: the server
	 * must outlive it to stop the remote command (we send CANCEL), so
	 * it starts with SIGINT ignored, as sftp -D does. */
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old);
	r = proc_spawn(&c->server, argv, NULL, map, 2);
	sigaction(SIGINT, &old, NULL);
	if (r < 0) {
		int e = errno;

		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		errno = e;
		return -1;
	}
	close(to[0]);
	close(from[1]);
	c->have_server = 1;
	c->rfd = from[0];
	c->wfd = to[1];
	return 0;
}

static int connect_fds(struct client *c, const struct client_opts *o)
{
	if (o->exec) {
		if (start_server(c, o->exec) < 0) {
			client_error("cannot run the server: %s",
				     strerror(errno));
			return CLIENT_EXIT_TEMP;
		}
	} else {
		c->rfd = o->rfd;
		c->wfd = o->wfd;
		if (!fd_is_open(c->rfd) || !fd_is_open(c->wfd)) {
			client_error("fds %d/%d are not open: run under a UCSPI "
				     "client (tcpclient HOST PORT handler-client "
				     "...) or use --exec 'SERVER COMMAND'",
				     c->rfd, c->wfd);
			return CLIENT_EXIT_PROTO;
		}
	}
	if (fd_nonblock(c->rfd) < 0 || fd_nonblock(c->wfd) < 0) {
		client_error("cannot set up the connection: %s",
			     strerror(errno));
		return CLIENT_EXIT_TEMP;
	}
	return 0;
}

int client_open(struct client *c, const struct client_opts *o)
{
	uint8_t server_pk[32];
	int r;

	memset(c, 0, sizeof *c);
	c->rfd = c->wfd = -1;
	c->server.pidfd = -1;
	if (!o->user || !*o->user) {
		client_error("no user name: give -u USER (or set $USER)");
		return CLIENT_EXIT_PROTO;
	}
	if (load_server_key(o->server_key, server_pk) < 0 ||
	    load_identity(c, o) < 0)
		return CLIENT_EXIT_PROTO;
	c->sec = secure_client_new(&c->id, o->user, server_pk,
				   SECURE_FRAME_MAX);
	if (!c->sec) {
		client_error("bad user name or out of memory");
		return CLIENT_EXIT_PROTO;
	}
	if (buf_init(&c->in, CLIENT_IN_CAP) < 0 ||
	    buf_init(&c->out, CLIENT_OUT_CAP) < 0) {
		client_error("out of memory");
		return CLIENT_EXIT_TEMP;
	}
	r = connect_fds(c, o);
	if (r)
		return r;
	/* We accept the server's frames up to SECURE_FRAME_MAX (above), so
	 * that is what a cut stream is judged by. */
	if (transport_init(&c->t, c->rfd, c->wfd, c->sec, &c->in, &c->out,
			   SECURE_FRAME_MAX) < 0) {
		client_error("out of memory");
		return CLIENT_EXIT_TEMP;
	}
	return 0;
}

/* Waits a little for an --exec server, then makes sure it is gone. */
static void reap_server(struct client *c)
{
	for (int i = 0; i < 500; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (proc_reap(&c->server, 0) != 0)
			return;
		nanosleep(&ts, NULL);
	}
	proc_kill(&c->server, SIGTERM);
	proc_reap(&c->server, 1);
}

int client_close(struct client *c, int code)
{
	if (c->sec)
		secure_free(c->sec);
	c->sec = NULL;
	/* Our end closed first, so the server sees EOF and can exit. */
	if (c->have_server) {
		fd_close(&c->wfd);
		fd_close(&c->rfd);
		reap_server(c);
		proc_release(&c->server);
	}
	keys_identity_free(&c->id);
	transport_free(&c->t);
	buf_free_secret(&c->in);
	buf_free_secret(&c->out);
	return code;
}

int client_run(const struct client_opts *o, const struct client_mode *m,
	       void *ctx)
{
	struct client_opts oo = *o;

	for (;;) {
		struct client c;
		int r = client_open(&c, &oo);

		if (r)
			return client_close(&c, r);
		c.retry_ok = oo.agent && !oo.keyfile && oo.exec &&
			     oo.agent_index + 1 < c.agent_keys;
		r = client_loop(&c, m, ctx);
		client_close(&c, r);
		if (!(c.auth_refused && c.retry_ok))
			return r;
		oo.agent_index++;
		log_debug("key refused; trying the agent's key %zu",
			  oo.agent_index + 1);
	}
}

uint64_t client_caps_number(const uint8_t *json, size_t len, const char *key,
			    uint64_t def)
{
	char pat[80];
	const char *p, *end = (const char *)json + len;
	uint64_t v = 0;
	int n = snprintf(pat, sizeof pat, "\"%s\":", key);

	if (n < 0 || (size_t)n >= sizeof pat)
		return def;
	p = memmem(json, len, pat, (size_t)n);
	if (!p)
		return def;
	p += n;
	if (p >= end || *p < '0' || *p > '9')
		return def;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return def;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

int client_caps_check(const uint8_t *json, size_t len)
{
	uint64_t v = client_caps_number(json, len, "version", 0);

	if (v != CMD_PROTOCOL_VERSION) {
		client_error("the server speaks cmd protocol version %llu; this "
			     "client knows version %d",
			     (unsigned long long)v, CMD_PROTOCOL_VERSION);
		return -1;
	}
	return 0;
}
