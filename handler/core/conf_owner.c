/*
 * The owners of configuration items: the core first (conf_items.c), then
 * each module of protocols[] in order. The parser (conf.c) and the limit
 * table (conf_limit.c) both walk this list; it depends on neither.
 */
#include "core.h"

size_t conf_owners(void)
{
	size_t n = 1;

	while (protocols[n - 1])
		n++;
	return n;
}

const struct conf_module *conf_owner(size_t i)
{
	return i == 0 ? &conf_core_module : protocols[i - 1]->conf;
}

void *conf_owner_conf(struct conf *c, size_t i)
{
	if (i == 0)
		return c;
	return i - 1 < c->nmods ? c->mconf[i - 1] : NULL;
}
