/*
 * handler-client batch: one request per line of stdin, all on one
 * connection, up to the server's max_requests in flight at once. Each
 * request's output is kept until the requests before it are done, so the
 * output comes in input order whatever order the commands finish in.
 * With --json each request becomes one JSON object on a line of its own
 * instead (id, argv, status, stdout, stderr, or the error), for scripts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd_frame.h"
#include "json.h"
#include "log.h"

#define BATCH_INPUT_MAX (1024 * 1024)
#define BATCH_ARGS_MAX 256
/* Output held for requests still waiting their turn, all together. */
#define BATCH_HELD_MAX (64u * 1024 * 1024)

struct batch_req {
	int argc;
	char **argv;
	char *out, *err;
	size_t outlen, errlen;
	int done;
	int code;
	int limited;        /* a limit note came before EXIT */
	/* For --json: how it ended. */
	int exited;         /* EXIT came: kind, value, ms */
	uint8_t kind;
	uint32_t value;
	uint64_t ms;
	uint8_t errcode;    /* a final ERROR: code and text */
	char errtext[CMD_ERRTEXT_MAX + 1];
	char note[CMD_ERRTEXT_MAX + 1];
};

struct batch {
	char *text;
	struct batch_req *reqs;
	size_t n;
	size_t next;        /* first request not yet sent */
	size_t head;        /* first request not yet printed */
	size_t inflight;
	size_t max_inflight;
	size_t held;
	int caps_seen;
	int fatal;
	int code;
	int json;           /* --json */
	uint32_t version;   /* agreed cmd version (2 has the time) */
};

static int read_input(struct batch *b)
{
	size_t len = 0, cap = 4096;
	ssize_t r;

	b->text = malloc(cap + 1);
	if (!b->text)
		return -1;
	for (;;) {
		if (len == cap) {
			char *p;

			if (cap >= BATCH_INPUT_MAX) {
				client_error("batch: input over %u bytes",
					     BATCH_INPUT_MAX);
				return -1;
			}
			cap *= 2;
			p = realloc(b->text, cap + 1);
			if (!p)
				return -1;
			b->text = p;
		}
		r = read(0, b->text + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			client_error("batch: reading stdin: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	b->text[len] = 0;
	if (strlen(b->text) != len) {
		client_error("batch: NUL byte in the input");
		return -1;
	}
	return 0;
}

/* Splits one line on blanks, in place; 0 words for blank and # lines. */
static int split_line(char *line, struct batch_req *rq)
{
	char *words[BATCH_ARGS_MAX], *save = NULL, *w;
	int n = 0;

	for (w = strtok_r(line, " \t\r", &save); w;
	     w = strtok_r(NULL, " \t\r", &save)) {
		if (n == 0 && w[0] == '#')
			break;
		if (n == BATCH_ARGS_MAX) {
			client_error("batch: more than %d words on a line",
				     BATCH_ARGS_MAX);
			return -1;
		}
		words[n++] = w;
	}
	rq->argc = n;
	if (n == 0)
		return 0;
	rq->argv = calloc((size_t)n + 1, sizeof *rq->argv);
	if (!rq->argv)
		return -1;
	memcpy(rq->argv, words, (size_t)n * sizeof *words);
	return 0;
}

static int parse_input(struct batch *b)
{
	size_t lines = 1;
	char *line, *save = NULL;

	for (const char *p = b->text; *p; p++)
		lines += *p == '\n';
	b->reqs = calloc(lines, sizeof *b->reqs);
	if (!b->reqs)
		return -1;
	for (line = strtok_r(b->text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (split_line(line, &b->reqs[b->n]) < 0)
			return -1;
		if (b->reqs[b->n].argc)
			b->n++;
	}
	return 0;
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; b->reqs && i < b->n; i++) {
		free(b->reqs[i].argv);
		free(b->reqs[i].out);
		free(b->reqs[i].err);
	}
	free(b->reqs);
	free(b->text);
}

static int hold(struct batch *b, char **buf, size_t *len, const uint8_t *p,
		size_t n)
{
	char *q;

	if (n == 0)
		return 0;
	if (n > BATCH_HELD_MAX - b->held) {
		client_error("batch: over %u bytes of output waiting",
			     BATCH_HELD_MAX);
		return -1;
	}
	q = realloc(*buf, *len + n);
	if (!q)
		return -1;
	*buf = q;
	memcpy(*buf + *len, p, n);
	*len += n;
	b->held += n;
	return 0;
}

static void request_done(struct batch *b, struct batch_req *rq, int code)
{
	rq->done = 1;
	rq->code = code;
	b->inflight--;
}

static void on_frame(struct batch *b, struct buf *out,
		     const struct cmd_hdr *h, const uint8_t *body)
{
	struct batch_req *rq;
	const uint8_t *text;
	size_t tlen;
	uint32_t v;
	uint8_t kind;
	int final;

	if (h->type == CMD_CAPS) {
		uint64_t m = client_caps_number(body, h->len, "max_requests", 1);

		b->caps_seen = 1;
		b->max_inflight = m == 0 ? 1 : m > 1024 ? 1024 : (size_t)m;
		if (client_caps_negotiate(body, h->len, out) < 0)
			b->fatal = 1;
		return;
	}
	if (h->type == CMD_AGREED) {
		if (h->id != 0 || cmd_agreed_parse(body, h->len, &v) < 0 ||
		    v > CMD_PROTOCOL_MAX)
			b->fatal = 1;
		else
			b->version = v;
		return;
	}
	if (h->type == CMD_ERROR && h->id == 0) {
		if (cmd_error_parse(body, h->len, &kind, &final, &text, &tlen) == 0)
			client_error("%s: %.*s", cmd_errcode_name(kind),
				     (int)tlen, (const char *)text);
		b->fatal = 1;
		return;
	}
	if (h->id == 0 || h->id > b->next || b->reqs[h->id - 1].done) {
		client_error("protocol error from the server: frame for an "
			     "unknown request");
		b->fatal = 1;
		return;
	}
	rq = &b->reqs[h->id - 1];
	switch (h->type) {
	case CMD_STDOUT:
		if (hold(b, &rq->out, &rq->outlen, body, h->len) < 0)
			b->fatal = 1;
		break;
	case CMD_STDERR:
		if (hold(b, &rq->err, &rq->errlen, body, h->len) < 0)
			b->fatal = 1;
		break;
	case CMD_EXIT:
		if (cmd_exit_parse_ms(body, h->len, &kind, &v, &rq->ms) < 0) {
			b->fatal = 1;
			break;
		}
		rq->exited = 1;
		rq->kind = kind;
		rq->value = v;
		if (kind == CMD_EXIT_SIGNAL)
			client_error("%s: killed by signal %u", rq->argv[0], v);
		request_done(b, rq, client_exit_code(kind, v, rq->limited));
		break;
	case CMD_ERROR:
		if (cmd_error_parse(body, h->len, &kind, &final, &text,
				    &tlen) < 0) {
			b->fatal = 1;
			break;
		}
		client_error("%s: %s: %.*s", rq->argv[0],
			     cmd_errcode_name(kind), (int)tlen,
			     (const char *)text);
		snprintf(final ? rq->errtext : rq->note, sizeof rq->note,
			 "%.*s", (int)tlen, (const char *)text);
		if (final)
			rq->errcode = kind;
		if (final)
			request_done(b, rq, CLIENT_EXIT_PROTO);
		else
			rq->limited = 1;
		break;
	default:
		break;  /* WINDOW: no payloads in a batch */
	}
}

/* How the request ended, for --json: exit/signal or the error. */
static void json_ending(struct json *j, const struct batch_req *rq)
{
	json_key(j, "exit");
	if (rq->exited && rq->kind == CMD_EXIT_CODE)
		json_u64(j, rq->value);
	else
		json_null(j);
	json_key(j, "signal");
	if (rq->exited && rq->kind == CMD_EXIT_SIGNAL)
		json_u64(j, rq->value);
	else
		json_null(j);
	json_kv_str(j, "note", rq->note[0] ? rq->note : NULL);
	json_key(j, "error");
	if (rq->errcode) {
		json_obj_begin(j);
		json_kv_u64(j, "code", rq->errcode);
		json_kv_str(j, "name", cmd_errcode_name(rq->errcode));
		json_kv_str(j, "text", rq->errtext);
		json_obj_end(j);
	} else {
		json_null(j);
	}
}

/*
 * One line: {"id", "argv", "status" (what the batch counts), "exit",
 * "signal", "note", "error", "ms" (version 2, else null), "stdout",
 * "stderr"}. Output that is not UTF-8 shows U+FFFD (json.h).
 */
static int print_json(const struct batch *b, const struct batch_req *rq,
		      size_t id)
{
	struct json j;
	int r = -1;

	json_init(&j, 6 * (rq->outlen + rq->errlen) + 64 * 1024);
	json_obj_begin(&j);
	json_kv_u64(&j, "id", id);
	json_key(&j, "argv");
	json_arr_begin(&j);
	for (int i = 0; i < rq->argc; i++)
		json_str(&j, rq->argv[i]);
	json_arr_end(&j);
	json_kv_u64(&j, "status", (uint64_t)rq->code);
	json_ending(&j, rq);
	json_key(&j, "ms");
	if (b->version >= 2 && rq->exited)
		json_u64(&j, rq->ms);
	else
		json_null(&j);
	json_key(&j, "stdout");
	json_strn(&j, rq->out ? rq->out : "", rq->outlen);
	json_key(&j, "stderr");
	json_strn(&j, rq->err ? rq->err : "", rq->errlen);
	json_obj_end(&j);
	if (json_ok(&j) &&
	    client_write_all(1, (const uint8_t *)json_text(&j), json_len(&j)) == 0 &&
	    client_write_all(1, (const uint8_t *)"\n", 1) == 0)
		r = 0;
	json_free(&j);
	return r;
}

static int print_plain(const struct batch_req *rq)
{
	if (client_write_all(1, (uint8_t *)rq->out, rq->outlen) < 0 ||
	    client_write_all(2, (uint8_t *)rq->err, rq->errlen) < 0)
		return -1;
	return 0;
}

/* Prints finished requests in input order. */
static int flush_done(struct batch *b)
{
	while (b->head < b->n && b->reqs[b->head].done) {
		struct batch_req *rq = &b->reqs[b->head];

		if ((b->json ? print_json(b, rq, b->head + 1) :
		     print_plain(rq)) < 0)
			return -1;
		b->held -= rq->outlen + rq->errlen;
		free(rq->out);
		free(rq->err);
		rq->out = rq->err = NULL;
		if (rq->code > b->code)
			b->code = rq->code;
		b->head++;
	}
	return 0;
}

static int batch_step(struct client *c, void *ctx)
{
	struct batch *b = ctx;
	struct cmd_hdr h;

	while (!b->fatal &&
	       cmd_hdr_decode(buf_data(&c->in), buf_len(&c->in), &h) ==
	       CMD_FRAME_OK) {
		if (!cmd_type_from_server(h.type) || h.len > CLIENT_FRAME_MAX) {
			client_error("protocol error from the server: bad frame");
			return CLIENT_EXIT_PROTO;
		}
		if (buf_len(&c->in) - CMD_HDR_LEN < h.len)
			break;
		on_frame(b, &c->out, &h, buf_data(&c->in) + CMD_HDR_LEN);
		buf_consume(&c->in, CMD_HDR_LEN + (size_t)h.len);
	}
	if (b->fatal)
		return CLIENT_EXIT_PROTO;
	if (b->caps_seen && b->next < b->n &&
	    cmd_request_body_len(b->reqs[b->next].argc, b->reqs[b->next].argv) >
	    c->out.cap - CMD_HDR_LEN) {
		client_error("batch: request %zu is too long", b->next + 1);
		return CLIENT_EXIT_PROTO;
	}
	while (b->caps_seen && b->next < b->n &&
	       b->inflight < b->max_inflight &&
	       cmd_put_request(&c->out, (uint32_t)b->next + 1, 0,
			       b->reqs[b->next].argc,
			       b->reqs[b->next].argv) == 0) {
		b->next++;
		b->inflight++;
	}
	if (flush_done(b) < 0)
		return CLIENT_EXIT_TEMP;
	if (b->head == b->n)
		return b->code;
	if (c->t.peer_final) {
		client_error("the server ended the session before answering");
		return CLIENT_EXIT_TEMP;
	}
	return CLIENT_GO;
}

int client_batch(const struct client_opts *o, int json)
{
	static const struct client_mode mode = { batch_step, NULL, NULL, NULL };
	struct batch b;
	int r;

	memset(&b, 0, sizeof b);
	b.json = json;
	b.version = CMD_PROTOCOL_VERSION;
	if (read_input(&b) < 0 || parse_input(&b) < 0) {
		batch_free(&b);
		return CLIENT_EXIT_PROTO;
	}
	for (size_t i = 0; i < b.n; i++)
		if (cmd_request_body_len(b.reqs[i].argc, b.reqs[i].argv) >
		    CLIENT_FRAME_MAX) {
			client_error("batch: line %zu too long", i + 1);
			batch_free(&b);
			return CLIENT_EXIT_PROTO;
		}
	r = client_run(o, &mode, &b);
	batch_free(&b);
	return r;
}
