/*
 * msgblast: the throughput ceiling's client. Under curvecpclient, sends
 * one small message, waits for msgcount's answer (a CurveCP client may
 * not send long messages before the server has spoken), then writes
 * maximal 68-block messages to fd 9 as fast as curvecpclient takes them
 * for `seconds`, and ends with a few end markers (any of them may be
 * lost). Prints "bytes seconds" sent on stdout.
 *
 *   msgblast [seconds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgio.h"

#define MARK_END 0xE5

static void wait_go(struct msgin *in)
{
	const uint8_t *body;
	unsigned n;

	while (!msgin_peek(in, &body, &n)) {
		if (in->eof || !msg_wait_in(10000))
			log_die(EXIT_TEMP, "no answer from msgcount");
		msgin_fill(in);
	}
	msgin_next(in, n);
}

int main(int argc, char **argv)
{
	struct msgin in;
	double seconds = argc > 1 ? atof(argv[1]) : 3;
	uint8_t msg[MSG_MAX];
	uint64_t t0, stop, bytes = 0;

	log_init("msgblast");
	if (seconds <= 0 || seconds > 3600)
		log_die(EXIT_PERM, "usage: msgblast [seconds]");
	msgin_init(&in);
	memset(msg, 0, sizeof msg);
	msg[0] = 1;
	msg_send(msg, 1 + MSG_BLOCK);
	wait_go(&in);
	msg[0] = MSG_MAX_BLOCKS;
	t0 = clock_now();
	stop = t0 + (uint64_t)(seconds * 1e9);
	for (unsigned i = 0;; i++) {
		if ((i & 63) == 0 && clock_now() >= stop)
			break;
		msg[1] = (uint8_t)i;
		msg_send(msg, sizeof msg);
		bytes += MSG_MAX_BLOCKS * MSG_BLOCK;
	}
	t0 = clock_now() - t0;
	msg[1] = MARK_END;
	memset(msg + 2, MARK_END, 15);
	for (int i = 0; i < 5; i++) {
		msg_send(msg, 1 + MSG_BLOCK);
		poll(NULL, 0, 20);
	}
	printf("%llu %.3f\n", (unsigned long long)bytes, msg_seconds(t0));
	msgin_free(&in);
	return 0;
}
