/* Monotonic time in nanoseconds: the "now" every engine is driven with. */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

#define NS_PER_MS 1000000ULL
#define NS_PER_SEC 1000000000ULL

uint64_t clock_now(void);
/* Milliseconds until deadline for poll(2): 0 if past, -1 if deadline is 0
 * (no deadline), rounded up so poll never wakes early and spins. */
int clock_poll_timeout(uint64_t now, uint64_t deadline);

#endif
