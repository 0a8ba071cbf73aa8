/*
 * libFuzzer harness for the cmd protocol's parsers: the frame decoder and
 * every body parser on arbitrary bytes, then the whole module's dispatcher
 * fed the same bytes as a client stream (builtins only, so nothing is
 * spawned).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cmd_frame.h"
#include "core.h"
#include "log.h"

extern const struct protocol proto_cmd;

static void codec(const uint8_t *data, size_t size)
{
	struct cmd_req_limits lim = { 16, 256 };
	struct cmd_hdr h;

	while (cmd_hdr_decode(data, size, &h) == CMD_FRAME_OK) {
		const uint8_t *b = data + CMD_HDR_LEN, *text;
		size_t left = size - CMD_HDR_LEN, n = h.len < left ? h.len : left;
		struct cmd_request rq;
		const char *why;
		uint32_t v, c;
		uint8_t k;
		size_t tlen;
		int f;

		cmd_type_from_client(h.type);
		cmd_type_from_server(h.type);
		if (cmd_request_parse(&rq, b, n, &lim, &why) == 0) {
			for (uint32_t i = 0; i < rq.argc; i++)
				if (strlen(rq.argv[i]) > lim.max_arglen)
					abort();
			cmd_request_free(&rq);
		}
		cmd_exit_parse(b, n, &k, &v);
		if (cmd_error_parse(b, n, &k, &f, &text, &tlen) == 0 &&
		    memchr(text, 0, tlen))
			abort();
		cmd_window_parse(b, n, &v, &c);
		{
			uint32_t vs[CMD_VERSIONS_MAX];
			uint64_t ms;
			size_t nv;

			cmd_exit_parse_ms(b, n, &k, &v, &ms);
			cmd_agreed_parse(b, n, &v);
			if (cmd_versions_parse(b, n, vs, &nv) == 0 &&
			    (nv < 1 || nv > CMD_VERSIONS_MAX))
				abort();
		}
		data += CMD_HDR_LEN + n;
		size -= CMD_HDR_LEN + n;
	}
}

static struct conf conf;
static int conf_ready;

static void module(const uint8_t *data, size_t size)
{
	static const char text[] =
		"limit frame 4K\nlimit requests 4\nlimit args 8\n"
		"limit arglen 64\n";
	struct session s;
	void *state = NULL;
	char *argv[] = { "cmd", NULL };

	if (!conf_ready) {
		if (conf_parse(&conf, "fuzz", text, sizeof text - 1) < 0)
			abort();
		conf_ready = 1;
	}
	memset(&s, 0, sizeof s);
	s.conf = &conf;
	s.mconf = conf_module_conf(&conf, &proto_cmd);
	s.max_frame = conf.limits.max_frame;
	s.started = clock_now();
	if (buf_init(&s.in, 8192) < 0 || buf_init(&s.out, 65536) < 0)
		abort();
	if (proto_cmd.start(&s, 1, argv, &state) != 0)
		abort();
	while (size || buf_len(&s.in)) {
		size_t n = buf_room(&s.in) < size ? buf_room(&s.in) : size;
		size_t before = buf_len(&s.in) + size;
		int r;

		buf_append(&s.in, data, n);
		data += n;
		size -= n;
		s.in_eof = size == 0;
		r = proto_cmd.input(&s, state);
		buf_clear(&s.out);  /* the client reads everything */
		if (r != 0 || buf_len(&s.in) + size == before)
			break;
	}
	proto_cmd.finish(&s, state);
	buf_free(&s.in);
	buf_free(&s.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_set_level(LOG_FATAL);
	codec(data, size);
	module(data, size);
	return 0;
}
