#include "cmd_frame.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "wire.h"

int cmd_hdr_decode(const uint8_t *p, size_t n, struct cmd_hdr *h)
{
	struct rd r;

	if (n < CMD_HDR_LEN)
		return CMD_FRAME_AGAIN;
	rd_init(&r, p, CMD_HDR_LEN);
	rd_u8(&r, &h->type);
	rd_be32(&r, &h->id);
	rd_be32(&r, &h->len);
	return CMD_FRAME_OK;
}

void cmd_hdr_encode(uint8_t out[CMD_HDR_LEN], uint8_t type, uint32_t id,
		    uint32_t len)
{
	out[0] = type;
	be32_put(out + 1, id);
	be32_put(out + 5, len);
}

int cmd_type_from_client(uint8_t type)
{
	return type >= CMD_REQUEST && type <= CMD_VERSION;
}

int cmd_type_from_server(uint8_t type)
{
	return type >= CMD_CAPS && type <= CMD_AGREED;
}

const char *cmd_type_name(uint8_t type)
{
	switch (type) {
	case CMD_REQUEST: return "REQUEST";
	case CMD_DATA: return "DATA";
	case CMD_EOF: return "EOF";
	case CMD_CANCEL: return "CANCEL";
	case CMD_CAPS: return "CAPS";
	case CMD_STDOUT: return "STDOUT";
	case CMD_STDERR: return "STDERR";
	case CMD_EXIT: return "EXIT";
	case CMD_ERROR: return "ERROR";
	case CMD_WINDOW: return "WINDOW";
	case CMD_VERSION: return "VERSION";
	case CMD_AGREED: return "AGREED";
	default: return "unknown";
	}
}

const char *cmd_errcode_name(uint8_t code)
{
	switch (code) {
	case CMD_E_UNKNOWN: return "unknown command";
	case CMD_E_PERM: return "permission denied";
	case CMD_E_INVALID: return "invalid arguments";
	case CMD_E_LIMIT: return "over a limit";
	case CMD_E_INTERNAL: return "internal error";
	case CMD_E_PROTOCOL: return "protocol violation";
	default: return "unknown error";
	}
}

/*
 * One argument: a be32 length and that many bytes, no NUL among them.
 * The only reader of that layout, for both passes below. Returns 0 or an
 * error code.
 */
static int request_arg(struct rd *r, const struct cmd_req_limits *lim,
		       const uint8_t **p, uint32_t *n, const char **why)
{
	if (rd_be32(r, n) < 0) {
		*why = "request truncated";
		return CMD_E_INVALID;
	}
	if (*n > lim->max_arglen) {
		*why = "argument too long";
		return CMD_E_LIMIT;
	}
	if (rd_view(r, p, *n) < 0) {
		*why = "request truncated";
		return CMD_E_INVALID;
	}
	if (memchr(*p, 0, *n)) {
		*why = "NUL byte in an argument";
		return CMD_E_INVALID;
	}
	return 0;
}

/*
 * First pass over the argument list: checks every count and length and
 * totals the bytes, allocating nothing. Returns 0 or an error code.
 */
static int request_scan(struct rd *r, uint32_t argc,
			const struct cmd_req_limits *lim, size_t *total,
			const char **why)
{
	*total = 0;
	for (uint32_t i = 0; i < argc; i++) {
		const uint8_t *p;
		uint32_t n;
		int err = request_arg(r, lim, &p, &n, why);

		if (err)
			return err;
		if (i == 0 && n == 0) {
			*why = "empty command name";
			return CMD_E_INVALID;
		}
		*total += (size_t)n + 1;
	}
	if (!rd_end(r)) {
		*why = "trailing bytes after the arguments";
		return CMD_E_INVALID;
	}
	return 0;
}

/* Second pass: the arguments are known good, copy them out. */
static void request_copy(struct rd *r, const struct cmd_req_limits *lim,
			 struct cmd_request *rq, char *mem)
{
	const char *why;

	for (uint32_t i = 0; i < rq->argc; i++) {
		const uint8_t *p;
		uint32_t n;

		request_arg(r, lim, &p, &n, &why);
		memcpy(mem, p, n);
		mem[n] = 0;
		rq->argv[i] = mem;
		mem += (size_t)n + 1;
	}
	rq->argv[rq->argc] = NULL;
}

int cmd_request_parse(struct cmd_request *rq, const uint8_t *body,
		      size_t len, const struct cmd_req_limits *lim,
		      const char **why)
{
	struct rd r, args;
	size_t total, ptrs;
	int err;

	memset(rq, 0, sizeof *rq);
	rd_init(&r, body, len);
	if (rd_u8(&r, &rq->flags) < 0 || rd_be32(&r, &rq->argc) < 0) {
		*why = "request truncated";
		return CMD_E_INVALID;
	}
	if (rq->flags & ~CMD_REQ_PAYLOAD) {
		*why = "unknown request flags";
		return CMD_E_INVALID;
	}
	if (rq->argc == 0) {
		*why = "no command name";
		return CMD_E_INVALID;
	}
	if (rq->argc > lim->max_args) {
		*why = "too many arguments";
		return CMD_E_LIMIT;
	}
	/* Each entry takes at least its 4-byte length. */
	if (rq->argc > rd_left(&r) / 4) {
		*why = "request truncated";
		return CMD_E_INVALID;
	}
	args = r;
	err = request_scan(&r, rq->argc, lim, &total, why);
	if (err)
		return err;
	ptrs = ((size_t)rq->argc + 1) * sizeof(char *);
	rq->argv = malloc(ptrs + total);
	if (!rq->argv) {
		*why = "out of memory";
		return CMD_E_INTERNAL;
	}
	request_copy(&args, lim, rq, (char *)rq->argv + ptrs);
	return 0;
}

void cmd_request_free(struct cmd_request *rq)
{
	free(rq->argv);
	rq->argv = NULL;
	rq->argc = 0;
}

size_t cmd_request_body_len(int argc, char *const argv[])
{
	size_t n = 5;

	for (int i = 0; i < argc; i++)
		n += 4 + strlen(argv[i]);
	return n;
}

int cmd_put_request(struct buf *out, uint32_t id, uint8_t flags, int argc,
		    char *const argv[])
{
	size_t len = cmd_request_body_len(argc, argv);
	uint8_t *p;
	struct wr w;

	if (len > UINT32_MAX - CMD_HDR_LEN || argc < 0)
		return -1;
	p = buf_reserve(out, CMD_HDR_LEN + len);
	if (!p)
		return -1;
	wr_init(&w, p + CMD_HDR_LEN, len);
	wr_u8(&w, flags);
	wr_be32(&w, (uint32_t)argc);
	for (int i = 0; i < argc; i++)
		wr_cstring(&w, argv[i]);
	if (!wr_ok(&w))
		return -1;
	cmd_hdr_encode(p, CMD_REQUEST, id, (uint32_t)len);
	buf_commit(out, CMD_HDR_LEN + w.len);
	return 0;
}

int cmd_put_frame(struct buf *out, uint8_t type, uint32_t id,
		  const void *body, size_t len)
{
	uint8_t *p;

	if (len > UINT32_MAX || len > SIZE_MAX - CMD_HDR_LEN)
		return -1;
	p = buf_reserve(out, CMD_HDR_LEN + len);
	if (!p)
		return -1;
	cmd_hdr_encode(p, type, id, (uint32_t)len);
	if (len)
		memcpy(p + CMD_HDR_LEN, body, len);
	buf_commit(out, CMD_HDR_LEN + len);
	return 0;
}

int cmd_put_exit(struct buf *out, uint32_t id, uint8_t kind, uint32_t value)
{
	uint8_t b[5];

	b[0] = kind;
	be32_put(b + 1, value);
	return cmd_put_frame(out, CMD_EXIT, id, b, sizeof b);
}

int cmd_put_error(struct buf *out, uint32_t id, uint8_t code, int final,
		  const char *text)
{
	uint8_t b[2 + CMD_ERRTEXT_MAX];
	size_t n = strnlen(text, CMD_ERRTEXT_MAX);

	b[0] = code;
	b[1] = final ? CMD_ERR_FINAL : 0;
	memcpy(b + 2, text, n);
	return cmd_put_frame(out, CMD_ERROR, id, b, 2 + n);
}

int cmd_put_window(struct buf *out, uint32_t id, uint32_t credit,
		   uint32_t max_chunk)
{
	uint8_t b[8];

	be32_put(b, credit);
	be32_put(b + 4, max_chunk);
	return cmd_put_frame(out, CMD_WINDOW, id, b, sizeof b);
}

int cmd_exit_parse(const uint8_t *body, size_t len, uint8_t *kind,
		   uint32_t *value)
{
	struct rd r;

	rd_init(&r, body, len);
	rd_u8(&r, kind);
	rd_be32(&r, value);
	if (!rd_end(&r) || *kind > CMD_EXIT_SIGNAL)
		return -1;
	return 0;
}

int cmd_error_parse(const uint8_t *body, size_t len, uint8_t *code,
		    int *final, const uint8_t **text, size_t *tlen)
{
	struct rd r;
	uint8_t flags;

	rd_init(&r, body, len);
	if (rd_u8(&r, code) < 0 || rd_u8(&r, &flags) < 0)
		return -1;
	if (*code < CMD_E_UNKNOWN || *code > CMD_E_PROTOCOL ||
	    (flags & ~CMD_ERR_FINAL))
		return -1;
	*tlen = rd_left(&r);
	if (*tlen > CMD_ERRTEXT_MAX || rd_view(&r, text, *tlen) < 0 ||
	    memchr(*text, 0, *tlen) || !rd_end(&r))
		return -1;
	*final = flags & CMD_ERR_FINAL;
	return 0;
}

int cmd_window_parse(const uint8_t *body, size_t len, uint32_t *credit,
		     uint32_t *max_chunk)
{
	struct rd r;

	rd_init(&r, body, len);
	rd_be32(&r, credit);
	rd_be32(&r, max_chunk);
	if (!rd_end(&r) || *max_chunk == 0)
		return -1;
	return 0;
}

int cmd_put_exit_ms(struct buf *out, uint32_t id, uint8_t kind,
		    uint32_t value, uint64_t ms)
{
	uint8_t b[13];

	b[0] = kind;
	be32_put(b + 1, value);
	be64_put(b + 5, ms);
	return cmd_put_frame(out, CMD_EXIT, id, b, sizeof b);
}

int cmd_exit_parse_ms(const uint8_t *body, size_t len, uint8_t *kind,
		      uint32_t *value, uint64_t *ms)
{
	struct rd r;

	*ms = 0;
	if (len == 5)
		return cmd_exit_parse(body, len, kind, value);
	rd_init(&r, body, len);
	rd_u8(&r, kind);
	rd_be32(&r, value);
	rd_be64(&r, ms);
	if (!rd_end(&r) || *kind > CMD_EXIT_SIGNAL)
		return -1;
	return 0;
}

int cmd_put_versions(struct buf *out, const uint32_t *v, size_t n)
{
	uint8_t b[4 + 4 * CMD_VERSIONS_MAX];

	if (n < 1 || n > CMD_VERSIONS_MAX)
		return -1;
	be32_put(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		be32_put(b + 4 + 4 * i, v[i]);
	return cmd_put_frame(out, CMD_VERSION, 0, b, 4 + 4 * n);
}

int cmd_versions_parse(const uint8_t *body, size_t len, uint32_t *v,
		       size_t *n)
{
	struct rd r;
	uint32_t count;

	rd_init(&r, body, len);
	if (rd_be32(&r, &count) < 0 || count < 1 || count > CMD_VERSIONS_MAX)
		return -1;
	for (uint32_t i = 0; i < count; i++)
		if (rd_be32(&r, &v[i]) < 0 || v[i] == 0)
			return -1;
	if (!rd_end(&r))
		return -1;
	*n = count;
	return 0;
}

int cmd_put_agreed(struct buf *out, uint32_t version)
{
	uint8_t b[4];

	be32_put(b, version);
	return cmd_put_frame(out, CMD_AGREED, 0, b, sizeof b);
}

int cmd_agreed_parse(const uint8_t *body, size_t len, uint32_t *version)
{
	struct rd r;

	rd_init(&r, body, len);
	rd_be32(&r, version);
	if (!rd_end(&r) || *version == 0)
		return -1;
	return 0;
}

uint32_t cmd_version_pick(const uint32_t *a, size_t na, const uint32_t *b,
			  size_t nb)
{
	uint32_t best = 0;

	for (size_t i = 0; i < na; i++)
		for (size_t k = 0; k < nb; k++)
			if (a[i] == b[k] && a[i] > best)
				best = a[i];
	return best;
}
