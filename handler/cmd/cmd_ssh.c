/*
 * One request from SSH_ORIGINAL_COMMAND under an sshd forced command
 * (docs/cmd.md, "cmd under sshd"): the module runs on private frame
 * buffers; stdin becomes DATA within the granted credit, STDOUT goes to
 * stdout, STDERR and errors to stderr, EXIT becomes our exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_priv.h"
#include "exitcode.h"
#include "log.h"

#define SSH_ID 1

struct cmd_ssh {
	struct buf fin, fout;   /* frames to and from the module */
	uint64_t credit;
	uint32_t chunk;
	int payload;            /* the request carries stdin */
	int eof_sent;
	int code;               /* -1 until the request ended */
};

int cmd_ssh_split(const char *line, char *buf, char **argv, size_t max,
		  const char **why)
{
	size_t n = 0;
	char *o = buf;

	for (;;) {
		int in_word = 0;
		char q = 0;

		while (*line == ' ' || *line == '\t' || *line == '\n')
			line++;
		if (!*line)
			return (int)n;
		if (n == max) {
			*why = "too many words";
			return -1;
		}
		argv[n++] = o;
		for (; *line && (q || (*line != ' ' && *line != '\t' &&
				       *line != '\n')); line++) {
			in_word = 1;
			if (q == '\'' && *line == '\'') {
				q = 0;
			} else if (q == '"' && *line == '"') {
				q = 0;
			} else if (!q && (*line == '\'' || *line == '"')) {
				q = *line;
			} else if (q != '\'' && *line == '\\' && line[1] &&
				   (!q || line[1] == '"' || line[1] == '\\')) {
				*o++ = *++line;
			} else {
				*o++ = *line;
			}
		}
		(void)in_word;
		if (q) {
			*why = "unterminated quote";
			return -1;
		}
		*o++ = 0;
	}
}

static void say(const char *fmt, const char *a, size_t alen, const char *b)
{
	char line[CMD_ERRTEXT_MAX + 256];
	int n = snprintf(line, sizeof line, fmt, a, (int)alen, b);

	if (n > 0 && write(2, line, (size_t)n < sizeof line ? (size_t)n :
			   sizeof line - 1) < 0) {
		/* stderr gone: nothing left to tell */
	}
}

int cmd_ssh_start(struct cmd_state *st, const char *line)
{
	size_t len = strlen(line), max = st->lim.max_args;
	struct cmd_ssh *x;
	struct cmd_entry e;
	char *buf = malloc(len + 1), **argv = calloc(max + 1, sizeof *argv);
	const char *why = NULL;
	int argc = buf && argv ? cmd_ssh_split(line, buf, argv, max, &why) : -1;
	int r = EXIT_PERM;

	x = calloc(1, sizeof *x);
	if (argc <= 0 || !x || buf_init(&x->fin, st->s->in.cap) < 0 ||
	    buf_init(&x->fout, st->s->out.cap) < 0) {
		say("handler: error: %s%.*s\n", why ? why : "empty command",
		    0, "");
		goto out;
	}
	x->code = -1;
	/* Permission and payload are the module's checks, as for frames. */
	x->payload = cmd_lookup(cmd_builtins, st->s->mconf, argv[0], &e) == 0 &&
		     e.payload && cmd_permitted(st->s->user, &e);
	if (cmd_put_request(&x->fin, SSH_ID, x->payload ? CMD_REQ_PAYLOAD : 0,
			    argc, argv) < 0) {
		say("handler: error: %s%.*s\n", "command line too long", 0, "");
		goto out;
	}
	st->ssh = x;
	st->in = &x->fin;
	st->out = &x->fout;
	x = NULL;
	r = 0;
	log_info("cmd: user=%s ssh command %s", st->s->user->name, argv[0]);
out:
	if (x) {
		buf_free(&x->fin);
		buf_free(&x->fout);
		free(x);
	}
	free(buf);
	free(argv);
	return r;
}

void cmd_ssh_free(struct cmd_state *st)
{
	if (!st->ssh)
		return;
	buf_free(&st->ssh->fin);
	buf_free(&st->ssh->fout);
	free(st->ssh);
	st->ssh = NULL;
}

void cmd_ssh_input(struct cmd_state *st)
{
	struct cmd_ssh *x = st->ssh;
	struct buf *in = &st->s->in;

	if (!x->payload) {
		buf_consume(in, buf_len(in));  /* stdin means nothing */
		return;
	}
	while (buf_len(in) > 0 && x->credit > 0 && x->chunk > 0 &&
	       buf_room(&x->fin) > CMD_HDR_LEN) {
		size_t n = buf_len(in);

		if (n > x->credit)
			n = (size_t)x->credit;
		if (n > x->chunk)
			n = x->chunk;
		if (n > buf_room(&x->fin) - CMD_HDR_LEN)
			n = buf_room(&x->fin) - CMD_HDR_LEN;
		if (cmd_put_frame(&x->fin, CMD_DATA, SSH_ID, buf_data(in),
				  n) < 0)
			break;
		buf_consume(in, n);
		x->credit -= n;
	}
	if (st->s->in_eof && buf_len(in) == 0 && !x->eof_sent &&
	    cmd_put_frame(&x->fin, CMD_EOF, SSH_ID, NULL, 0) == 0)
		x->eof_sent = 1;
}

static void on_error(struct cmd_ssh *x, const struct cmd_hdr *h,
		     const uint8_t *b)
{
	const uint8_t *text;
	size_t tlen;
	uint8_t code;
	int final;

	if (cmd_error_parse(b, h->len, &code, &final, &text, &tlen) < 0)
		return;
	say("handler: error: %s: %.*s\n", cmd_errcode_name(code), tlen,
	    (const char *)text);
	if (final)
		x->code = EXIT_PERM;
}

/* One frame from the module; 0 handled, -1 wait for room in s->out. */
static int on_frame(struct cmd_state *st, const struct cmd_hdr *h,
		    const uint8_t *b)
{
	struct cmd_ssh *x = st->ssh;
	uint32_t v, c;
	uint64_t ms;
	uint8_t kind;

	switch (h->type) {
	case CMD_STDOUT:
		if (buf_room(&st->s->out) < h->len)
			return -1;
		buf_append(&st->s->out, b, h->len);
		break;
	case CMD_STDERR:
		if (write(2, b, h->len) < 0) {
			/* stderr gone: the command's stdout still counts */
		}
		break;
	case CMD_WINDOW:
		if (cmd_window_parse(b, h->len, &c, &v) == 0) {
			x->credit += c;
			x->chunk = v;
		}
		break;
	case CMD_ERROR:
		on_error(x, h, b);
		break;
	case CMD_EXIT:
		if (cmd_exit_parse_ms(b, h->len, &kind, &v, &ms) == 0)
			x->code = kind == CMD_EXIT_SIGNAL ? 128 + (int)(v & 127) :
				  (int)(v & 255);
		break;
	default:
		break;
	}
	return 0;
}

int cmd_ssh_output(struct cmd_state *st)
{
	struct cmd_ssh *x = st->ssh;
	struct cmd_hdr h;

	while (cmd_hdr_decode(buf_data(&x->fout), buf_len(&x->fout), &h) ==
	       CMD_FRAME_OK && buf_len(&x->fout) - CMD_HDR_LEN >= h.len) {
		if (on_frame(st, &h, buf_data(&x->fout) + CMD_HDR_LEN) < 0)
			break;
		buf_consume(&x->fout, CMD_HDR_LEN + (size_t)h.len);
	}
	cmd_ssh_input(st);
	if (x->code < 0)
		return 0;
	return x->code == 0 ? SESSION_DONE : x->code;
}
