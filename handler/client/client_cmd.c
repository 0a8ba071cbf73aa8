/*
 * handler-client's cmd modes: run (optionally with stdin as the payload),
 * caps and ping. One request per connection, id 1; the bands go to our
 * stdout and stderr, the remote exit status becomes ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "cmd_frame.h"
#include "log.h"

#define REQ_ID 1

struct cmd_client {
	enum client_cmd_kind kind;
	int with_stdin;
	int argc;
	char **argv;
	int caps_seen;
	int sent;
	uint64_t credit;
	uint32_t max_chunk;
	int stdin_done;
	int stdin_at, sig_at;       /* pollfd indexes, -1 when not polled */
	uint64_t cancelled;         /* CANCEL sent: give up at this time */
	int limited;                /* a limit note came before EXIT */
	int done;
	int code;
};

static void finish(struct cmd_client *cc, int code)
{
	if (!cc->done) {
		cc->done = 1;
		cc->code = code;
	}
}

static void proto_fail(struct cmd_client *cc, const char *why)
{
	client_error("protocol error from the server: %s", why);
	finish(cc, CLIENT_EXIT_PROTO);
}

static void send_request(struct client *c, struct cmd_client *cc)
{
	static char *ping[] = { "ping", NULL };
	char **argv = cc->kind == CLIENT_PING ? ping : cc->argv;
	int argc = cc->kind == CLIENT_PING ? 1 : cc->argc;

	/* It has to fit in our output buffer at once (the server's own
	 * max_frame check then answers with an error). */
	if (cmd_request_body_len(argc, argv) > c->out.cap - CMD_HDR_LEN) {
		client_error("arguments too long");
		finish(cc, CLIENT_EXIT_PROTO);
		return;
	}
	if (cmd_put_request(&c->out, REQ_ID,
			    cc->with_stdin ? CMD_REQ_PAYLOAD : 0, argc,
			    argv) < 0)
		return;  /* no room yet: next pass */
	cc->sent = 1;
}

static void on_band(struct cmd_client *cc, int fd, const uint8_t *p,
		    size_t n)
{
	if (client_write_all(fd, p, n) < 0) {
		/* Our reader went away (| head): nothing more to do. */
		if (errno != EPIPE)
			client_error("write: %s", strerror(errno));
		finish(cc, CLIENT_EXIT_TEMP);
	}
}

static void on_error(struct cmd_client *cc, const struct cmd_hdr *h,
		     const uint8_t *body)
{
	const uint8_t *text;
	size_t tlen;
	uint8_t code;
	int final;

	if (cmd_error_parse(body, h->len, &code, &final, &text, &tlen) < 0) {
		proto_fail(cc, "malformed ERROR frame");
		return;
	}
	if (h->id == 0 || final) {
		client_error("%s: %.*s", cmd_errcode_name(code), (int)tlen,
			     (const char *)text);
		finish(cc, CLIENT_EXIT_PROTO);
		return;
	}
	/* A note before the EXIT frame: which limit killed the command. */
	client_error("%.*s", (int)tlen, (const char *)text);
	cc->limited = 1;
}

static void on_exit_frame(struct cmd_client *cc, const struct cmd_hdr *h,
			  const uint8_t *body)
{
	uint8_t kind;
	uint32_t v;
	uint64_t ms;

	if (cmd_exit_parse_ms(body, h->len, &kind, &v, &ms) < 0) {
		proto_fail(cc, "malformed EXIT frame");
		return;
	}
	if (kind == CMD_EXIT_SIGNAL)
		client_error("remote command killed by signal %u (%s)", v,
			     v < 65 ? strsignal((int)v) : "?");
	finish(cc, client_exit_code(kind, v, cc->limited));
}

static void on_window(struct cmd_client *cc, const struct cmd_hdr *h,
		      const uint8_t *body)
{
	uint32_t credit, chunk;

	if (cmd_window_parse(body, h->len, &credit, &chunk) < 0) {
		proto_fail(cc, "malformed WINDOW frame");
		return;
	}
	cc->credit += credit;
	cc->max_chunk = chunk;
}

/*
 * The numbers of "versions":[1,2,...] in our server's compact JSON; the
 * count, 0 when the list is absent (a version 1 server) or malformed.
 */
static size_t caps_versions(const uint8_t *json, size_t len, uint32_t *v,
			    size_t max)
{
	static const char key[] = "\"versions\":[";
	const uint8_t *p = memmem(json, len, key, sizeof key - 1), *end;
	size_t n = 0;

	if (!p)
		return 0;
	end = json + len;
	p += sizeof key - 1;
	while (p < end && n < max) {
		uint64_t x = 0;
		const uint8_t *d = p;

		while (p < end && *p >= '0' && *p <= '9' && x < 1u << 30)
			x = x * 10 + (uint64_t)(*p++ - '0');
		if (p == d || p == end || x == 0 || x >= 1u << 30)
			return 0;
		v[n++] = (uint32_t)x;
		if (*p == ']')
			return n;
		if (*p++ != ',')
			return 0;
	}
	return 0;
}

int client_caps_negotiate(const uint8_t *json, size_t len, struct buf *out)
{
	uint32_t theirs[CMD_VERSIONS_MAX], ours[CMD_PROTOCOL_MAX];
	size_t n = caps_versions(json, len, theirs, CMD_VERSIONS_MAX);
	uint32_t pick;

	if (n == 0)
		return client_caps_check(json, len);  /* speaks 1 alone */
	for (uint32_t i = 0; i < CMD_PROTOCOL_MAX; i++)
		ours[i] = i + 1;
	pick = cmd_version_pick(theirs, n, ours, CMD_PROTOCOL_MAX);
	if (pick == 0) {
		client_error("the server speaks no cmd protocol version this "
			     "client knows (1 to %d)", CMD_PROTOCOL_MAX);
		return -1;
	}
	/* Sent before any request, as the protocol wants it. */
	if (pick > 1 && cmd_put_versions(out, ours, CMD_PROTOCOL_MAX) < 0)
		return -1;
	return 0;
}

static void on_agreed(struct cmd_client *cc, const struct cmd_hdr *h,
		      const uint8_t *body)
{
	uint32_t v;

	if (h->id != 0 || cmd_agreed_parse(body, h->len, &v) < 0 ||
	    v > CMD_PROTOCOL_MAX)
		proto_fail(cc, "bad AGREED frame");
}

static void on_caps(struct client *c, struct cmd_client *cc,
		    const struct cmd_hdr *h, const uint8_t *body)
{
	if (cc->caps_seen || h->id != 0) {
		proto_fail(cc, "unexpected CAPS frame");
		return;
	}
	cc->caps_seen = 1;
	if (client_caps_negotiate(body, h->len, &c->out) < 0) {
		finish(cc, CLIENT_EXIT_PROTO);
		return;
	}
	if (cc->kind == CLIENT_CAPS) {
		on_band(cc, 1, body, h->len);
		on_band(cc, 1, (const uint8_t *)"\n", 1);
		finish(cc, 0);
	}
}

static void on_frame(struct client *c, struct cmd_client *cc,
		     const struct cmd_hdr *h, const uint8_t *body)
{
	if (h->type != CMD_CAPS && !cc->caps_seen) {
		proto_fail(cc, "no capabilities first");
		return;
	}
	if (h->type != CMD_CAPS && h->type != CMD_AGREED && h->id != REQ_ID &&
	    !(h->type == CMD_ERROR && h->id == 0)) {
		proto_fail(cc, "frame for an unknown request");
		return;
	}
	switch (h->type) {
	case CMD_CAPS: on_caps(c, cc, h, body); break;
	case CMD_AGREED: on_agreed(cc, h, body); break;
	case CMD_STDOUT: on_band(cc, 1, body, h->len); break;
	case CMD_STDERR: on_band(cc, 2, body, h->len); break;
	case CMD_EXIT: on_exit_frame(cc, h, body); break;
	case CMD_ERROR: on_error(cc, h, body); break;
	case CMD_WINDOW: on_window(cc, h, body); break;
	default: proto_fail(cc, "unknown frame type"); break;
	}
}

static uint64_t cmd_deadline(struct client *c, void *ctx)
{
	struct cmd_client *cc = ctx;

	(void)c;
	return cc->cancelled;
}

static int cmd_step(struct client *c, void *ctx)
{
	struct cmd_client *cc = ctx;
	struct cmd_hdr h;

	while (!cc->done &&
	       cmd_hdr_decode(buf_data(&c->in), buf_len(&c->in), &h) ==
	       CMD_FRAME_OK) {
		if (!cmd_type_from_server(h.type)) {
			proto_fail(cc, "unknown frame type");
			break;
		}
		if (h.len > CLIENT_FRAME_MAX) {
			proto_fail(cc, "frame too large");
			break;
		}
		if (buf_len(&c->in) - CMD_HDR_LEN < h.len)
			break;
		on_frame(c, cc, &h, buf_data(&c->in) + CMD_HDR_LEN);
		buf_consume(&c->in, CMD_HDR_LEN + (size_t)h.len);
	}
	if (!cc->done && cc->caps_seen && !cc->sent)
		send_request(c, cc);
	if (!cc->done && cc->cancelled && clock_now() >= cc->cancelled) {
		client_error("no answer to the cancel; giving up");
		finish(cc, 128 + SIGINT);
	}
	if (!cc->done && c->t.peer_final) {
		client_error("the server ended the session without an answer");
		finish(cc, CLIENT_EXIT_TEMP);
	}
	return cc->done ? cc->code : CLIENT_GO;
}

/*
 * ^C (SIGINT) becomes a CANCEL for the request, so the remote command
 * stops now rather than at its time limit; a second ^C, or no answer
 * within CANCEL_WAIT_MS, exits at once. SIGTERM and SIGHUP keep their
 * default action. The handler can only write to a pipe, and there is one
 * set of signal dispositions per process: hence this one static.
 */
#define CANCEL_WAIT_MS 5000
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int e = errno;

	(void)sig;
	if (write(sig_pipe[1], "", 1) < 0) {
		/* full: a wake-up is already pending */
	}
	errno = e;
}

static void signals_catch(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

static size_t cmd_pollfds(struct client *c, void *ctx, struct pollfd *pfd,
			  size_t max)
{
	struct cmd_client *cc = ctx;
	size_t n = 0;

	cc->stdin_at = cc->sig_at = -1;
	if (cc->done)
		return 0;
	if (n < max && sig_pipe[0] >= 0 && cc->sent) {
		pfd[n] = (struct pollfd){ sig_pipe[0], POLLIN, 0 };
		cc->sig_at = (int)n++;
	}
	if (n < max && cc->with_stdin && cc->sent && !cc->stdin_done &&
	    cc->credit > 0 && buf_room(&c->out) > CMD_HDR_LEN) {
		pfd[n] = (struct pollfd){ 0, POLLIN, 0 };
		cc->stdin_at = (int)n++;
	}
	return n;
}

static void on_interrupt(struct client *c, struct cmd_client *cc)
{
	char drain[16];

	while (read(sig_pipe[0], drain, sizeof drain) > 0)
		;
	if (cc->cancelled) {
		client_error("interrupted");
		finish(cc, 128 + SIGINT);
		return;
	}
	if (cmd_put_frame(&c->out, CMD_CANCEL, REQ_ID, NULL, 0) == 0) {
		cc->cancelled = clock_now() + CANCEL_WAIT_MS * NS_PER_MS;
		log_info("cancelling the remote command (again to quit)");
	}
}

/* stdin -> DATA frames, never more than the server granted. */
static void read_stdin(struct client *c, struct cmd_client *cc)
{
	size_t room = buf_room(&c->out) - CMD_HDR_LEN, want = cc->max_chunk;
	uint8_t *p;
	ssize_t r;

	if (want > cc->credit)
		want = (size_t)cc->credit;
	if (want > room)
		want = room;
	p = buf_reserve(&c->out, CMD_HDR_LEN + want);
	do
		r = read(0, p + CMD_HDR_LEN, want);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r > 0) {
		cmd_hdr_encode(p, CMD_DATA, REQ_ID, (uint32_t)r);
		buf_commit(&c->out, CMD_HDR_LEN + (size_t)r);
		cc->credit -= (uint64_t)r;
		return;
	}
	if (r < 0)
		client_error("reading stdin: %s", strerror(errno));
	cmd_put_frame(&c->out, CMD_EOF, REQ_ID, NULL, 0);
	cc->stdin_done = 1;
}

static void cmd_events(struct client *c, void *ctx, struct pollfd *pfd,
		       size_t n)
{
	struct cmd_client *cc = ctx;

	if (cc->sig_at >= 0 && (size_t)cc->sig_at < n &&
	    pfd[cc->sig_at].revents)
		on_interrupt(c, cc);
	if (!cc->done && cc->stdin_at >= 0 && (size_t)cc->stdin_at < n &&
	    pfd[cc->stdin_at].revents && buf_room(&c->out) > CMD_HDR_LEN)
		read_stdin(c, cc);
}

int client_cmd(const struct client_opts *o, enum client_cmd_kind kind,
	       int with_stdin, int argc, char **argv)
{
	static const struct client_mode mode = {
		cmd_step, cmd_pollfds, cmd_events, cmd_deadline
	};
	struct cmd_client cc;
	memset(&cc, 0, sizeof cc);
	cc.kind = kind;
	cc.with_stdin = with_stdin;
	cc.argc = argc;
	cc.argv = argv;
	if (kind == CLIENT_RUN)
		signals_catch();
	return client_run(o, &mode, &cc);
}
