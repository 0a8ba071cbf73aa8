/*
 * libFuzzer harness for msgpipe's message parser and engine.
 *
 * The input is what fd 8 would carry: length bytes and messages. Each
 * message is decoded on its own (and re-encoded when valid: the result must
 * decode to the same fields), then fed to a server-role engine driven by a
 * fake clock, whose output is generated and checked to be well formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "message.h"

static void check_roundtrip(const uint8_t *p, size_t n)
{
	struct msg m, d;
	uint8_t out[MSG_MAX];
	size_t k;

	if (msg_decode(&m, p, n) != MSG_OK)
		return;
	k = msg_encode(&m, out, sizeof out);
	if (k == 0 || k > n)
		abort();
	if (msg_decode(&d, out, k) != MSG_OK)
		abort();
	if (d.id != m.id || d.acked_id != m.acked_id || d.range1 != m.range1 ||
	    d.gap1 != m.gap1 || d.len != m.len || d.pos != m.pos ||
	    d.eof != m.eof || memcmp(d.data, m.data, m.len) != 0)
		abort();
}

static void drain(struct engine *e, uint64_t now)
{
	uint8_t f[MSG_FRAME_MAX];
	struct iovec iov[2];
	size_t n;
	int k;

	engine_tick(e, now);
	while ((n = engine_output(e, now, f, sizeof f))) {
		struct msg m;

		if (n != 1 + (size_t)f[0] * 16 || f[0] == 0 || f[0] > 68)
			abort();
		if (msg_decode(&m, f + 1, n - 1) != MSG_OK)
			abort();
	}
	while ((k = engine_child_data(e, iov)))
		engine_child_wrote(e, iov[0].iov_len);
	(void)engine_deadline(e, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct engine_cfg cfg = { ROLE_SERVER, 64 * 1024, 64 * 1024,
				  60ULL * 1000000000, 10ULL * 1000000000 };
	struct engine e;
	uint64_t now = 1000000000ULL;
	size_t off = 0;

	if (!inited) {
		log_init("fuzz_message");
		log_set_level(LOG_FATAL);
		inited = 1;
	}
	if (engine_init(&e, &cfg, now) < 0)
		return 0;
	/* Some stream data of our own, so acks have something to hit. */
	{
		struct iovec iov[2];
		int k = sendq_space(engine_sendq(&e), iov);

		if (k) {
			size_t c = iov[0].iov_len < 5000 ? iov[0].iov_len : 5000;

			memset(iov[0].iov_base, 'x', c);
			sendq_commit(engine_sendq(&e), c);
		}
	}
	while (off < size) {
		size_t n = (size_t)data[off] * 16;

		off++;
		if (n == 0 || n > MSG_MAX) {
			engine_refused(&e, "bad length byte");
			continue;
		}
		if (size - off < n)
			n = size - off; /* a truncated tail: decode what is there */
		check_roundtrip(data + off, n);
		engine_input(&e, now, data + off, n);
		off += n;
		now += 100000;
		drain(&e, now);
		if (off % 7 == 0)
			engine_child_eof(&e, MSG_EOF_OK);
	}
	drain(&e, now + 2000000000ULL);
	engine_free(&e);
	return 0;
}
