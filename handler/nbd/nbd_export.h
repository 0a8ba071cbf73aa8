/*
 * The export list and who may open what (nbd_export.c). The list is a
 * fixed array so that a reply listing it has a known bound; the conf
 * (nbd_conf.c) and the session each own one.
 */
#ifndef NBD_EXPORT_H
#define NBD_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "nbd_wire.h"

/*
 * One export. The first one added is also the default export (the empty
 * name): the command line's FILE, else the configuration's first
 * nbd-export.
 */
struct nbd_export {
	char *name;                /* what a client asks for, never "" */
	char *path;                /* image file or block device */
	char *desc;                /* NBD_INFO_DESCRIPTION, or NULL */
	int rw;                    /* the export may be written */
};

struct nbd_exports {
	struct nbd_export e[NBD_EXPORTS_MAX];
	size_t n;
};

enum nbd_access { NBD_ACCESS_NONE, NBD_ACCESS_RO, NBD_ACCESS_RW };

/* 0, or -1 with a static reason in *why (nothing added). */
int nbd_exports_add(struct nbd_exports *x, const char *name,
		    const char *path, int rw, const char *desc,
		    const char **why);
void nbd_exports_free(struct nbd_exports *x);
/* The export a client's name selects ("" is the default), or -1. */
int nbd_exports_find(const struct nbd_exports *x, const uint8_t *name,
		     size_t n);
/* The last path component: an export's name from its file. */
const char *nbd_basename(const char *path);
/*
 * What user u may do with export e: without the secure layer (u NULL)
 * the export's own mode; otherwise nbd:rw or nbd:rw:NAME allow writing,
 * nbd:ro or nbd:ro:NAME reading, capped by the export's mode.
 */
enum nbd_access nbd_access(const struct conf_user *u,
			   const struct nbd_export *e);
/* True when u holds any nbd permission at all. */
int nbd_user_allowed(const struct conf_user *u);

#endif
