/*
 * The cmd protocol's frames (docs/cmd.md has the byte layout):
 *
 *   u8 type | be32 request id | be32 body length | body
 *
 * Decoding takes (pointer, length) and never trusts a length before it is
 * checked against the caller's limit; encoding appends whole frames to a
 * struct buf or fails without writing anything. No I/O here, so the unit
 * tests and the fuzzer drive it with plain arrays.
 */
#ifndef CMD_FRAME_H
#define CMD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CMD_HDR_LEN 9
/*
 * The versions this code speaks, lowest and highest. Every peer speaks 1;
 * a session starts at 1 and moves up only by a VERSION exchange.
 */
#define CMD_PROTOCOL_VERSION 1
#define CMD_PROTOCOL_MAX 2
/* Versions a VERSION frame may list. */
#define CMD_VERSIONS_MAX 16
/* An ERROR frame's text is at most this long. */
#define CMD_ERRTEXT_MAX 1024

enum cmd_type {
	/* client to server */
	CMD_REQUEST = 0x01,
	CMD_DATA = 0x02,
	CMD_EOF = 0x03,
	CMD_CANCEL = 0x04,
	CMD_VERSION = 0x05,      /* id 0: the versions the client speaks */
	/* server to client */
	CMD_CAPS = 0x81,
	CMD_STDOUT = 0x82,
	CMD_STDERR = 0x83,
	CMD_EXIT = 0x84,
	CMD_ERROR = 0x85,
	CMD_WINDOW = 0x86,
	CMD_AGREED = 0x87        /* id 0: the version both now speak */
};

enum cmd_errcode {
	CMD_E_UNKNOWN = 1,    /* no such command */
	CMD_E_PERM = 2,       /* the user lacks the permission */
	CMD_E_INVALID = 3,    /* malformed or bad arguments */
	CMD_E_LIMIT = 4,      /* over a limit (args, requests, time, output) */
	CMD_E_INTERNAL = 5,   /* the server failed (spawn, memory) */
	CMD_E_PROTOCOL = 6    /* the connection broke the protocol: it ends */
};

/* REQUEST flags. */
#define CMD_REQ_PAYLOAD 0x01
/* ERROR flags. */
#define CMD_ERR_FINAL 0x01
/* EXIT kinds. */
#define CMD_EXIT_CODE 0
#define CMD_EXIT_SIGNAL 1

struct cmd_hdr {
	uint8_t type;
	uint32_t id;
	uint32_t len;
};

enum {
	CMD_FRAME_AGAIN = 0,  /* fewer than CMD_HDR_LEN bytes so far */
	CMD_FRAME_OK = 1
};

/* Reads a header; never looks past p[n-1]. */
int cmd_hdr_decode(const uint8_t *p, size_t n, struct cmd_hdr *h);
void cmd_hdr_encode(uint8_t out[CMD_HDR_LEN], uint8_t type, uint32_t id,
		    uint32_t len);
/* 1 when type is one the given direction may send. */
int cmd_type_from_client(uint8_t type);
int cmd_type_from_server(uint8_t type);
const char *cmd_type_name(uint8_t type);
const char *cmd_errcode_name(uint8_t code);

struct cmd_req_limits {
	uint32_t max_args;    /* argv entries, the command name included */
	uint32_t max_arglen;  /* bytes in one entry */
};

struct cmd_request {
	uint8_t flags;
	uint32_t argc;
	char **argv;          /* argc C strings and a NULL, one allocation */
};

/*
 * Parses a REQUEST body. 0 on success (free with cmd_request_free), else
 * an error code (CMD_E_INVALID, CMD_E_LIMIT, CMD_E_INTERNAL) and *why a
 * static text for the client.
 */
int cmd_request_parse(struct cmd_request *rq, const uint8_t *body,
		      size_t len, const struct cmd_req_limits *lim,
		      const char **why);
void cmd_request_free(struct cmd_request *rq);
/* Body size of a REQUEST with these args (client side). */
size_t cmd_request_body_len(int argc, char *const argv[]);
/* Appends a whole REQUEST frame; -1 if out lacks room or args too big. */
int cmd_put_request(struct buf *out, uint32_t id, uint8_t flags, int argc,
		    char *const argv[]);

/* Appends whole frames; -1 (nothing written) when out lacks room. */
int cmd_put_frame(struct buf *out, uint8_t type, uint32_t id,
		  const void *body, size_t len);
int cmd_put_exit(struct buf *out, uint32_t id, uint8_t kind, uint32_t value);
int cmd_put_error(struct buf *out, uint32_t id, uint8_t code, int final,
		  const char *text);
int cmd_put_window(struct buf *out, uint32_t id, uint32_t credit,
		   uint32_t max_chunk);

/* Version 2's EXIT: also the milliseconds the request took. */
int cmd_put_exit_ms(struct buf *out, uint32_t id, uint8_t kind,
		    uint32_t value, uint64_t ms);
/* VERSION: be32 count, then count be32 versions (1..CMD_VERSIONS_MAX). */
int cmd_put_versions(struct buf *out, const uint32_t *v, size_t n);
int cmd_put_agreed(struct buf *out, uint32_t version);
/* The highest version in both lists, or 0 when none. */
uint32_t cmd_version_pick(const uint32_t *a, size_t na, const uint32_t *b,
			  size_t nb);

/* Body parsers for the fixed-layout frames: 0, or -1 when malformed. */
int cmd_exit_parse(const uint8_t *body, size_t len, uint8_t *kind,
		   uint32_t *value);
/* *text points into body, *tlen bytes, no NUL inside. */
int cmd_error_parse(const uint8_t *body, size_t len, uint8_t *code,
		    int *final, const uint8_t **text, size_t *tlen);
int cmd_window_parse(const uint8_t *body, size_t len, uint32_t *credit,
		     uint32_t *max_chunk);
/* EXIT of either version: *ms is 0 for a version 1 body. */
int cmd_exit_parse_ms(const uint8_t *body, size_t len, uint8_t *kind,
		      uint32_t *value, uint64_t *ms);
/* v has room for CMD_VERSIONS_MAX; versions are never 0. */
int cmd_versions_parse(const uint8_t *body, size_t len, uint32_t *v,
		       size_t *n);
int cmd_agreed_parse(const uint8_t *body, size_t len, uint32_t *version);

#endif
