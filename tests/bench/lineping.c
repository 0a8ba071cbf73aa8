/*
 * lineping: stream round trips through a message handler. Under
 * `msgpipe -c` or `curvecpmessage -c` (fd 7 to the server, fd 6 back),
 * writes a short line and waits until the server's child (cat) has echoed
 * it whole, COUNT times; prints "median_us p99_us count" on stdout.
 *
 *   lineping [count [seconds]]
 *
 * Stops early after `seconds` (default 20) so a slow handler still gives
 * a figure from the rounds it managed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "exitcode.h"
#include "fdutil.h"
#include "log.h"

#define UP 7
#define DOWN 6

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Reads until n bytes came back; they must be the line sent. */
static void await_line(const char *line, size_t n)
{
	char got[64];
	size_t have = 0;

	while (have < n) {
		ssize_t r = read(DOWN, got + have, n - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			log_die(EXIT_TEMP, "stream ended after %zu bytes", have);
		have += (size_t)r;
	}
	if (memcmp(got, line, n))
		log_die(EXIT_TEMP, "echo differs");
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 1000;
	int seconds = argc > 2 ? atoi(argv[2]) : 20;
	uint64_t *rtt, stop;
	int done = 0;

	log_init("lineping");
	if (count < 1 || count > 10000000 || seconds < 1)
		log_die(EXIT_PERM, "usage: lineping [count [seconds]]");
	rtt = calloc((size_t)count, sizeof *rtt);
	if (!rtt)
		log_die(EXIT_TEMP, "out of memory");
	stop = clock_now() + (uint64_t)seconds * NS_PER_SEC;
	while (done < count && clock_now() < stop) {
		char line[64];
		int n = snprintf(line, sizeof line, "ping %d\n", done);
		uint64_t t0 = clock_now();

		if (fd_write_all(UP, line, (size_t)n) < 0)
			log_die_sys(EXIT_TEMP, "write fd %d", UP);
		await_line(line, (size_t)n);
		rtt[done++] = clock_now() - t0;
	}
	close(UP);
	if (done == 0)
		log_die(EXIT_TEMP, "no round trip at all");
	qsort(rtt, (size_t)done, sizeof *rtt, cmp_u64);
	printf("%.1f %.1f %d\n", (double)rtt[done / 2] / 1e3,
	       (double)rtt[(size_t)done * 99 / 100] / 1e3, done);
	free(rtt);
	return 0;
}
