/*
 * Transmission requests: decoding the 28-byte header and every check a
 * request passes before it touches the file. Pure: no I/O, no state, so
 * the unit tests and the fuzzer drive it directly.
 *
 * The checks follow the spec's error rules: unknown commands and flags,
 * and flags the export did not advertise, are EINVAL; a write to a
 * read-only export is EPERM; a write past the end is ENOSPC and any other
 * request past the end EINVAL; READ, WRITE and CACHE longer than the
 * advertised maximum block size are EINVAL.
 */
#include "nbd_priv.h"

int nbd_request_decode(const uint8_t *p, size_t n, struct nbd_request *rq)
{
	struct rd r;
	uint32_t magic;

	rd_init(&r, p, n);
	if (rd_left(&r) < NBD_REQUEST_LEN)
		return NBD_DECODE_SHORT;
	rd_be32(&r, &magic);
	rd_be16(&r, &rq->flags);
	rd_be16(&r, &rq->type);
	rd_be64(&r, &rq->handle);
	rd_be64(&r, &rq->offset);
	rd_be32(&r, &rq->length);
	return magic == NBD_REQUEST_MAGIC ? 0 : NBD_DECODE_MAGIC;
}

uint32_t nbd_request_payload(const struct nbd_request *rq)
{
	return rq->type == NBD_CMD_WRITE ? rq->length : 0;
}

const char *nbd_cmd_name(uint16_t type)
{
	static const char *const names[] = {
		"READ", "WRITE", "DISC", "FLUSH", "TRIM", "CACHE",
		"WRITE_ZEROES", "BLOCK_STATUS"
	};

	return type < sizeof names / sizeof names[0] ? names[type] : "UNKNOWN";
}

/* The command flags valid for a command on this export. FUA is valid on
 * every command once advertised (clients are known to set it anywhere). */
static uint16_t flags_allowed(uint16_t type, uint16_t eflags)
{
	uint16_t f = eflags & NBD_FLAG_SEND_FUA ? NBD_CMD_FLAG_FUA : 0;

	switch (type) {
	case NBD_CMD_READ:
		return f | (eflags & NBD_FLAG_SEND_DF ? NBD_CMD_FLAG_DF : 0);
	case NBD_CMD_WRITE_ZEROES:
		return f | NBD_CMD_FLAG_NO_HOLE |
		       (eflags & NBD_FLAG_SEND_FAST_ZERO ?
				NBD_CMD_FLAG_FAST_ZERO : 0);
	case NBD_CMD_BLOCK_STATUS:
		return f | NBD_CMD_FLAG_REQ_ONE;
	default:
		return f;
	}
}

static int writes(uint16_t type)
{
	return type == NBD_CMD_WRITE || type == NBD_CMD_TRIM ||
	       type == NBD_CMD_WRITE_ZEROES;
}

/* Whether the export advertised the command at all. */
static int advertised(uint16_t type, uint16_t eflags)
{
	switch (type) {
	case NBD_CMD_TRIM:
		return (eflags & NBD_FLAG_SEND_TRIM) != 0;
	case NBD_CMD_WRITE_ZEROES:
		return (eflags & NBD_FLAG_SEND_WRITE_ZEROES) != 0;
	case NBD_CMD_FLUSH:
		return (eflags & NBD_FLAG_SEND_FLUSH) != 0;
	default:
		return 1;
	}
}

static uint32_t check_range(const struct nbd_request *rq,
			    const struct nbd_tx *tx, const char **why)
{
	int grows = rq->type == NBD_CMD_WRITE ||
		    rq->type == NBD_CMD_WRITE_ZEROES;

	if (rq->offset > tx->size || rq->length > tx->size - rq->offset) {
		*why = grows ? "write past the end of the export" :
			       "request past the end of the export";
		return grows ? NBD_ENOSPC : NBD_EINVAL;
	}
	return 0;
}

uint32_t nbd_request_check(const struct nbd_request *rq,
			   const struct nbd_tx *tx, const char **why)
{
	uint16_t t = rq->type;

	*why = "";
	if (t > NBD_CMD_BLOCK_STATUS)
		return *why = "unknown command", NBD_EINVAL;
	if (t == NBD_CMD_DISC)
		return 0;
	if (rq->flags & ~flags_allowed(t, tx->eflags))
		return *why = "command flag not valid here", NBD_EINVAL;
	if (writes(t) && (tx->eflags & NBD_FLAG_READ_ONLY))
		return *why = "the export is read-only", NBD_EPERM;
	if (!advertised(t, tx->eflags))
		return *why = "command not advertised", NBD_EINVAL;
	if (t == NBD_CMD_BLOCK_STATUS && !(tx->structured && tx->meta))
		return *why = "no metadata context negotiated", NBD_EINVAL;
	if (t == NBD_CMD_FLUSH && (rq->offset || rq->length))
		return *why = "FLUSH with an offset or length", NBD_EINVAL;
	if ((t == NBD_CMD_READ || t == NBD_CMD_WRITE || t == NBD_CMD_CACHE) &&
	    rq->length > NBD_PAYLOAD_MAX)
		return *why = "longer than the maximum block size", NBD_EINVAL;
	if (t == NBD_CMD_BLOCK_STATUS && rq->length == 0)
		return *why = "BLOCK_STATUS of length 0", NBD_EINVAL;
	return check_range(rq, tx, why);
}
