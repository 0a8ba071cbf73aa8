/*
 * Unit tests for the cmd protocol: the frame codec (handler/cmd/cmd_frame.c)
 * and, driven through its protocol table with plain buffers and a real
 * poll loop, the module itself (handler/cmd/cmd.c and its parts):
 * capabilities, concurrency, payload with credit, limits, errors.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "client.h"
#include "clock.h"
#include "cmd_frame.h"
#include "conf.h"
#include "handler.h"
#include "keys.h"
#include "log.h"

static const struct cmd_req_limits lim = { 8, 16 };

/* Builds a REQUEST body by hand: flags, argc, then (len, bytes) pairs. */
static size_t body(uint8_t *b, uint8_t flags, uint32_t argc,
		   const char *const *args, const uint32_t *lens)
{
	size_t n = 0;

	b[n++] = flags;
	be32_put(b + n, argc);
	n += 4;
	for (uint32_t i = 0; args && args[i]; i++) {
		uint32_t len = lens ? lens[i] : (uint32_t)strlen(args[i]);

		be32_put(b + n, len);
		n += 4;
		memcpy(b + n, args[i], len);
		n += len;
	}
	return n;
}

static int parse(const uint8_t *b, size_t n, const char **why)
{
	struct cmd_request rq;
	int r = cmd_request_parse(&rq, b, n, &lim, why);

	if (r == 0)
		cmd_request_free(&rq);
	return r;
}

START_TEST(header_roundtrip)
{
	uint8_t b[CMD_HDR_LEN];
	struct cmd_hdr h;

	cmd_hdr_encode(b, CMD_STDOUT, 0x01020304, 0xa0b0c0d0);
	ck_assert_uint_eq(b[0], CMD_STDOUT);
	ck_assert_uint_eq(b[1], 1);
	ck_assert_uint_eq(b[8], 0xd0);
	for (size_t n = 0; n < CMD_HDR_LEN; n++)
		ck_assert_int_eq(cmd_hdr_decode(b, n, &h), CMD_FRAME_AGAIN);
	ck_assert_int_eq(cmd_hdr_decode(b, sizeof b, &h), CMD_FRAME_OK);
	ck_assert_uint_eq(h.type, CMD_STDOUT);
	ck_assert_uint_eq(h.id, 0x01020304);
	ck_assert_uint_eq(h.len, 0xa0b0c0d0);
}
END_TEST

START_TEST(types_by_direction)
{
	for (unsigned t = 0; t < 256; t++) {
		int c = t >= CMD_REQUEST && t <= CMD_CANCEL;
		int s = t >= CMD_CAPS && t <= CMD_WINDOW;

		ck_assert_int_eq(cmd_type_from_client((uint8_t)t), c);
		ck_assert_int_eq(cmd_type_from_server((uint8_t)t), s);
	}
	ck_assert_str_eq(cmd_type_name(CMD_REQUEST), "REQUEST");
	ck_assert_str_eq(cmd_type_name(0x7f), "unknown");
}
END_TEST

START_TEST(request_roundtrip)
{
	char *argv[] = { "echo", "", "two words", "x\ty", NULL };
	struct cmd_request rq;
	struct cmd_hdr h;
	struct buf out;
	const char *why = NULL;

	ck_assert_int_eq(buf_init(&out, 256), 0);
	ck_assert_int_eq(cmd_put_request(&out, 7, CMD_REQ_PAYLOAD, 4, argv), 0);
	ck_assert_int_eq(cmd_hdr_decode(buf_data(&out), buf_len(&out), &h),
			 CMD_FRAME_OK);
	ck_assert_uint_eq(h.type, CMD_REQUEST);
	ck_assert_uint_eq(h.id, 7);
	ck_assert_uint_eq(h.len, buf_len(&out) - CMD_HDR_LEN);
	ck_assert_uint_eq(h.len, cmd_request_body_len(4, argv));
	ck_assert_int_eq(cmd_request_parse(&rq, buf_data(&out) + CMD_HDR_LEN,
					   h.len, &lim, &why), 0);
	ck_assert_uint_eq(rq.flags, CMD_REQ_PAYLOAD);
	ck_assert_uint_eq(rq.argc, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_str_eq(rq.argv[i], argv[i]);
	ck_assert_ptr_null(rq.argv[4]);
	cmd_request_free(&rq);
	buf_free(&out);
}
END_TEST

START_TEST(request_malformed)
{
	static const char *const one[] = { "ls", NULL };
	static const char *const nul[] = { "ls", "a\0b", NULL };
	static const uint32_t nul_len[] = { 2, 3 };
	uint8_t b[512] = { 0 };
	const char *why;
	size_t n;

	/* Empty, truncated header fields. */
	ck_assert_int_eq(parse(b, 0, &why), CMD_E_INVALID);
	n = body(b, 0, 1, one, NULL);
	for (size_t k = 0; k < n; k++)
		ck_assert_int_eq(parse(b, k, &why), CMD_E_INVALID);
	ck_assert_int_eq(parse(b, n, &why), 0);
	/* Trailing bytes. */
	b[n] = 'x';
	ck_assert_int_eq(parse(b, n + 1, &why), CMD_E_INVALID);
	ck_assert_str_eq(why, "trailing bytes after the arguments");
	/* Unknown flags. */
	n = body(b, 0x02, 1, one, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	/* No command. */
	n = body(b, 0, 0, NULL, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	/* Embedded NUL. */
	n = body(b, 0, 2, nul, nul_len);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	ck_assert_str_eq(why, "NUL byte in an argument");
	/* argc larger than the entries present. */
	n = body(b, 0, 2, one, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	/* argc fewer than the entries present: trailing bytes. */
	n = body(b, 0, 1, nul, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	/* A length running past the body. */
	n = body(b, 0, 1, one, NULL);
	be32_put(b + 5, 3);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	be32_put(b + 5, 0xffffffffU);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_LIMIT);
	/* Empty command name. */
	{
		static const char *const empty[] = { "", NULL };

		n = body(b, 0, 1, empty, NULL);
		ck_assert_int_eq(parse(b, n, &why), CMD_E_INVALID);
	}
}
END_TEST

START_TEST(request_limits)
{
	static const char *const nine[] = {
		"a", "b", "c", "d", "e", "f", "g", "h", "i", NULL
	};
	static const char *const eight[] = {
		"a", "b", "c", "d", "e", "f", "g", "h", NULL
	};
	static const char *const longarg[] = { "ls", "0123456789abcdefX", NULL };
	static const char *const maxarg[] = { "ls", "0123456789abcdef", NULL };
	uint8_t b[512] = { 0 };
	const char *why;
	size_t n;

	n = body(b, 0, 9, nine, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_LIMIT);
	ck_assert_str_eq(why, "too many arguments");
	n = body(b, 0, 8, eight, NULL);
	ck_assert_int_eq(parse(b, n, &why), 0);
	n = body(b, 0, 2, longarg, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_LIMIT);
	ck_assert_str_eq(why, "argument too long");
	n = body(b, 0, 2, maxarg, NULL);
	ck_assert_int_eq(parse(b, n, &why), 0);
	/* A huge argc with a short body is refused before any allocation. */
	n = body(b, 0, 0xffffffffU, NULL, NULL);
	ck_assert_int_eq(parse(b, n, &why), CMD_E_LIMIT);
	{
		struct cmd_req_limits big = { 0xffffffffU, 16 };
		struct cmd_request rq;

		ck_assert_int_eq(cmd_request_parse(&rq, b, n, &big, &why),
				 CMD_E_INVALID);
	}
}
END_TEST

START_TEST(fixed_frames)
{
	struct buf out;
	struct cmd_hdr h;
	const uint8_t *text, *p;
	size_t tlen;
	uint32_t v, chunk;
	uint8_t kind, code;
	int final;

	ck_assert_int_eq(buf_init(&out, 4096), 0);
	ck_assert_int_eq(cmd_put_exit(&out, 3, CMD_EXIT_SIGNAL, 9), 0);
	ck_assert_int_eq(cmd_put_error(&out, 4, CMD_E_PERM, 1, "no"), 0);
	ck_assert_int_eq(cmd_put_window(&out, 5, 1000, 64), 0);

	p = buf_data(&out);
	cmd_hdr_decode(p, CMD_HDR_LEN, &h);
	ck_assert_uint_eq(h.type, CMD_EXIT);
	ck_assert_int_eq(cmd_exit_parse(p + CMD_HDR_LEN, h.len, &kind, &v), 0);
	ck_assert_uint_eq(kind, CMD_EXIT_SIGNAL);
	ck_assert_uint_eq(v, 9);
	ck_assert_int_eq(cmd_exit_parse(p + CMD_HDR_LEN, h.len - 1, &kind, &v), -1);
	p += CMD_HDR_LEN + h.len;

	cmd_hdr_decode(p, CMD_HDR_LEN, &h);
	ck_assert_uint_eq(h.type, CMD_ERROR);
	ck_assert_uint_eq(h.id, 4);
	ck_assert_int_eq(cmd_error_parse(p + CMD_HDR_LEN, h.len, &code, &final,
					 &text, &tlen), 0);
	ck_assert_uint_eq(code, CMD_E_PERM);
	ck_assert_int_eq(final, 1);
	ck_assert_uint_eq(tlen, 2);
	ck_assert(memcmp(text, "no", 2) == 0);
	p += CMD_HDR_LEN + h.len;

	cmd_hdr_decode(p, CMD_HDR_LEN, &h);
	ck_assert_uint_eq(h.type, CMD_WINDOW);
	ck_assert_int_eq(cmd_window_parse(p + CMD_HDR_LEN, h.len, &v, &chunk), 0);
	ck_assert_uint_eq(v, 1000);
	ck_assert_uint_eq(chunk, 64);
	ck_assert_int_eq(cmd_window_parse(p + CMD_HDR_LEN, h.len + 1, &v,
					  &chunk), -1);
	buf_free(&out);
}
END_TEST

START_TEST(fixed_frames_malformed)
{
	static const uint8_t bad_kind[] = { 2, 0, 0, 0, 0 };
	static const uint8_t bad_code[] = { 0, 0, 'x' };
	static const uint8_t bad_code2[] = { 7, 0, 'x' };
	static const uint8_t bad_flags[] = { 1, 2, 'x' };
	static const uint8_t nul_text[] = { 1, 1, 'a', 0, 'b' };
	static const uint8_t zero_chunk[] = { 0, 0, 0, 1, 0, 0, 0, 0 };
	const uint8_t *text;
	size_t tlen;
	uint32_t v, c;
	uint8_t k;
	int f;

	ck_assert_int_eq(cmd_exit_parse(bad_kind, 5, &k, &v), -1);
	ck_assert_int_eq(cmd_error_parse(bad_code, 3, &k, &f, &text, &tlen), -1);
	ck_assert_int_eq(cmd_error_parse(bad_code2, 3, &k, &f, &text, &tlen), -1);
	ck_assert_int_eq(cmd_error_parse(bad_flags, 3, &k, &f, &text, &tlen), -1);
	ck_assert_int_eq(cmd_error_parse(nul_text, 5, &k, &f, &text, &tlen), -1);
	ck_assert_int_eq(cmd_error_parse(bad_code, 1, &k, &f, &text, &tlen), -1);
	ck_assert_int_eq(cmd_window_parse(zero_chunk, 8, &v, &c), -1);
	ck_assert_int_eq(cmd_window_parse(zero_chunk, 7, &v, &c), -1);
}
END_TEST

START_TEST(put_without_room)
{
	struct buf out;
	char *argv[] = { "ping", NULL };

	ck_assert_int_eq(buf_init(&out, CMD_HDR_LEN + 3), 0);
	ck_assert_int_eq(cmd_put_frame(&out, CMD_STDOUT, 1, "abcd", 4), -1);
	ck_assert_uint_eq(buf_len(&out), 0);
	ck_assert_int_eq(cmd_put_exit(&out, 1, 0, 0), -1);
	ck_assert_int_eq(cmd_put_request(&out, 1, 0, 1, argv), -1);
	ck_assert_uint_eq(buf_len(&out), 0);
	ck_assert_int_eq(cmd_put_frame(&out, CMD_STDOUT, 1, "abc", 3), 0);
	ck_assert_uint_eq(buf_len(&out), CMD_HDR_LEN + 3);
	buf_free(&out);
}
END_TEST

/* ---- the module, driven through its table ---- */

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
};

struct harness {
	struct conf conf;
	struct session s;
	void *state;
	struct reply r[64];
	int caps;
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
			ck_assert_int_eq(cmd_exit_parse(b, hd.len, &r->errcode,
							&r->status), 0);
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

/* The client reads two numbers out of CAPS without a JSON parser. */
START_TEST(client_caps_numbers)
{
	static const char caps[] =
		"{\"protocol\":\"handler-cmd\",\"version\":1,\"limits\":"
		"{\"max_frame\":65536,\"max_requests\":16}}";
	const uint8_t *p = (const uint8_t *)caps;

	ck_assert_uint_eq(client_caps_number(p, sizeof caps - 1, "version", 0), 1);
	ck_assert_uint_eq(client_caps_number(p, sizeof caps - 1, "max_requests",
					     1), 16);
	ck_assert_uint_eq(client_caps_number(p, sizeof caps - 1, "missing", 7), 7);
	/* Cut in the middle of the number: only the digits present. */
	ck_assert_uint_eq(client_caps_number(p, 37, "version", 0), 1);
	ck_assert_uint_eq(client_caps_number(p, 36, "version", 9), 9);
	ck_assert_int_eq(client_caps_check(p, sizeof caps - 1), 0);
	ck_assert_int_eq(client_caps_check((const uint8_t *)"{\"version\":2}",
					   13), -1);
	ck_assert_uint_eq(client_caps_number((const uint8_t *)
					     "\"v\":99999999999999999999", 24,
					     "v", 5), 5);
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

static Suite *cmd_suite(void)
{
	Suite *s = suite_create("cmd_frame");
	TCase *core = tcase_create("core");
	TCase *errors = tcase_create("errors");
	TCase *module = tcase_create("module");

	tcase_add_test(core, header_roundtrip);
	tcase_add_test(core, types_by_direction);
	tcase_add_test(core, request_roundtrip);
	tcase_add_test(core, fixed_frames);
	tcase_add_test(errors, request_malformed);
	tcase_add_test(errors, request_limits);
	tcase_add_test(errors, fixed_frames_malformed);
	tcase_add_test(errors, put_without_room);
	tcase_add_test(core, client_caps_numbers);
	tcase_set_timeout(module, 30);
	tcase_add_test(module, module_caps_and_concurrency);
	tcase_add_test(module, module_payload_window);
	tcase_add_test(module, module_data_beyond_window);
	tcase_add_test(module, module_bad_type);
	tcase_add_test(module, module_oversized_request_skipped);
	tcase_add_test(module, module_refusals);
	tcase_add_test(module, module_builtins);
	tcase_add_test(module, module_limits_kill);
	suite_add_tcase(s, core);
	suite_add_tcase(s, errors);
	suite_add_tcase(s, module);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cmd_suite());
	int failures;

	log_init("test_cmd_frame");
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
