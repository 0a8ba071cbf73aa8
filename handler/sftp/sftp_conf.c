/*
 * The sftp module's configuration items and limit (docs/conf.md). A
 * per-user root names a user of the core's `user` items, which must come
 * first; the root is kept here, by user name, not in the user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sftp_priv.h"

const char *sftp_conf_user_root(const struct sftp_conf *c, const char *user)
{
	for (size_t i = 0; c && i < c->nuser_roots; i++)
		if (strcmp(c->user_roots[i].user, user) == 0)
			return c->user_roots[i].root;
	return NULL;
}

static void item_user_root(struct conf_parser *p, void *conf, char **word,
			   size_t nword)
{
	struct sftp_conf *c = conf;
	const struct conf_user *u = conf_user_get(p, word[1]);
	struct sftp_user_root *r;

	(void)nword;
	if (!u)
		return;
	if (sftp_conf_user_root(c, u->name)) {
		conf_error(p, "duplicate user-sftp-root for \"%s\"", u->name);
		return;
	}
	if (word[2][0] != '/') {
		conf_error(p, "sftp root must be an absolute path");
		return;
	}
	r = conf_grow(p, &c->user_roots, &c->nuser_roots, sizeof *r);
	if (!r)
		return;
	snprintf(r->user, sizeof r->user, "%s", u->name);
	r->root = conf_strdup(p, word[2]);
}

static void item_root(struct conf_parser *p, void *conf, char **word,
		      size_t nword)
{
	struct sftp_conf *c = conf;

	(void)nword;
	if (c->root) {
		conf_error(p, "duplicate sftp-root");
		return;
	}
	if (word[1][0] != '/') {
		conf_error(p, "sftp root must be an absolute path");
		return;
	}
	if (strcmp(word[2], "ro") != 0 && strcmp(word[2], "rw") != 0) {
		conf_error(p, "sftp-root mode must be ro or rw, not \"%s\"",
			   word[2]);
		return;
	}
	c->rw = strcmp(word[2], "rw") == 0;
	c->root = conf_strdup(p, word[1]);
}

static void sftp_conf_free(void *conf)
{
	struct sftp_conf *c = conf;

	for (size_t i = 0; i < c->nuser_roots; i++)
		free(c->user_roots[i].root);
	free(c->user_roots);
	free(c->root);
}

static const struct conf_item sftp_items[] = {
	{ "user-sftp-root", 2, 2, item_user_root },
	{ "sftp-root", 2, 2, item_root },
	{ NULL, 0, 0, NULL }
};

/* Keep in step with docs/conf.md ("Limits"). */
static const struct conf_limit sftp_limits[] = {
	{ "sftp-handles", CONF_LIMIT_COUNT,
	  CONF_FIELD(struct sftp_conf, handles), 1, 4096,
	  SFTP_DEFAULT_HANDLES },
	{ NULL, 0, 0, 0, 0, 0, 0 }
};

const struct conf_module sftp_conf_module = {
	.size = sizeof(struct sftp_conf),
	.items = sftp_items,
	.limits = sftp_limits,
	.free = sftp_conf_free,
};
