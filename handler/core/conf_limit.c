/*
 * `limit NAME VALUE`: one keyword for every owner's limits. The name picks
 * the owner's table entry (the core's first, then each module's), which
 * says how to read the value, its range and where it is stored.
 */
#include "core.h"

#include <string.h>

static void limit_store(void *conf, const struct conf_limit *d, uint64_t v)
{
	char *at = (char *)conf + d->offset;

	if (d->kind == CONF_LIMIT_TIME)
		v *= 1000;
	if (d->size == sizeof(uint32_t)) {
		uint32_t v32 = (uint32_t)v;

		memcpy(at, &v32, sizeof v32);
	} else {
		memcpy(at, &v, sizeof v);
	}
}

void conf_limits_default(const struct conf_limit *t, void *conf)
{
	for (size_t i = 0; t[i].name; i++)
		limit_store(conf, &t[i], t[i].def);
}

static int limit_value(const struct conf_limit *d, const char *s,
		       uint64_t *v)
{
	int r = d->kind == CONF_LIMIT_SIZE ? conf_parse_size(s, v)
					   : conf_parse_u64(s, v);

	return r < 0 || *v < d->min || *v > d->max ? -1 : 0;
}

/* The owner and index of limit name, or -1. */
static int limit_find(const char *name, size_t *owner, size_t *idx)
{
	for (size_t i = 0; i < conf_owners(); i++) {
		const struct conf_module *m = conf_owner(i);

		for (size_t k = 0; m && m->limits && m->limits[k].name; k++)
			if (strcmp(m->limits[k].name, name) == 0) {
				*owner = i;
				*idx = k;
				return 0;
			}
	}
	return -1;
}

void conf_item_limit(struct conf_parser *p, void *core, char **word,
		     size_t nword)
{
	const struct conf_limit *d;
	size_t owner, k;
	uint64_t v;

	(void)core;
	(void)nword;
	if (limit_find(word[1], &owner, &k) < 0 ||
	    k >= CONF_MODULE_LIMITS_MAX) {
		conf_error(p, "unknown limit \"%s\"", word[1]);
		return;
	}
	d = &conf_owner(owner)->limits[k];
	if (p->limits_set[owner] & (uint64_t)1 << k) {
		conf_error(p, "duplicate limit %s", word[1]);
		return;
	}
	if (limit_value(d, word[2], &v) < 0) {
		conf_error(p, "limit %s: bad value \"%s\" (%llu..%llu%s)",
			   word[1], word[2], (unsigned long long)d->min,
			   (unsigned long long)d->max,
			   d->kind == CONF_LIMIT_TIME ? " seconds" : "");
		return;
	}
	p->limits_set[owner] |= (uint64_t)1 << k;
	limit_store(conf_owner_conf(p->c, owner), d, v);
}
