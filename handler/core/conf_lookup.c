/* Lookups over a parsed configuration, and freeing it. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void modules_free(struct conf *c)
{
	for (size_t i = 0; c->mconf && i < c->nmods; i++) {
		const struct conf_module *m = protocols[i]->conf;

		if (c->mconf[i] && m->free)
			m->free(c->mconf[i]);
		free(c->mconf[i]);
	}
	free(c->mconf);
}

void conf_free(struct conf *c)
{
	char err[sizeof c->error];

	modules_free(c);
	for (size_t i = 0; i < c->nusers; i++)
		strv_free(c->users[i].perms, c->users[i].nperms);
	if (c->users)
		sodium_memzero(c->users, c->nusers * sizeof *c->users);
	free(c->users);
	free(c->path);
	free(c->server_key);
	free(c->run_as);
	strv_free(c->require_secure, c->nrequire_secure);
	/* The first error outlives the rest, for the caller's message. */
	memcpy(err, c->error, sizeof err);
	memset(c, 0, sizeof *c);
	memcpy(c->error, err, sizeof err);
}

const struct conf_user *conf_user_find(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->nusers; i++)
		if (strcmp(c->users[i].name, name) == 0)
			return &c->users[i];
	return NULL;
}

const struct conf_user *conf_user_by_key(const struct conf *c,
					 const uint8_t pk[32])
{
	for (size_t i = 0; i < c->nusers; i++)
		if (sodium_memcmp(c->users[i].pk, pk, 32) == 0)
			return &c->users[i];
	return NULL;
}

int conf_user_has(const struct conf_user *u, const char *perm)
{
	if (!u)
		return 0;
	for (size_t i = 0; i < u->nperms; i++)
		if (strcmp(u->perms[i], perm) == 0)
			return 1;
	return 0;
}

int conf_requires_secure(const struct conf *c, const char *proto)
{
	for (size_t i = 0; i < c->nrequire_secure; i++)
		if (strcmp(c->require_secure[i], proto) == 0)
			return 1;
	return 0;
}

const void *conf_module_conf(const struct conf *c, const struct protocol *p)
{
	for (size_t i = 0; i < c->nmods; i++)
		if (protocols[i] == p)
			return c->mconf[i];
	return NULL;
}
