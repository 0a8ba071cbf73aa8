/*
 * NBD wire constants (the fixed newstyle protocol of NetworkBlockDevice's
 * doc/proto.md) and this server's limits. Numbers only: every byte of a
 * message is packed and unpacked with lib/wire.h.
 */
#ifndef NBD_WIRE_H
#define NBD_WIRE_H

/* ---- handshake ---- */

#define NBD_MAGIC 0x4e42444d41474943ull     /* "NBDMAGIC" */
#define NBD_IHAVEOPT 0x49484156454f5054ull  /* "IHAVEOPT" */
#define NBD_REP_MAGIC 0x0003e889045565a9ull /* option replies */

/* Handshake flags (server) and client flags. */
#define NBD_FLAG_FIXED_NEWSTYLE 0x0001u
#define NBD_FLAG_NO_ZEROES 0x0002u
#define NBD_FLAG_C_FIXED_NEWSTYLE 0x00000001u
#define NBD_FLAG_C_NO_ZEROES 0x00000002u
#define NBD_CLIENT_FLAGS_KNOWN \
	(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)

/* Options. */
enum {
	NBD_OPT_EXPORT_NAME = 1,
	NBD_OPT_ABORT = 2,
	NBD_OPT_LIST = 3,
	NBD_OPT_PEEK_EXPORT = 4,
	NBD_OPT_STARTTLS = 5,
	NBD_OPT_INFO = 6,
	NBD_OPT_GO = 7,
	NBD_OPT_STRUCTURED_REPLY = 8,
	NBD_OPT_LIST_META_CONTEXT = 9,
	NBD_OPT_SET_META_CONTEXT = 10,
	NBD_OPT_EXTENDED_HEADERS = 11
};

/* Option reply types; errors have bit 31 set. */
#define NBD_REP_ACK 1u
#define NBD_REP_SERVER 2u
#define NBD_REP_INFO 3u
#define NBD_REP_META_CONTEXT 4u
#define NBD_REP_ERR(n) (0x80000000u | (n))
#define NBD_REP_ERR_UNSUP NBD_REP_ERR(1u)
#define NBD_REP_ERR_POLICY NBD_REP_ERR(2u)
#define NBD_REP_ERR_INVALID NBD_REP_ERR(3u)
#define NBD_REP_ERR_PLATFORM NBD_REP_ERR(4u)
#define NBD_REP_ERR_TLS_REQD NBD_REP_ERR(5u)
#define NBD_REP_ERR_UNKNOWN NBD_REP_ERR(6u)
#define NBD_REP_ERR_SHUTDOWN NBD_REP_ERR(7u)
#define NBD_REP_ERR_BLOCK_SIZE_REQD NBD_REP_ERR(8u)
#define NBD_REP_ERR_TOO_BIG NBD_REP_ERR(9u)

/* NBD_REP_INFO item types. */
enum {
	NBD_INFO_EXPORT = 0,
	NBD_INFO_NAME = 1,
	NBD_INFO_DESCRIPTION = 2,
	NBD_INFO_BLOCK_SIZE = 3
};

/* Transmission flags. */
#define NBD_FLAG_HAS_FLAGS 0x0001u
#define NBD_FLAG_READ_ONLY 0x0002u
#define NBD_FLAG_SEND_FLUSH 0x0004u
#define NBD_FLAG_SEND_FUA 0x0008u
#define NBD_FLAG_ROTATIONAL 0x0010u
#define NBD_FLAG_SEND_TRIM 0x0020u
#define NBD_FLAG_SEND_WRITE_ZEROES 0x0040u
#define NBD_FLAG_SEND_DF 0x0080u
#define NBD_FLAG_CAN_MULTI_CONN 0x0100u
#define NBD_FLAG_SEND_RESIZE 0x0200u
#define NBD_FLAG_SEND_CACHE 0x0400u
#define NBD_FLAG_SEND_FAST_ZERO 0x0800u

/* ---- transmission ---- */

#define NBD_REQUEST_MAGIC 0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efu

enum {
	NBD_CMD_READ = 0,
	NBD_CMD_WRITE = 1,
	NBD_CMD_DISC = 2,
	NBD_CMD_FLUSH = 3,
	NBD_CMD_TRIM = 4,
	NBD_CMD_CACHE = 5,
	NBD_CMD_WRITE_ZEROES = 6,
	NBD_CMD_BLOCK_STATUS = 7
};

/* Command flags. */
#define NBD_CMD_FLAG_FUA 0x0001u
#define NBD_CMD_FLAG_NO_HOLE 0x0002u
#define NBD_CMD_FLAG_DF 0x0004u
#define NBD_CMD_FLAG_REQ_ONE 0x0008u
#define NBD_CMD_FLAG_FAST_ZERO 0x0010u

/* Structured reply chunks. */
#define NBD_REPLY_FLAG_DONE 0x0001u
enum {
	NBD_REPLY_TYPE_NONE = 0,
	NBD_REPLY_TYPE_OFFSET_DATA = 1,
	NBD_REPLY_TYPE_OFFSET_HOLE = 2,
	NBD_REPLY_TYPE_BLOCK_STATUS = 5,
	NBD_REPLY_TYPE_ERROR = 0x8001,
	NBD_REPLY_TYPE_ERROR_OFFSET = 0x8002
};

/* Error values (the only ones a reply may carry). */
enum {
	NBD_EPERM = 1,
	NBD_EIO = 5,
	NBD_ENOMEM = 12,
	NBD_EINVAL = 22,
	NBD_ENOSPC = 28,
	NBD_EOVERFLOW = 75,
	NBD_ENOTSUP = 95,
	NBD_ESHUTDOWN = 108
};

/* base:allocation extent flags. */
#define NBD_STATE_HOLE 0x1u
#define NBD_STATE_ZERO 0x2u
#define NBD_META_BASE_ALLOCATION "base:allocation"
/* The id this server gives base:allocation (any value would do). */
#define NBD_META_ID_BASE_ALLOCATION 1u

/* ---- message sizes ---- */

#define NBD_GREETING_LEN 18   /* NBDMAGIC, IHAVEOPT, handshake flags */
#define NBD_OPT_HDR_LEN 16    /* IHAVEOPT, option, length */
#define NBD_OPT_REPLY_LEN 20  /* magic, option, type, length */
#define NBD_REQUEST_LEN 28    /* magic, flags, type, handle, offset, length */
#define NBD_SIMPLE_LEN 16     /* magic, error, handle */
#define NBD_CHUNK_LEN 20      /* magic, flags, type, handle, length */
#define NBD_EXPORT_NAME_ZEROES 124

/* ---- this server's limits (docs/nbd.md) ---- */

/* Longest export name, metadata query or string (the spec's maximum). */
#define NBD_NAME_MAX 4096
/* Option data kept whole in the input queue; longer is refused. */
#define NBD_OPT_DATA_MAX (64u * 1024)
/* Option data up to this is skipped and answered ERR_TOO_BIG; longer
 * ends the session, as does an over-long NBD_OPT_EXPORT_NAME. */
#define NBD_OPT_DRAIN_MAX (1024u * 1024)
/* Options in one negotiation. */
#define NBD_OPTIONS_MAX 1024
/* Block size constraints (NBD_INFO_BLOCK_SIZE). */
#define NBD_BLOCK_MIN 1u
#define NBD_BLOCK_PREFERRED 4096u
#define NBD_PAYLOAD_MAX (32u * 1024 * 1024)
/* Exports in one list and their descriptions. */
#define NBD_EXPORTS_MAX 64
#define NBD_DESC_MAX 1024
/* Extents in one BLOCK_STATUS reply (a shorter answer is allowed). */
#define NBD_EXTENTS_MAX 1024
/* Longest message in an error reply or chunk. */
#define NBD_MSG_MAX 160

#endif
