/*
 * The sftp module's configuration (docs/conf.md): the default root
 * (`sftp-root PATH ro|rw`), per-user roots (`user-sftp-root USER PATH
 * [ro|rw]`), what attribute changes clients may make (`sftp-allow-setid`,
 * `sftp-allow-chown`) and the handle limit (`limit sftp-handles`). sftp_conf.c parses them into
 * struct sftp_conf, which the module gets as s->mconf.
 */
#ifndef SFTP_CONF_H
#define SFTP_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* A root for one user, keyed by the user's name. */
struct sftp_user_root {
	char user[CONF_NAME_MAX];
	char *root;
	int rw;                    /* writable (the default) or ro */
};

struct sftp_conf {
	char *root;                /* default root, or NULL */
	int rw;                    /* the default root is writable */
	struct sftp_user_root *user_roots;
	size_t nuser_roots;
	uint32_t handles;          /* limit sftp-handles: open at once */
	int allow_setid;           /* sftp-allow-setid yes: keep 06000 */
	int allow_chown;           /* sftp-allow-chown yes: uid/gid changes */
	int set_setid, set_chown;  /* each item at most once */
};

extern const struct conf_module sftp_conf_module;

/* The root configured for user, or NULL (c may be NULL: none). */
const struct sftp_user_root *sftp_conf_user_find(const struct sftp_conf *c,
						 const char *user);
const char *sftp_conf_user_root(const struct sftp_conf *c, const char *user);

#endif
