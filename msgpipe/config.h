/* Settings from the environment, checked once at start-up. */
#ifndef CONFIG_H
#define CONFIG_H

#include "engine.h"

#define CONFIG_DEFAULT_BUFFER (2 * 1024 * 1024)
#define CONFIG_MIN_BUFFER (64 * 1024)
#define CONFIG_MAX_BUFFER (256 * 1024 * 1024)
#define CONFIG_DEFAULT_GIVEUP 60
#define CONFIG_DEFAULT_KEEPALIVE 10

/*
 * Fills the engine settings from MSGPIPE_BUFFER_BYTES,
 * MSGPIPE_GIVEUP_SECONDS and MSGPIPE_KEEPALIVE_SECONDS (defaults when
 * unset). Returns 0, or -1 after logging which variable is invalid.
 */
int config_from_env(struct engine_cfg *c);

/* Parsers, exposed for tests: 0 on success. */
int config_parse_bytes(const char *s, size_t *out);
int config_parse_seconds(const char *s, uint64_t *ns);

#endif
