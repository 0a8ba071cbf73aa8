/*
 * handler-client tunnel: after the handshake, our stdin and stdout are the
 * plaintext stream, so any client that can run a command as its transport
 * (sftp -D, sshfs -o directport's cousins, nbdsh's connect_command) talks
 * to the server's module through the secure layer.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "log.h"

struct tunnel {
	int stdin_eof;
	int broken;
};

static int tunnel_step(struct client *c, void *ctx)
{
	struct tunnel *t = ctx;

	if (buf_len(&c->in)) {
		if (client_write_all(1, buf_data(&c->in), buf_len(&c->in)) < 0) {
			if (errno != EPIPE)
				client_error("write: %s", strerror(errno));
			return CLIENT_EXIT_TEMP;
		}
		buf_clear(&c->in);
	}
	if (t->broken)
		return CLIENT_EXIT_TEMP;
	/* Our side ended: FINAL goes out, the server's bytes still come in. */
	if (t->stdin_eof)
		c->close_out = 1;
	if (c->t.peer_final) {
		close(1);
		return 0;
	}
	return CLIENT_GO;
}

static size_t tunnel_pollfds(struct client *c, void *ctx, struct pollfd *pfd,
			     size_t max)
{
	struct tunnel *t = ctx;

	if (max == 0 || t->stdin_eof || buf_room(&c->out) == 0)
		return 0;
	pfd[0] = (struct pollfd){ 0, POLLIN, 0 };
	return 1;
}

static void tunnel_events(struct client *c, void *ctx, struct pollfd *pfd,
			  size_t n)
{
	struct tunnel *t = ctx;
	ssize_t r;

	if (n == 0 || !pfd[0].revents)
		return;
	r = buf_read_fd(&c->out, 0);
	if (r > 0 || (r < 0 && errno == EAGAIN))
		return;
	if (r < 0) {
		client_error("reading stdin: %s", strerror(errno));
		t->broken = 1;
	}
	t->stdin_eof = 1;
}

int client_tunnel(const struct client_opts *o)
{
	static const struct client_mode mode = {
		tunnel_step, tunnel_pollfds, tunnel_events, NULL
	};
	struct tunnel t = { 0, 0 };
	return client_run(o, &mode, &t);
}
