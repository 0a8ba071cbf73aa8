/*
 * Unit tests for the cmd module (handler/cmd/cmd.c and its parts), driven
 * through its protocol table with plain buffers and a real poll loop:
 * capabilities, concurrency, payload with credit, limits, refusals,
 * builtins. The conf is parsed by the core, as handler does, and handed
 * over the way session.c hands it (s->mconf, s->max_frame).
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "cmd_frame.h"
#include "cmd_priv.h"
#include "core.h"
#include "keys.h"
#include "log.h"

extern const struct protocol proto_cmd;

struct reply {
	char out[4096];
	size_t outlen;
	uint64_t outtotal;
	int exited, kind;
	uint32_t status;
	int error, errfinal;
	uint8_t errcode;
	char errtext[256];
	uint64_t credit;
	uint32_t chunk;
	uint32_t exit_len;   /* EXIT body: 5 (version 1) or 13 (2) */
	uint64_t ms;
};

struct harness {
	struct conf conf;
	struct session s;
	void *state;
	struct reply r[64];
	int caps;
	uint32_t agreed;     /* AGREED frame's version, 0 none */
	int proto_error;
	int code;
};

static void harness_init(struct harness *h, const char *extra)
{
	unsigned char pk[32], sk[64];
	char line[KEYS_PUBLINE_MAX], text[4096];
	size_t cap = SESSION_BUF_BASE + 65536;

	ck_assert_int_ge(sodium_init(), 0);
	crypto_sign_keypair(pk, sk);
	ck_assert_int_eq(keys_format_public(pk, "t", line, sizeof line), 0);
	snprintf(text, sizeof text,
		 "user alice run,cat %s\n"
		 "command echo perm=run args=8 -- /bin/echo\n"
		 "command cat perm=cat payload=yes output=64M -- /bin/cat\n"
		 "command sleep perm=run args=1 time=1 -- /bin/sleep\n"
		 "command yes perm=run output=100000 -- /usr/bin/yes\n"
		 "command secret perm=admin -- /bin/true\n"
		 "limit requests 20\n%s", line, extra);
	memset(h, 0, sizeof *h);
	log_set_level(LOG_FATAL);
	ck_assert_int_eq(conf_parse(&h->conf, "test", text, strlen(text)), 0);
	h->s.conf = &h->conf;
	h->s.mconf = conf_module_conf(&h->conf, &proto_cmd);
	h->s.max_frame = h->conf.limits.max_frame;
	h->s.user = conf_user_find(&h->conf, "alice");
	ck_assert_ptr_nonnull(h->s.user);
	h->s.started = clock_now();
	h->s.secure = 1;
	ck_assert_int_eq(buf_init(&h->s.in, cap), 0);
	ck_assert_int_eq(buf_init(&h->s.out, cap), 0);
	ck_assert_int_eq(proto_cmd.start(&h->s, 1, (char *[]){ "cmd", NULL },
					 &h->state), 0);
}

static void harness_free(struct harness *h)
{
	proto_cmd.finish(&h->s, h->state);
	buf_free(&h->s.in);
	buf_free(&h->s.out);
	conf_free(&h->conf);
}

/* Reads every whole frame the module wrote, as a client would. */
static void harness_collect(struct harness *h)
{
	struct buf *o = &h->s.out;
	struct cmd_hdr hd;

	while (cmd_hdr_decode(buf_data(o), buf_len(o), &hd) == CMD_FRAME_OK &&
	       buf_len(o) - CMD_HDR_LEN >= hd.len) {
		const uint8_t *b = buf_data(o) + CMD_HDR_LEN;
		struct reply *r = &h->r[hd.id % 64];
		const uint8_t *text;
		size_t tlen;

		switch (hd.type) {
		case CMD_CAPS:
			h->caps++;
			ck_assert(hd.len > 20 && memcmp(b, "{\"protocol\"", 11) == 0);
			break;
		case CMD_STDOUT:
			{
				size_t k = sizeof r->out - r->outlen;

				if (k > hd.len)
					k = hd.len;
				memcpy(r->out + r->outlen, b, k);
				r->outlen += k;
			}
			r->outtotal += hd.len;
			break;
		case CMD_EXIT:
			ck_assert_int_eq(cmd_exit_parse_ms(b, hd.len,
							   &r->errcode,
							   &r->status,
							   &r->ms), 0);
			r->exit_len = hd.len;
			r->kind = r->errcode;
			r->errcode = 0;
			r->exited = 1;
			break;
		case CMD_ERROR:
			ck_assert_int_eq(cmd_error_parse(b, hd.len, &r->errcode,
							 &r->errfinal, &text,
							 &tlen), 0);
			snprintf(r->errtext, sizeof r->errtext, "%.*s",
				 (int)tlen, (const char *)text);
			r->error = 1;
			if (hd.id == 0)
				h->proto_error = 1;
			break;
		case CMD_AGREED:
			ck_assert_int_eq(cmd_agreed_parse(b, hd.len,
							  &h->agreed), 0);
			break;
		case CMD_WINDOW: {
			uint32_t c;

			ck_assert_int_eq(cmd_window_parse(b, hd.len, &c,
							  &r->chunk), 0);
			r->credit += c;
			break;
		}
		default:
			break;
		}
		buf_consume(o, CMD_HDR_LEN + hd.len);
	}
}

/* One pass of the loop as loop.c runs it, bounded by a short poll. */
static void harness_pass(struct harness *h)
{
	struct pollfd pfd[SESSION_MAX_MODULE_FDS];
	size_t n;
	uint64_t now, d;
	int r;

	r = proto_cmd.input(&h->s, h->state);
	if (r)
		h->code = r;
	harness_collect(h);
	if (h->code)
		return;
	n = proto_cmd.pollfds(&h->s, h->state, pfd, SESSION_MAX_MODULE_FDS);
	now = clock_now();
	d = proto_cmd.deadline(&h->s, h->state);
	r = clock_poll_timeout(now, d);
	poll(pfd, n, r < 0 || r > 50 ? 50 : r);
	now = clock_now();
	proto_cmd.events(&h->s, h->state, pfd, n, now);
	d = proto_cmd.deadline(&h->s, h->state);
	if (d && d <= now)
		proto_cmd.timeout(&h->s, h->state, now);
	harness_collect(h);
}

static void send_req(struct harness *h, uint32_t id, uint8_t flags, int argc,
		     char **argv)
{
	ck_assert_int_eq(cmd_put_request(&h->s.in, id, flags, argc, argv), 0);
}

static int run_until(struct harness *h, int (*done)(struct harness *),
		     int max_ms)
{
	uint64_t end = clock_now() + (uint64_t)max_ms * NS_PER_MS;

	while (!done(h) && !h->code && clock_now() < end)
		harness_pass(h);
	return done(h);
}

static int twenty_done(struct harness *h)
{
	for (int i = 1; i <= 21; i++)
		if (!h->r[i].exited && !(h->r[i].error && h->r[i].errfinal))
			return 0;
	return 1;
}

START_TEST(module_caps_and_concurrency)
{
	struct harness h;
	char name[21][16];

	harness_init(&h, "");
	harness_collect(&h);
	ck_assert_int_eq(h.caps, 1);
	for (int i = 1; i <= 21; i++) {
		char *argv[] = { "echo", name[i - 1], NULL };

		snprintf(name[i - 1], sizeof name[i - 1], "n%d", i);
		send_req(&h, (uint32_t)i, 0, 2, argv);
	}
	ck_assert(run_until(&h, twenty_done, 10000));
	for (int i = 1; i <= 20; i++) {
		char want[16];

		snprintf(want, sizeof want, "n%d\n", i);
		ck_assert_int_eq(h.r[i].exited, 1);
		ck_assert_uint_eq(h.r[i].status, 0);
		ck_assert_uint_eq(h.r[i].outlen, strlen(want));
		ck_assert(memcmp(h.r[i].out, want, strlen(want)) == 0);
	}
	/* The 21st arrived with 20 in flight. */
	ck_assert_int_eq(h.r[21].error, 1);
	ck_assert_int_eq(h.r[21].errfinal, 1);
	ck_assert_uint_eq(h.r[21].errcode, CMD_E_LIMIT);
	ck_assert_int_eq(h.code, 0);
	h.s.in_eof = 1;
	ck_assert(proto_cmd.idle(&h.s, h.state));
	harness_free(&h);
}
END_TEST

static int r1_done(struct harness *h)
{
	return h->r[1].exited || (h->r[1].error && h->r[1].errfinal);
}

START_TEST(module_payload_window)
{
	struct harness h;
	char *argv[] = { "cat", NULL };
	size_t total = 3 * 1024 * 1024, sent = 0;
	uint8_t chunk[65536];
	int eof = 0;
	uint64_t end = clock_now() + 20 * NS_PER_SEC;

	harness_init(&h, "");
	send_req(&h, 1, CMD_REQ_PAYLOAD, 1, argv);
	while (!r1_done(&h) && !h.code && clock_now() < end) {
		/* Send exactly what was granted, never more. */
		while (sent < total && h.r[1].credit > 0 &&
		       buf_room(&h.s.in) > CMD_HDR_LEN + sizeof chunk) {
			size_t n = total - sent;

			if (n > h.r[1].credit)
				n = (size_t)h.r[1].credit;
			if (n > h.r[1].chunk)
				n = h.r[1].chunk;
			if (n > sizeof chunk)
				n = sizeof chunk;
			for (size_t k = 0; k < n; k++)
				chunk[k] = (uint8_t)((sent + k) * 7);
			ck_assert_int_eq(cmd_put_frame(&h.s.in, CMD_DATA, 1,
						       chunk, n), 0);
			h.r[1].credit -= n;
			sent += n;
		}
		if (sent == total && !eof) {
			ck_assert_int_eq(cmd_put_frame(&h.s.in, CMD_EOF, 1,
						       NULL, 0), 0);
			eof = 1;
		}
		harness_pass(&h);
	}
	ck_assert_int_eq(h.r[1].exited, 1);
	ck_assert_uint_eq(h.r[1].status, 0);
	ck_assert_uint_eq(h.r[1].outtotal, total);
	ck_assert(memcmp(h.r[1].out, "\0\7\16\25", 4) == 0);
	harness_free(&h);
}
END_TEST

START_TEST(module_data_beyond_window)
{
	struct harness h;
	char *argv[] = { "cat", NULL };
	static uint8_t big[300 * 1024];

	harness_init(&h, "");
	send_req(&h, 1, CMD_REQ_PAYLOAD, 1, argv);
	harness_pass(&h);
	ck_assert(h.r[1].credit > 0);
	/* Frames up to max_frame, adding up past the credit. */
	for (size_t off = 0; off < sizeof big; off += 65536) {
		size_t n = sizeof big - off < 65536 ? sizeof big - off : 65536;

		ck_assert_int_eq(cmd_put_frame(&h.s.in, CMD_DATA, 1, big + off,
					       n), 0);
	}
	ck_assert_int_eq(proto_cmd.input(&h.s, h.state), 100);
	harness_collect(&h);
	ck_assert_int_eq(h.proto_error, 1);
	harness_free(&h);
}
END_TEST

START_TEST(module_bad_type)
{
	struct harness h;

	harness_init(&h, "");
	ck_assert_int_eq(cmd_put_frame(&h.s.in, CMD_STDOUT, 1, "x", 1), 0);
	ck_assert_int_eq(proto_cmd.input(&h.s, h.state), 100);
	harness_collect(&h);
	ck_assert_int_eq(h.proto_error, 1);
	harness_free(&h);
}
END_TEST

START_TEST(module_oversized_request_skipped)
{
	struct harness h;
	uint8_t hdr[CMD_HDR_LEN];
	static uint8_t junk[70000];
	char *argv[] = { "ping", NULL };

	harness_init(&h, "");
	cmd_hdr_encode(hdr, CMD_REQUEST, 1, sizeof junk);
	buf_append(&h.s.in, hdr, sizeof hdr);
	buf_append(&h.s.in, junk, sizeof junk);
	send_req(&h, 2, 0, 1, argv);
	harness_pass(&h);
	harness_pass(&h);
	ck_assert_int_eq(h.code, 0);
	ck_assert_uint_eq(h.r[1].errcode, CMD_E_LIMIT);
	ck_assert_int_eq(h.r[1].errfinal, 1);
	ck_assert_int_eq(h.r[2].exited, 1);
	ck_assert(memcmp(h.r[2].out, "pong\n", 5) == 0);
	harness_free(&h);
}
END_TEST

START_TEST(module_refusals)
{
	struct harness h;
	char *secret[] = { "secret", NULL };
	char *nosuch[] = { "nosuch", NULL };
	char *pingx[] = { "ping", "x", NULL };
	char *echo9[] = { "echo", "1", "2", "3", "4", "5", "6", "7", "8", "9",
			  NULL };
	char *pay[] = { "echo", NULL };

	harness_init(&h, "");
	send_req(&h, 1, 0, 1, secret);
	send_req(&h, 2, 0, 1, nosuch);
	send_req(&h, 3, 0, 2, pingx);
	send_req(&h, 4, 0, 10, echo9);
	send_req(&h, 5, CMD_REQ_PAYLOAD, 1, pay);
	harness_pass(&h);
	ck_assert_uint_eq(h.r[1].errcode, CMD_E_PERM);
	ck_assert_uint_eq(h.r[2].errcode, CMD_E_UNKNOWN);
	ck_assert_uint_eq(h.r[3].errcode, CMD_E_INVALID);
	ck_assert_uint_eq(h.r[4].errcode, CMD_E_LIMIT);
	ck_assert_uint_eq(h.r[5].errcode, CMD_E_INVALID);
	for (int i = 1; i <= 5; i++) {
		ck_assert_int_eq(h.r[i].errfinal, 1);
		ck_assert_int_eq(h.r[i].exited, 0);
	}
	/* Id 0 is reserved: the connection ends. */
	send_req(&h, 0, 0, 1, pay);
	ck_assert_int_eq(proto_cmd.input(&h.s, h.state), 100);
	harness_free(&h);
}
END_TEST

START_TEST(module_limits_kill)
{
	struct harness h;
	char *sleep5[] = { "sleep", "5", NULL };
	char *yes[] = { "yes", NULL };
	uint64_t t0 = clock_now();

	harness_init(&h, "");
	send_req(&h, 1, 0, 2, sleep5);
	send_req(&h, 2, 0, 1, yes);
	ck_assert(run_until(&h, r1_done, 8000));
	ck_assert((clock_now() - t0) / NS_PER_MS < 4000);
	ck_assert_int_eq(h.r[1].kind, CMD_EXIT_SIGNAL);
	ck_assert_int_eq(h.r[1].error, 1);
	ck_assert_int_eq(h.r[1].errfinal, 0);
	ck_assert(strstr(h.r[1].errtext, "time limit") != NULL);
	ck_assert_int_eq(h.r[2].exited, 1);
	ck_assert_int_eq(h.r[2].kind, CMD_EXIT_SIGNAL);
	ck_assert(strstr(h.r[2].errtext, "output limit") != NULL);
	ck_assert_uint_eq(h.r[2].outtotal, 100000);
	harness_free(&h);
}
END_TEST

static int five_done(struct harness *h)
{
	for (int i = 1; i <= 6; i++)
		if (!h->r[i].exited)
			return 0;
	return 1;
}

START_TEST(module_builtins)
{
	struct harness h;
	char *stat[] = { "stat", "-p", NULL };
	char *help[] = { "help", "echo", NULL };
	char *who[] = { "whoami", NULL };
	char *ver[] = { "version", NULL };
	char *caps[] = { "caps", NULL };
	char *nohelp[] = { "help", "nosuch", NULL };

	harness_init(&h, "describe echo say it back\n");
	send_req(&h, 1, 0, 2, stat);
	send_req(&h, 2, 0, 2, help);
	send_req(&h, 3, 0, 1, who);
	send_req(&h, 4, 0, 1, ver);
	send_req(&h, 5, 0, 1, caps);
	send_req(&h, 6, 0, 2, nohelp);
	ck_assert(run_until(&h, five_done, 5000));
	h.r[1].out[h.r[1].outlen] = 0;
	ck_assert_ptr_nonnull(strstr(h.r[1].out, "\nuser=alice\n"));
	ck_assert_ptr_nonnull(strstr(h.r[1].out, "\nmax_requests=20\n"));
	ck_assert(memcmp(h.r[1].out, "server_version=", 15) == 0);
	ck_assert_ptr_null(strchr(h.r[1].out, ' '));
	h.r[2].out[h.r[2].outlen] = 0;
	ck_assert_ptr_nonnull(strstr(h.r[2].out, "usage: echo"));
	ck_assert_ptr_nonnull(strstr(h.r[2].out, "say it back"));
	ck_assert_ptr_nonnull(strstr(h.r[2].out, "permission: run (granted)"));
	ck_assert_uint_eq(h.r[3].outlen, 6);
	ck_assert(memcmp(h.r[3].out, "alice\n", 6) == 0);
	ck_assert(memcmp(h.r[4].out, "handler ", 8) == 0);
	ck_assert(memcmp(h.r[5].out, "{\"protocol\":\"handler-cmd\"", 25) == 0);
	ck_assert_uint_eq(h.r[6].status, 1);
	ck_assert_uint_eq(h.r[6].outlen, 0);
	harness_free(&h);
}
END_TEST


/* caps text of a harness: the first CAPS frame, NUL-terminated. */
static int caps_has(struct harness *h, const char *needle)
{
	struct buf *o = &h->s.out;
	struct cmd_hdr hd;
	char *text;
	int found;

	ck_assert_int_eq(cmd_hdr_decode(buf_data(o), buf_len(o), &hd),
			 CMD_FRAME_OK);
	ck_assert_uint_eq(hd.type, CMD_CAPS);
	text = strndup((const char *)buf_data(o) + CMD_HDR_LEN, hd.len);
	found = strstr(text, needle) != NULL;
	free(text);
	return found;
}

static int three_done(struct harness *h)
{
	for (int i = 1; i <= 3; i++)
		if (!h->r[i].exited && !(h->r[i].error && h->r[i].errfinal))
			return 0;
	return 1;
}

/* cmd-hide-forbidden: what alice may not run does not exist for her. */
START_TEST(module_hide_forbidden)
{
	struct harness h;
	char *secret[] = { "secret", NULL };
	char *help[] = { "help", NULL };
	char *helps[] = { "help", "secret", NULL };

	harness_init(&h, "");
	ck_assert(caps_has(&h, "\"name\":\"secret\""));
	harness_free(&h);
	harness_init(&h, "cmd-hide-forbidden yes\n");
	ck_assert(!caps_has(&h, "\"name\":\"secret\""));
	ck_assert(caps_has(&h, "\"name\":\"echo\""));
	harness_collect(&h);
	send_req(&h, 1, 0, 1, secret);
	send_req(&h, 2, 0, 1, help);
	send_req(&h, 3, 0, 2, helps);
	ck_assert(run_until(&h, three_done, 5000));
	ck_assert_uint_eq(h.r[1].errcode, CMD_E_UNKNOWN);
	ck_assert_str_eq(h.r[1].errtext, "secret");
	h.r[2].out[h.r[2].outlen] = 0;
	ck_assert_ptr_nonnull(strstr(h.r[2].out, "\necho"));
	ck_assert_ptr_null(strstr(h.r[2].out, "secret"));
	ck_assert_ptr_null(strstr(h.r[2].out, "needs permission"));
	ck_assert_uint_eq(h.r[3].status, 1);
	ck_assert_uint_eq(h.r[3].outlen, 0);
	harness_free(&h);
}
END_TEST

/* payload=SIZE: one byte over and the command is gone, told why. */
START_TEST(module_payload_limit)
{
	struct harness h;
	char *capped[] = { "capped", NULL };
	uint8_t body[150];

	memset(body, 'x', sizeof body);
	harness_init(&h, "command capped perm=cat payload=100 -- /bin/cat\n");
	ck_assert(caps_has(&h, "\"payload_limit\":100"));
	send_req(&h, 1, CMD_REQ_PAYLOAD, 1, capped);
	harness_pass(&h);
	ck_assert(h.r[1].credit >= sizeof body);
	ck_assert_int_eq(cmd_put_frame(&h.s.in, CMD_DATA, 1, body, 60), 0);
	ck_assert_int_eq(cmd_put_frame(&h.s.in, CMD_DATA, 1, body, 90), 0);
	ck_assert_int_eq(cmd_put_frame(&h.s.in, CMD_EOF, 1, NULL, 0), 0);
	ck_assert(run_until(&h, r1_done, 5000));
	ck_assert_int_eq(h.r[1].exited, 1);
	ck_assert_int_eq(h.r[1].kind, CMD_EXIT_SIGNAL);
	ck_assert_uint_eq(h.r[1].status, 9);
	ck_assert_int_eq(h.r[1].error, 1);
	ck_assert_int_eq(h.r[1].errfinal, 0);
	ck_assert_str_eq(h.r[1].errtext, "payload limit of 100 bytes exceeded");
	ck_assert(h.r[1].outtotal <= 100);
	ck_assert_int_eq(h.code, 0);
	/* Under the limit it runs as any payload command. */
	memset(h.r, 0, sizeof h.r);
	send_req(&h, 1, CMD_REQ_PAYLOAD, 1, capped);
	harness_pass(&h);
	ck_assert_int_eq(cmd_put_frame(&h.s.in, CMD_DATA, 1, body, 100), 0);
	ck_assert_int_eq(cmd_put_frame(&h.s.in, CMD_EOF, 1, NULL, 0), 0);
	ck_assert(run_until(&h, r1_done, 5000));
	ck_assert_int_eq(h.r[1].kind, CMD_EXIT_CODE);
	ck_assert_uint_eq(h.r[1].status, 0);
	ck_assert_uint_eq(h.r[1].outtotal, 100);
	harness_free(&h);
}
END_TEST

static void syn_is(const struct cmd_synarg *a, const char *name, int opt,
		   int rep)
{
	ck_assert_uint_eq(a->len, strlen(name));
	ck_assert(memcmp(a->name, name, a->len) == 0);
	ck_assert_int_eq(a->optional, opt);
	ck_assert_int_eq(a->repeat, rep);
}

/* Synopsis text to structure: the man page conventions. */
START_TEST(module_synopsis)
{
	struct cmd_synarg a[8];
	struct harness h;

	ck_assert_uint_eq(cmd_synopsis_parse("PATTERN [FILE...]", a, 8), 2);
	syn_is(&a[0], "PATTERN", 0, 0);
	syn_is(&a[1], "FILE", 1, 1);
	ck_assert_uint_eq(cmd_synopsis_parse(" [-p] [A [B]] C ...", a, 8), 4);
	syn_is(&a[0], "-p", 1, 0);
	syn_is(&a[1], "A", 1, 0);
	syn_is(&a[2], "B", 1, 0);
	syn_is(&a[3], "C", 0, 1);
	ck_assert_uint_eq(cmd_synopsis_parse("SRC... DST", a, 8), 2);
	syn_is(&a[0], "SRC", 0, 1);
	syn_is(&a[1], "DST", 0, 0);
	ck_assert_uint_eq(cmd_synopsis_parse("", a, 8), 0);
	ck_assert_uint_eq(cmd_synopsis_parse(NULL, a, 8), 0);
	ck_assert_uint_eq(cmd_synopsis_parse("]] [[", a, 8), 0);
	ck_assert_uint_eq(cmd_synopsis_parse("A B C", a, 2), 2);
	harness_init(&h, "command-args echo PATTERN [FILE...]\n");
	ck_assert(caps_has(&h, "\"args\":\"PATTERN [FILE...]\","
			   "\"synopsis\":[{\"name\":\"PATTERN\","
			   "\"optional\":false,\"repeat\":false},"
			   "{\"name\":\"FILE\",\"optional\":true,"
			   "\"repeat\":true}]"));
	ck_assert(caps_has(&h, "\"name\":\"ping\",\"args\":\"\","
			   "\"synopsis\":[]"));
	harness_free(&h);
}
END_TEST

static int two_done(struct harness *h)
{
	return h->r[1].exited && h->r[2].exited;
}

/*
 * Version negotiation: a client from the future lists 1, 2 and 7; the
 * server picks 2, the highest both speak, and its EXIT frames carry the
 * time. A client that says nothing stays at 1 (5-byte EXIT).
 */
START_TEST(module_version_negotiation)
{
	struct harness h;
	char *ver[] = { "version", NULL };
	char *sl[] = { "sleep", "0.2", NULL };
	uint32_t future[] = { 1, 2, 7 }, far[] = { 7, 99 }, v[16];
	uint8_t bad[8] = { 0, 0, 0, 1, 0, 0, 0, 0 };
	size_t n;

	ck_assert_int_eq(cmd_versions_parse(bad, sizeof bad, v, &n), -1);
	ck_assert_int_eq(cmd_versions_parse(bad, 4, v, &n), -1);
	ck_assert_uint_eq(cmd_version_pick(future, 3, far, 2), 7);
	ck_assert_uint_eq(cmd_version_pick(future, 1, far, 2), 0);

	harness_init(&h, "");
	ck_assert(caps_has(&h, "\"version\":1,\"versions\":[1,2],"));
	ck_assert_int_eq(cmd_put_versions(&h.s.in, future, 3), 0);
	send_req(&h, 1, 0, 1, ver);
	send_req(&h, 2, 0, 2, sl);
	ck_assert(run_until(&h, two_done, 5000));
	ck_assert_uint_eq(h.agreed, 2);
	ck_assert_uint_eq(h.r[1].exit_len, 13);
	h.r[1].out[h.r[1].outlen] = 0;
	ck_assert_ptr_nonnull(strstr(h.r[1].out, "(cmd protocol 2)"));
	ck_assert_uint_eq(h.r[2].exit_len, 13);
	ck_assert_uint_eq(h.r[2].status, 0);
	ck_assert(h.r[2].ms >= 150 && h.r[2].ms < 5000);
	harness_free(&h);

	/* No VERSION: an old client, version 1 throughout. */
	harness_init(&h, "");
	send_req(&h, 1, 0, 1, ver);
	ck_assert(run_until(&h, r1_done, 5000));
	ck_assert_uint_eq(h.agreed, 0);
	ck_assert_uint_eq(h.r[1].exit_len, 5);
	h.r[1].out[h.r[1].outlen] = 0;
	ck_assert_ptr_nonnull(strstr(h.r[1].out, "(cmd protocol 1)"));
	harness_free(&h);

	/* Nothing in common, or VERSION after a request: the session ends. */
	harness_init(&h, "");
	ck_assert_int_eq(cmd_put_versions(&h.s.in, far, 2), 0);
	ck_assert_int_eq(proto_cmd.input(&h.s, h.state), 100);
	harness_free(&h);
	harness_init(&h, "");
	send_req(&h, 1, 0, 1, ver);
	ck_assert_int_eq(cmd_put_versions(&h.s.in, future, 3), 0);
	ck_assert_int_eq(proto_cmd.input(&h.s, h.state), 100);
	harness_free(&h);
}
END_TEST

/* SSH_ORIGINAL_COMMAND's quoting rule (docs/cmd.md). */
START_TEST(module_ssh_split)
{
	char buf[128], *argv[8];
	const char *why = NULL;

	ck_assert_int_eq(cmd_ssh_split(" a 'b  c' \"d\\\"e\" f\\ g $HOME;x",
				       buf, argv, 8, &why), 5);
	ck_assert_str_eq(argv[0], "a");
	ck_assert_str_eq(argv[1], "b  c");
	ck_assert_str_eq(argv[2], "d\"e");
	ck_assert_str_eq(argv[3], "f g");
	ck_assert_str_eq(argv[4], "$HOME;x");
	ck_assert_int_eq(cmd_ssh_split("'it''s'", buf, argv, 8, &why), 1);
	ck_assert_str_eq(argv[0], "its");
	ck_assert_int_eq(cmd_ssh_split("a 'b", buf, argv, 8, &why), -1);
	ck_assert_str_eq(why, "unterminated quote");
	ck_assert_int_eq(cmd_ssh_split("a b c", buf, argv, 2, &why), -1);
	ck_assert_int_eq(cmd_ssh_split("  ", buf, argv, 8, &why), 0);
}
END_TEST

static Suite *cmd_module_suite(void)
{
	Suite *s = suite_create("cmd_module");
	TCase *module = tcase_create("module");

	tcase_set_timeout(module, 30);
	tcase_add_test(module, module_caps_and_concurrency);
	tcase_add_test(module, module_payload_window);
	tcase_add_test(module, module_data_beyond_window);
	tcase_add_test(module, module_bad_type);
	tcase_add_test(module, module_oversized_request_skipped);
	tcase_add_test(module, module_refusals);
	tcase_add_test(module, module_builtins);
	tcase_add_test(module, module_limits_kill);
	tcase_add_test(module, module_hide_forbidden);
	tcase_add_test(module, module_payload_limit);
	tcase_add_test(module, module_synopsis);
	tcase_add_test(module, module_version_negotiation);
	tcase_add_test(module, module_ssh_split);
	suite_add_tcase(s, module);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cmd_module_suite());
	int failures;

	log_init("test_cmd_module");
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
