/*
 * The core's own items and limits (docs/conf.md): the server key, run-as,
 * users (with the account each runs as),
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

/* run-as ACCOUNT: whom a handler started as root becomes (privsep.c). */
static void item_run_as(struct conf_parser *p, void *conf, char **word,
			size_t nword)
{
	struct conf *c = conf;

	(void)nword;
	if (c->run_as) {
		conf_error(p, "duplicate run-as");
		return;
	}
	if (!conf_name_ok(word[1])) {
		conf_error(p, "bad run-as account \"%s\"", word[1]);
		return;
	}
	c->run_as = conf_strdup(p, word[1]);
}

/*
 * An optional account=NAME right after PERMS. A key line starts with
 * its type ("ssh-ed25519"), so the word cannot be mistaken for a key.
 * Returns the words it took (0 or 1), or -1 after an error.
 */
static int user_account(struct conf_parser *p, char *account, size_t size,
			char **word, size_t nword)
{
	const char *a;

	if (nword < 4 || strncmp(word[3], "account=", 8) != 0)
		return 0;
	a = word[3] + 8;
	if (!conf_name_ok(a)) {
		conf_error(p, "user %s: bad account \"%s\"", word[1], a);
		return -1;
	}
	if (nword < 5) {
		conf_error(p, "user %s: missing key after %s", word[1],
			   word[3]);
		return -1;
	}
	snprintf(account, size, "%s", a);
	return 1;
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
	char account[CONF_NAME_MAX] = "";
	char *key;
	int skip;

	if (!conf_name_ok(word[1])) {
		conf_error(p, "bad user name \"%s\"", word[1]);
		return;
	}
	if (conf_user_find(c, word[1])) {
		conf_error(p, "duplicate user \"%s\"", word[1]);
		return;
	}
	skip = user_account(p, account, sizeof account, word, nword);
	if (skip < 0)
		return;
	/* The key may be given as words or as one quoted line. */
	key = conf_join(p, word + 3 + skip, nword - 3 - (size_t)skip);
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
	memcpy(u->account, account, sizeof account);
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
	{ "run-as", 1, 1, item_run_as },
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
