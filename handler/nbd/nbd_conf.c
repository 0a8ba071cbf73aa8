/*
 * The nbd module's configuration items and limit (docs/conf.md).
 *
 *   nbd-export NAME PATH ro|rw [DESCRIPTION ...]
 *   limit nbd-negotiation SECONDS
 *
 * A conf export's name doubles as part of a permission (nbd:rw:NAME), so
 * it is held to what a permission may contain; a client-facing name from
 * the command line (a file's base name) is not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbd_conf.h"

/* "nbd:rw:" plus the name must still be a permission (conf_perm_ok). */
#define NBD_CONF_NAME_MAX (CONF_NAME_MAX - 1 - 7)

static int export_name_ok(const char *s)
{
	return conf_name_ok(s) && !strchr(s, '@') &&
	       strlen(s) <= NBD_CONF_NAME_MAX;
}

static int mode_rw(const char *s)
{
	return strcmp(s, "rw") == 0 ? 1 : strcmp(s, "ro") == 0 ? 0 : -1;
}

static void item_export(struct conf_parser *p, void *conf, char **word,
			size_t nword)
{
	struct nbd_conf *c = conf;
	const char *why;
	char *desc = NULL;
	int rw = mode_rw(word[3]);

	if (!export_name_ok(word[1])) {
		conf_error(p, "nbd-export name \"%s\": 1 to %d of A-Z a-z 0-9 "
			   "_ - . (not starting with - or .)", word[1],
			   NBD_CONF_NAME_MAX);
		return;
	}
	if (word[2][0] != '/') {
		conf_error(p, "nbd-export path must be absolute");
		return;
	}
	if (rw < 0) {
		conf_error(p, "nbd-export mode must be ro or rw, not \"%s\"",
			   word[3]);
		return;
	}
	if (nword > 4 && !(desc = conf_join(p, word + 4, nword - 4)))
		return;
	if (nbd_exports_add(&c->exports, word[1], word[2], rw, desc,
			    &why) < 0)
		conf_error(p, "nbd-export \"%s\": %s", word[1], why);
	free(desc);
}

static void nbd_conf_free(void *conf)
{
	nbd_exports_free(&((struct nbd_conf *)conf)->exports);
}

static void nbd_conf_summary(const void *conf, char *dst, size_t size)
{
	const struct nbd_conf *c = conf;

	snprintf(dst, size, "%zu nbd export%s", c->exports.n,
		 c->exports.n == 1 ? "" : "s");
}

static const struct conf_item nbd_items[] = {
	{ "nbd-export", 3, CONF_MAX_TOKENS, item_export },
	{ NULL, 0, 0, NULL }
};

/* Keep in step with docs/conf.md ("Limits"). */
static const struct conf_limit nbd_limits[] = {
	{ "nbd-negotiation", CONF_LIMIT_TIME,
	  CONF_FIELD(struct nbd_conf, negotiation_ms), 1, 3600,
	  NBD_DEFAULT_NEGOTIATION_S },
	{ NULL, 0, 0, 0, 0, 0, 0 }
};

const struct conf_module nbd_conf_module = {
	.size = sizeof(struct nbd_conf),
	.items = nbd_items,
	.limits = nbd_limits,
	.free = nbd_conf_free,
	.summary = nbd_conf_summary,
};
