#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "log.h"

int config_parse_bytes(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'k' || *end == 'K') {
		v *= 1024;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v *= 1024 * 1024;
		end++;
	}
	if (*end || v < CONFIG_MIN_BUFFER || v > CONFIG_MAX_BUFFER)
		return -1;
	*out = (size_t)v;
	return 0;
}

int config_parse_seconds(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	if ((*s < '0' || *s > '9') && *s != '.')
		return -1;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0.001 ||
	    v > 86400.0 * 365)
		return -1;
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

static int env_bytes(const char *name, size_t *out)
{
	const char *s = getenv(name);

	if (!s)
		return 0;
	if (config_parse_bytes(s, out) < 0) {
		log_error("%s must be a byte count from 64k to 256m", name);
		return -1;
	}
	return 0;
}

static int env_seconds(const char *name, uint64_t *ns)
{
	const char *s = getenv(name);

	if (!s)
		return 0;
	if (config_parse_seconds(s, ns) < 0) {
		log_error("%s must be a number of seconds (0.001 or more)",
			  name);
		return -1;
	}
	return 0;
}

int config_from_env(struct engine_cfg *c)
{
	size_t buf = CONFIG_DEFAULT_BUFFER;

	c->giveup_ns = CONFIG_DEFAULT_GIVEUP * 1000000000ULL;
	c->keepalive_ns = CONFIG_DEFAULT_KEEPALIVE * 1000000000ULL;
	if (env_bytes("MSGPIPE_BUFFER_BYTES", &buf) < 0 ||
	    env_seconds("MSGPIPE_GIVEUP_SECONDS", &c->giveup_ns) < 0 ||
	    env_seconds("MSGPIPE_KEEPALIVE_SECONDS", &c->keepalive_ns) < 0)
		return -1;
	c->sendbuf = buf;
	c->recvbuf = buf;
	return 0;
}
