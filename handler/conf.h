/*
 * handler's configuration: line-based text (see docs/conf.md), parsed
 * whole before anything runs; any error is "file:line: problem" on stderr
 * and handler refuses to start (exit 100). With no file, an embedded safe
 * default is parsed by the same code.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_NAME_MAX 64

struct conf_user {
	char name[CONF_NAME_MAX];
	uint8_t pk[32];            /* Ed25519 public key */
	char **perms;              /* permission names, e.g. "admin", "sftp:rw" */
	size_t nperms;
	char *sftp_root;           /* per-user SFTP root, or NULL: conf->sftp_root */
};

struct conf_command {
	char name[CONF_NAME_MAX];
	char *perm;                /* permission a user needs to run it */
	char *desc;                /* one line for help/caps; may be NULL */
	char *args_desc;           /* e.g. "FILE..." for help/caps; may be NULL */
	char **argv;               /* program and fixed args, NULL-terminated */
	size_t argc;
	unsigned max_args;         /* user args allowed after the fixed ones */
	int payload;               /* may take a payload on its stdin */
	uint64_t time_limit_ms;    /* killed after this long; 0 = limits.cmd_time */
	uint64_t output_limit;     /* stdout+stderr bytes; 0 = limits.cmd_output */
};

/* An NBD export (for the nbd module). */
struct conf_export {
	char name[CONF_NAME_MAX];
	char *file;                /* absolute path of the image or device */
	int rw;                    /* writable */
	char *desc;                /* description for NBD_INFO; may be NULL */
};

struct conf_limits {
	uint64_t idle_ms;          /* no bytes either way: connection closed */
	uint64_t handshake_ms;     /* secure handshake must finish in this */
	uint32_t max_frame;        /* largest frame accepted (cmd, secure) */
	uint32_t max_requests;     /* cmd requests in flight at once */
	uint32_t max_args;         /* argv entries in one request */
	uint32_t max_arglen;       /* bytes in one argument */
	uint64_t cmd_time_ms;      /* default command time limit */
	uint64_t cmd_output;       /* default command output limit */
	uint32_t sftp_handles;     /* open SFTP handles at once */
};

struct conf {
	char *path;                /* file name, or "(embedded default)" */
	char *server_key;          /* server identity (secret) key file */
	struct conf_user *users;
	size_t nusers;
	struct conf_command *commands;
	size_t ncommands;
	char *sftp_root;           /* default SFTP root, or NULL */
	int sftp_rw;               /* default root writable */
	struct conf_limits limits;
	struct conf_export *exports;
	size_t nexports;
	char **require_secure;     /* protocols refused without -s */
	size_t nrequire_secure;
	char error[256];           /* first "file:line: problem", or "" */
};

/* Longest line accepted, and size cap for a configuration file. */
#define CONF_LINE_MAX 4096
#define CONF_FILE_MAX (1u << 20)

/* The embedded default configuration text. */
extern const char conf_default_text[];

/* Parses text (name is used in messages). 0, or -1 after logging errors. */
int conf_parse(struct conf *c, const char *name, const char *text,
	       size_t len);
/* Reads and parses a file; path NULL means the embedded default. */
int conf_load(struct conf *c, const char *path);
void conf_free(struct conf *c);

const struct conf_user *conf_user_find(const struct conf *c,
				       const char *name);
const struct conf_user *conf_user_by_key(const struct conf *c,
					 const uint8_t pk[32]);
int conf_user_has(const struct conf_user *u, const char *perm);
const struct conf_command *conf_command_find(const struct conf *c,
					     const char *name);
const struct conf_export *conf_export_find(const struct conf *c,
					   const char *name);
/* 1 when the conf says protocol name needs the secure layer. */
int conf_requires_secure(const struct conf *c, const char *proto);
/*
 * OpenSSH-style "SHA256:..." fingerprint of an Ed25519 public key (over its
 * ssh-ed25519 wire blob), for logs; dst needs 64 bytes.
 */
void conf_key_fingerprint(const uint8_t pk[32], char *dst, size_t size);
/*
 * Parses "ssh-ed25519 BASE64 [comment]" (an authorized_keys line) into
 * pk; 0, or -1 with a static reason in *why.
 */
int conf_parse_pubkey(const char *line, uint8_t pk[32], const char **why);

#endif
