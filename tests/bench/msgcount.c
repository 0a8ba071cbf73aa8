/*
 * msgcount: the throughput ceiling's server. Under curvecpserver, answers
 * the first message (msgblast's go signal), then counts message bytes
 * until an end marker (a one-block message of 0xE5 bytes) or 2 s of
 * silence, and writes "bytes seconds MB/s" (MB = 2^20 bytes) to the file
 * given, timed from the first big message to the last one.
 *
 *   msgcount RESULTFILE
 */
#include <stdio.h>
#include <string.h>

#include "msgio.h"

#define MARK_END 0xE5

struct count {
	uint64_t bytes, first, last;
	int go_sent, ended;
};

static int is_end(const uint8_t *body, unsigned n)
{
	for (unsigned i = 0; i < MSG_BLOCK; i++)
		if (body[i] != MARK_END)
			return 0;
	return n == 1;
}

static void take(struct count *c, const uint8_t *body, unsigned n)
{
	uint64_t now = clock_now();

	if (!c->go_sent) {
		uint8_t go[1 + 3 * MSG_BLOCK] = { 3 };

		msg_send(go, sizeof go);
		c->go_sent = 1;
		return;
	}
	if (is_end(body, n)) {
		c->ended = 1;
		return;
	}
	if (!c->first)
		c->first = now;
	c->last = now;
	c->bytes += (uint64_t)n * MSG_BLOCK;
}

int main(int argc, char **argv)
{
	struct msgin in;
	struct count c = { 0 };
	FILE *f;
	double secs;

	log_init("msgcount");
	if (argc != 2)
		log_die(EXIT_PERM, "usage: msgcount RESULTFILE");
	msgin_init(&in);
	while (!in.eof && !c.ended) {
		const uint8_t *body;
		unsigned n;

		if (!msg_wait_in(2000))
			break;
		msgin_fill(&in);
		while (msgin_peek(&in, &body, &n)) {
			take(&c, body, n);
			msgin_next(&in, n);
		}
	}
	msgin_free(&in);
	secs = msg_seconds(c.last - c.first);
	f = fopen(argv[1], "w");
	if (!f || fprintf(f, "%llu %.3f %.1f\n", (unsigned long long)c.bytes,
			  secs, secs > 0 ? (double)c.bytes / secs / 1048576.0 : 0.0) < 0 ||
	    fclose(f) != 0)
		log_die_sys(EXIT_TEMP, "cannot write %s", argv[1]);
	return 0;
}
