/*
 * msgping: the latency floor's client. Under curvecpclient, sends a
 * one-block message on fd 9 and waits for msgecho to send it back on fd 8,
 * COUNT times; prints "median_us p99_us count" on stdout.
 *
 *   msgping [count]
 *
 * Each message carries its sequence number; a reply that does not come
 * within 300 ms is given up and the message sent again (UDP may drop it),
 * and that round is not counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "msgio.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Waits for the echo of seq; 0 on timeout. */
static int await_echo(struct msgin *in, uint32_t seq, uint64_t deadline)
{
	for (;;) {
		const uint8_t *body;
		unsigned n;

		while (msgin_peek(in, &body, &n)) {
			uint32_t got = le32_get(body);

			msgin_next(in, n);
			if (got == seq)
				return 1;
		}
		if (in->eof)
			log_die(EXIT_TEMP, "fd 8 closed");
		uint64_t now = clock_now();

		if (now >= deadline || !msg_wait_in(clock_poll_timeout(now, deadline)))
			return 0;
		msgin_fill(in);
	}
}

int main(int argc, char **argv)
{
	struct msgin in;
	int count = argc > 1 ? atoi(argv[1]) : 1000;
	uint64_t *rtt;
	int done = 0, lost = 0;
	uint8_t msg[1 + MSG_BLOCK];

	log_init("msgping");
	if (count < 1 || count > 10000000)
		log_die(EXIT_PERM, "usage: msgping [count]");
	rtt = calloc((size_t)count, sizeof *rtt);
	if (!rtt)
		log_die(EXIT_TEMP, "out of memory");
	msgin_init(&in);
	for (uint32_t seq = 1; done < count && lost < 100; seq++) {
		uint64_t t0 = clock_now();

		memset(msg, 0, sizeof msg);
		msg[0] = 1;
		le32_put(msg + 1, seq);
		msg_send(msg, sizeof msg);
		if (await_echo(&in, seq, t0 + 300 * NS_PER_MS))
			rtt[done++] = clock_now() - t0;
		else
			lost++;
	}
	if (done == 0)
		log_die(EXIT_TEMP, "no echo at all");
	qsort(rtt, (size_t)done, sizeof *rtt, cmp_u64);
	printf("%.1f %.1f %d\n", (double)rtt[done / 2] / 1e3,
	       (double)rtt[(size_t)done * 99 / 100] / 1e3, done);
	free(rtt);
	msgin_free(&in);
	return 0;
}
