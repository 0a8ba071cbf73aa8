#include <string.h>

#include "core.h"

extern const struct protocol proto_cmd;
extern const struct protocol proto_nbd;
extern const struct protocol proto_sftp;

/*
 * Adding a protocol touches this table only: a module brings its own
 * configuration items and limits (struct protocol's conf, conf.h).
 */
const struct protocol *const protocols[] = {
	&proto_cmd,
	&proto_nbd,
	&proto_sftp,
	NULL
};

const struct protocol *protocol_find(const char *name)
{
	for (size_t i = 0; protocols[i]; i++)
		if (strcmp(protocols[i]->name, name) == 0)
			return protocols[i];
	return NULL;
}
