/*
 * The I/O side of msgpipe: starts the child, then one poll loop moves
 * bytes between fds 8/9 (CurveCP messages), the child's pipes and the
 * engine, until both directions are done or the peer is given up.
 */
#ifndef MP_LOOP_H
#define MP_LOOP_H

#include "engine.h"

struct mp_loop_cfg {
	struct engine_cfg eng;
	int net_in;   /* 8 */
	int net_out;  /* 9 */
};

/* Runs prog (argv) to the end; returns msgpipe's exit code. */
int mp_loop_run(const struct mp_loop_cfg *cfg, char *const argv[]);

#endif
