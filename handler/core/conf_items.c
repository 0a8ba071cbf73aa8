/*
 * The core's own items and limits (docs/conf.md): the server key, users,
 * which protocols need the secure layer, and the limits the loop and the
 * secure layer enforce. The core is owner 0, and its conf is struct conf.
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void item_server_key(struct conf_parser *p, void *conf, char **word,
			    size_t nword)
{
	struct conf *c = conf;

	(void)nword;
	if (c->server_key) {
		conf_error(p, "duplicate server-key");
		return;
	}
	if (!word[1][0]) {
		conf_error(p, "empty server-key path");
		return;
	}
	c->server_key = conf_strdup(p, word[1]);
	c->server_key_line = p->line;
}

static void user_perms(struct conf_parser *p, struct conf_user *u,
		       const char *s)
{
	char buf[CONF_LINE_MAX + 1];
	char *save = NULL;

	if (strcmp(s, "-") == 0)
		return;
	snprintf(buf, sizeof buf, "%s", s);
	if (!*buf || buf[0] == ',' || buf[strlen(buf) - 1] == ',' ||
	    strstr(buf, ",,")) {
		conf_error(p, "bad permission list \"%s\"", s);
		return;
	}
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		char **slot;

		if (!conf_perm_ok(t)) {
			conf_error(p, "bad permission name \"%s\"", t);
			return;
		}
		slot = conf_grow(p, &u->perms, &u->nperms, sizeof *u->perms);
		if (!slot)
			return;
		*slot = conf_strdup(p, t);
	}
}

static void item_user(struct conf_parser *p, void *conf, char **word,
		      size_t nword)
{
	struct conf *c = conf;
	struct conf_user *u;
	const char *why;
	uint8_t pk[32];
	char *key;

	if (!conf_name_ok(word[1])) {
		conf_error(p, "bad user name \"%s\"", word[1]);
		return;
	}
	if (conf_user_find(c, word[1])) {
		conf_error(p, "duplicate user \"%s\"", word[1]);
		return;
	}
	/* The key may be given as words or as one quoted line. */
	key = conf_join(p, word + 3, nword - 3);
	if (!key)
		return;
	if (conf_parse_pubkey(key, pk, &why) < 0) {
		conf_error(p, "user %s: %s", word[1], why);
		free(key);
		return;
	}
	free(key);
	u = conf_grow(p, &c->users, &c->nusers, sizeof *u);
	if (!u)
		return;
	snprintf(u->name, sizeof u->name, "%s", word[1]);
	memcpy(u->pk, pk, sizeof pk);
	user_perms(p, u, word[2]);
}

static void item_require_secure(struct conf_parser *p, void *conf,
				char **word, size_t nword)
{
	struct conf *c = conf;

	for (size_t i = 1; i < nword; i++) {
		char **slot;

		if (!conf_name_ok(word[i])) {
			conf_error(p, "bad protocol name \"%s\"", word[i]);
			return;
		}
		if (conf_requires_secure(c, word[i]))
			continue;
		slot = conf_grow(p, &c->require_secure, &c->nrequire_secure,
				 sizeof *slot);
		if (!slot || !(*slot = conf_strdup(p, word[i])))
			return;
	}
}

static const struct conf_item core_items[] = {
	{ "server-key", 1, 1, item_server_key },
	{ "user", 3, CONF_MAX_TOKENS, item_user },
	{ "limit", 2, 2, conf_item_limit },
	{ "require-secure", 1, CONF_MAX_TOKENS, item_require_secure },
	{ NULL, 0, 0, NULL }
};

#define CORE_LIMIT(f) CONF_FIELD(struct conf, limits.f)
/* Keep in step with docs/conf.md ("Limits"). */
static const struct conf_limit core_limits[] = {
	{ "idle", CONF_LIMIT_TIME, CORE_LIMIT(idle_ms), 1, 86400, 300 },
	{ "handshake", CONF_LIMIT_TIME, CORE_LIMIT(handshake_ms), 1, 3600,
	  10 },
	{ "frame", CONF_LIMIT_SIZE, CORE_LIMIT(max_frame), 1024, 16u << 20,
	  65536 },
	{ NULL, 0, 0, 0, 0, 0, 0 }
};

const struct conf_module conf_core_module = {
	.size = sizeof(struct conf),
	.items = core_items,
	.limits = core_limits,
};
