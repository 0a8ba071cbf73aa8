/*
 * The sftp module's configuration items and limit (docs/conf.md). A
 * per-user root names a user of the core's `user` items, which must come
 * first; the root is kept here, by user name, not in the user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sftp_priv.h"

const struct sftp_user_root *sftp_conf_user_find(const struct sftp_conf *c,
						 const char *user)
{
	for (size_t i = 0; c && i < c->nuser_roots; i++)
		if (strcmp(c->user_roots[i].user, user) == 0)
			return &c->user_roots[i];
	return NULL;
}

const char *sftp_conf_user_root(const struct sftp_conf *c, const char *user)
{
	const struct sftp_user_root *r = sftp_conf_user_find(c, user);

	return r ? r->root : NULL;
}

/* A root's flag: 1 for rw, 0 for ro, -1 (reported) for anything else. */
static int root_flag(struct conf_parser *p, const char *item,
		     const char *word)
{
	if (strcmp(word, "rw") == 0)
		return 1;
	if (strcmp(word, "ro") == 0)
		return 0;
	conf_error(p, "%s mode must be ro or rw, not \"%s\"", item, word);
	return -1;
}

static void item_user_root(struct conf_parser *p, void *conf, char **word,
			   size_t nword)
{
	struct sftp_conf *c = conf;
	const struct conf_user *u = conf_user_get(p, word[1]);
	struct sftp_user_root *r;
	int rw = 1;

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
	if (nword > 3 && (rw = root_flag(p, "user-sftp-root", word[3])) < 0)
		return;
	r = conf_grow(p, &c->user_roots, &c->nuser_roots, sizeof *r);
	if (!r)
		return;
	snprintf(r->user, sizeof r->user, "%s", u->name);
	r->root = conf_strdup(p, word[2]);
	r->rw = rw;
}

static void item_root(struct conf_parser *p, void *conf, char **word,
		      size_t nword)
{
	struct sftp_conf *c = conf;
	int rw;

	(void)nword;
	if (c->root) {
		conf_error(p, "duplicate sftp-root");
		return;
	}
	if (word[1][0] != '/') {
		conf_error(p, "sftp root must be an absolute path");
		return;
	}
	if ((rw = root_flag(p, "sftp-root", word[2])) < 0)
		return;
	c->rw = rw;
	c->root = conf_strdup(p, word[1]);
}

/* yes|no items, each at most once. */
static void yes_no(struct conf_parser *p, char **word, int *val, int *seen)
{
	if (*seen) {
		conf_error(p, "duplicate %s", word[0]);
		return;
	}
	if (strcmp(word[1], "yes") != 0 && strcmp(word[1], "no") != 0) {
		conf_error(p, "%s must be yes or no, not \"%s\"", word[0],
			   word[1]);
		return;
	}
	*seen = 1;
	*val = strcmp(word[1], "yes") == 0;
}

static void item_allow_setid(struct conf_parser *p, void *conf, char **word,
			     size_t nword)
{
	struct sftp_conf *c = conf;

	(void)nword;
	yes_no(p, word, &c->allow_setid, &c->set_setid);
}

static void item_allow_chown(struct conf_parser *p, void *conf, char **word,
			     size_t nword)
{
	struct sftp_conf *c = conf;

	(void)nword;
	yes_no(p, word, &c->allow_chown, &c->set_chown);
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
	{ "user-sftp-root", 2, 3, item_user_root },
	{ "sftp-root", 2, 2, item_root },
	{ "sftp-allow-setid", 1, 1, item_allow_setid },
	{ "sftp-allow-chown", 1, 1, item_allow_chown },
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
