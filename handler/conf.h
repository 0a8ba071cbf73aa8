/*
 * What a protocol module sees of handler's configuration (docs/conf.md):
 * the users, and the means to declare and parse its own items and limits.
 *
 * The file is line-based text, parsed whole before anything runs. The core
 * owns the lines and its own items (server-key, user, require-secure, the
 * core limits); every other keyword, and every other `limit NAME`, goes to
 * the module that declares it in its struct conf_module (struct protocol's
 * conf). Each module gets a zeroed struct of its own (conf_module.size
 * bytes) that only it reads: at run time as s->mconf (handler.h). The
 * core's struct conf stays opaque to modules.
 *
 * Any error is "file:line: problem" on stderr and handler refuses to start
 * (exit 100); item parsers report through conf_error() below, which adds
 * the file and line.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_NAME_MAX 64
/* Most words on one line (the keyword included). */
#define CONF_MAX_TOKENS 128

struct conf_user {
	char name[CONF_NAME_MAX];
	uint8_t pk[32];            /* Ed25519 public key */
	char **perms;              /* permission names, e.g. "admin", "sftp:rw" */
	size_t nperms;
	/* The account a root handler runs this user's session as
	 * (`account=` on the user item), or "" for the conf's run-as. */
	char account[CONF_NAME_MAX];
};

/* 1 when u (which may be NULL) holds permission perm. */
int conf_user_has(const struct conf_user *u, const char *perm);

/* The parser of one file, as an item parser sees it. */
struct conf_parser;

/*
 * One item: word[0] is the keyword, word[1..nword-1] its arguments, of
 * which there are min_args..max_args (the core checks the count and says
 * "KEYWORD: missing arguments" or "too many arguments"). The parser stores
 * what it read in mconf, its module's conf, or reports with conf_error();
 * either way the parse goes on to the next line.
 */
typedef void conf_item_fn(struct conf_parser *p, void *mconf, char **word,
			  size_t nword);

struct conf_item {
	const char *keyword;       /* NULL ends a table */
	size_t min_args, max_args; /* CONF_MAX_TOKENS: no upper bound */
	conf_item_fn *parse;
};

/*
 * `limit NAME VALUE`: times are whole seconds, stored in milliseconds;
 * sizes are bytes with an optional K, M or G suffix; counts are plain.
 * The value lands at offset in the owner's conf struct, as a uint32_t or
 * uint64_t (size 4 or 8; CONF_FIELD fills both). min, max and def are in
 * the unit written (seconds, bytes); def is stored before the first line,
 * so a module reads its limits without checking whether they were set. A
 * second line for the same limit is an error.
 */
enum conf_limit_kind { CONF_LIMIT_TIME, CONF_LIMIT_SIZE, CONF_LIMIT_COUNT };

struct conf_limit {
	const char *name;          /* NULL ends a table */
	enum conf_limit_kind kind;
	size_t offset, size;
	uint64_t min, max, def;
};

#define CONF_FIELD(type, field) \
	offsetof(type, field), sizeof(((type *)0)->field)

/* At most this many limits per module (duplicates are tracked by bit). */
#define CONF_MODULE_LIMITS_MAX 64

/*
 * A module's configuration, declared in its struct protocol. Keywords and
 * limit names are one namespace across the core and every module.
 */
struct conf_module {
	size_t size;                     /* its conf struct, allocated zeroed */
	const struct conf_item *items;   /* NULL, or ended by a NULL keyword */
	const struct conf_limit *limits; /* NULL, or ended by a NULL name */
	/*
	 * After the last line: whole-file checks, reported with conf_error()
	 * as "file:0: problem". May be NULL.
	 */
	void (*check)(struct conf_parser *p, void *mconf);
	/* Frees what the items allocated (not mconf itself). May be NULL. */
	void (*free)(void *mconf);
	/* For `handler -n`: e.g. "3 commands" into dst. May be NULL. */
	void (*summary)(const void *mconf, char *dst, size_t size);
};

/* ---- helpers for item parsers ---- */

/* Reports "file:line: problem" for the current line. */
void conf_error(struct conf_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Allocation that reports "out of memory" at the current line (and stops
 * the parse) on failure; NULL then.
 */
char *conf_strdup(struct conf_parser *p, const char *s);
void *conf_calloc(struct conf_parser *p, size_t n, size_t size);
/* Words joined by single spaces (free text, split key lines). */
char *conf_join(struct conf_parser *p, char **word, size_t n);
/*
 * Appends one zeroed element to the array whose pointer is at arrp (n
 * elements of size size, n incremented); returns the new element.
 */
void *conf_grow(struct conf_parser *p, void *arrp, size_t *n, size_t size);

/*
 * Names (users, commands, protocols): 1 to 63 of A-Z a-z 0-9 _ - . @, not
 * starting with - or . Permissions: 1 to 63 of A-Z a-z 0-9 _ - . :
 */
int conf_name_ok(const char *s);
int conf_perm_ok(const char *s);
/* Decimal digits only; a byte count may end in K, M or G. 0 or -1. */
int conf_parse_u64(const char *s, uint64_t *v);
int conf_parse_size(const char *s, uint64_t *v);

/*
 * A user defined on an earlier line, or NULL after reporting
 * "unknown user \"NAME\" (define it first)".
 */
const struct conf_user *conf_user_get(struct conf_parser *p,
				      const char *name);

#endif
