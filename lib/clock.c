#include "clock.h"

#include <time.h>

uint64_t clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

int clock_poll_timeout(uint64_t now, uint64_t deadline)
{
	uint64_t ms;

	if (deadline == 0)
		return -1;
	if (deadline <= now)
		return 0;
	ms = (deadline - now + NS_PER_MS - 1) / NS_PER_MS;
	return ms > 86400000 ? 86400000 : (int)ms;
}
