/* Lookups over a parsed configuration, and freeing it. */
#include "conf.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void conf_free(struct conf *c)
{
	char err[sizeof c->error];

	for (size_t i = 0; i < c->nusers; i++) {
		strv_free(c->users[i].perms, c->users[i].nperms);
		free(c->users[i].sftp_root);
	}
	for (size_t i = 0; i < c->ncommands; i++) {
		struct conf_command *cmd = &c->commands[i];

		free(cmd->perm);
		free(cmd->desc);
		free(cmd->args_desc);
		strv_free(cmd->argv, cmd->argc);
	}
	if (c->users)
		sodium_memzero(c->users, c->nusers * sizeof *c->users);
	for (size_t i = 0; i < c->nexports; i++) {
		free(c->exports[i].file);
		free(c->exports[i].desc);
	}
	free(c->exports);
	free(c->users);
	free(c->commands);
	free(c->path);
	free(c->server_key);
	free(c->sftp_root);
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

const struct conf_command *conf_command_find(const struct conf *c,
					     const char *name)
{
	for (size_t i = 0; i < c->ncommands; i++)
		if (strcmp(c->commands[i].name, name) == 0)
			return &c->commands[i];
	return NULL;
}

int conf_requires_secure(const struct conf *c, const char *proto)
{
	for (size_t i = 0; i < c->nrequire_secure; i++)
		if (strcmp(c->require_secure[i], proto) == 0)
			return 1;
	return 0;
}

const struct conf_export *conf_export_find(const struct conf *c,
					   const char *name)
{
	for (size_t i = 0; i < c->nexports; i++)
		if (strcmp(c->exports[i].name, name) == 0)
			return &c->exports[i];
	return NULL;
}
