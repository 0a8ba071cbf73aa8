/*
 * msgecho: the latency floor's server. Under curvecpserver, every message
 * read on fd 8 goes straight back on fd 9, unchanged: no message handler,
 * no stream, only the CurveCP packet layer in between.
 *
 *   msgecho [idle_seconds]
 *
 * Exits at the end of fd 8 or after idle_seconds (default 5) of silence,
 * since curvecpserver never tells its handler that the client has left.
 */
#include <stdlib.h>

#include "msgio.h"

int main(int argc, char **argv)
{
	struct msgin in;
	int idle_ms = 1000 * (argc > 1 ? atoi(argv[1]) : 5);

	log_init("msgecho");
	msgin_init(&in);
	while (!in.eof) {
		const uint8_t *body;
		unsigned n;

		if (!msg_wait_in(idle_ms))
			break;
		msgin_fill(&in);
		while (msgin_peek(&in, &body, &n)) {
			msg_send(body - 1, 1 + (size_t)n * MSG_BLOCK);
			msgin_next(&in, n);
		}
	}
	msgin_free(&in);
	return 0;
}
