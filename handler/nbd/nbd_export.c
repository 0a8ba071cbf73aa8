/*
 * The export list and who may open what. The list is a small fixed array
 * (NBD_EXPORTS_MAX) so that an option reply listing it has a known bound;
 * names, paths and descriptions are copied in, so the list owns them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbd_priv.h"

static char *dup_or_null(const char *s, int *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = 1;
	return d;
}

int nbd_exports_add(struct nbd_exports *x, const char *name,
		    const char *path, int rw, const char *desc,
		    const char **why)
{
	struct nbd_export *e;
	size_t nlen = name ? strlen(name) : 0;
	int failed = 0;

	if (x->n >= NBD_EXPORTS_MAX)
		return *why = "too many exports", -1;
	if (nlen == 0 || nlen > NBD_NAME_MAX)
		return *why = "export name empty or too long", -1;
	if (!path || !*path)
		return *why = "export without a path", -1;
	if (desc && strlen(desc) > NBD_DESC_MAX)
		return *why = "export description too long", -1;
	if (nbd_exports_find(x, (const uint8_t *)name, nlen) >= 0)
		return *why = "duplicate export name", -1;
	e = &x->e[x->n];
	e->name = dup_or_null(name, &failed);
	e->path = dup_or_null(path, &failed);
	e->desc = dup_or_null(desc, &failed);
	e->rw = rw;
	if (failed) {
		free(e->name);
		free(e->path);
		free(e->desc);
		memset(e, 0, sizeof *e);
		return *why = "out of memory", -1;
	}
	x->n++;
	return 0;
}

void nbd_exports_free(struct nbd_exports *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->e[i].name);
		free(x->e[i].path);
		free(x->e[i].desc);
	}
	memset(x, 0, sizeof *x);
}

int nbd_exports_find(const struct nbd_exports *x, const uint8_t *name,
		     size_t n)
{
	if (n == 0)
		return x->n ? 0 : -1;
	for (size_t i = 0; i < x->n; i++)
		if (strlen(x->e[i].name) == n &&
		    memcmp(x->e[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

const char *nbd_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "nbd:MODE:NAME" held by u; names too long for a permission never are. */
static int has_export_perm(const struct conf_user *u, const char *mode,
			   const char *name)
{
	char perm[CONF_NAME_MAX + 16];
	int n = snprintf(perm, sizeof perm, "nbd:%s:%s", mode, name);

	return n > 0 && (size_t)n < sizeof perm && conf_user_has(u, perm);
}

enum nbd_access nbd_access(const struct conf_user *u,
			   const struct nbd_export *e)
{
	enum nbd_access a;

	if (!u)
		return e->rw ? NBD_ACCESS_RW : NBD_ACCESS_RO;
	if (conf_user_has(u, "nbd:rw") || has_export_perm(u, "rw", e->name))
		a = NBD_ACCESS_RW;
	else if (conf_user_has(u, "nbd:ro") ||
		 has_export_perm(u, "ro", e->name))
		a = NBD_ACCESS_RO;
	else
		return NBD_ACCESS_NONE;
	return a == NBD_ACCESS_RW && !e->rw ? NBD_ACCESS_RO : a;
}

int nbd_user_allowed(const struct conf_user *u)
{
	for (size_t i = 0; i < u->nperms; i++)
		if (strncmp(u->perms[i], "nbd:ro", 6) == 0 ||
		    strncmp(u->perms[i], "nbd:rw", 6) == 0)
			if (u->perms[i][6] == 0 || u->perms[i][6] == ':')
				return 1;
	return 0;
}
