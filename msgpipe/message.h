/*
 * The CurveCP message format (curvecpmessage's wire format), little-endian:
 *
 *   0  u32 id            (0: a pure acknowledgement, not itself acked)
 *   4  u32 acked id      (id of the message this one acknowledges)
 *   8  u64 range 1       (stream bytes 0..r1-1 received)
 *  16  u32 gap 1, then u16 range 2, u16 gap, u16 range 3, u16 gap,
 *      u16 range 4, u16 gap, u16 range 5, u16 gap, u16 range 6
 *  38  u16 D | flags     (D data bytes 0..1024; 2048 success EOF,
 *                         4096 failure EOF)
 *  40  u64 stream position of the first data byte
 *  48  zero padding, then the D data bytes end the message.
 *
 * A message is a multiple of 16 bytes, 48..1088; on fds 8/9 it is preceded
 * by one length byte n = size / 16.
 */
#ifndef MESSAGE_H
#define MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#define MSG_HEADER 48
#define MSG_MAX 1088
#define MSG_DATA_MAX 1024
#define MSG_CLIENT_FIRST_MAX 640 /* until the server has spoken */
#define MSG_FRAME_MAX (1 + MSG_MAX)
#define MSG_FLAG_EOF 2048
#define MSG_FLAG_FAIL 4096
/* Stream positions stay far below 2^64 so pos + len + 1 never wraps. */
#define MSG_POS_LIMIT (1ULL << 62)

enum msg_eof { MSG_EOF_NONE = 0, MSG_EOF_OK = 1, MSG_EOF_FAIL = 2 };

struct msg {
	uint32_t id;
	uint32_t acked_id;
	uint64_t range1;     /* bytes [0, range1) */
	uint32_t gap1;
	uint16_t range[5];   /* ranges 2..6 */
	uint16_t gap[4];     /* gaps before ranges 3..6 */
	uint16_t len;        /* D */
	enum msg_eof eof;
	uint64_t pos;
	const uint8_t *data; /* len bytes (inside the decoded message) */
};

/* Why a message was refused; MSG_OK is 0. */
enum msg_error {
	MSG_OK = 0,
	MSG_ERR_SIZE,     /* not a multiple of 16 in 48..1088 */
	MSG_ERR_DATALEN,  /* D > 1024 or 48 + D > size */
	MSG_ERR_FLAGS,    /* both EOF flags */
	MSG_ERR_POS,      /* pos + D beyond the position limit */
	MSG_ERR_RANGES    /* acknowledged ranges overflow */
};

const char *msg_error_str(enum msg_error e);
/* Size on the wire of a message carrying len data bytes. */
size_t msg_size(size_t len);
/* Parses m (n bytes, without the length byte). m->data points into p. */
enum msg_error msg_decode(struct msg *m, const uint8_t *p, size_t n);
/*
 * Writes the message into out (cap bytes, at least msg_size(m->len)),
 * padding with zeros; returns its size, 0 if it does not fit or is invalid.
 */
size_t msg_encode(const struct msg *m, uint8_t *out, size_t cap);
/* The same, preceded by the length byte, for fds 8/9. */
size_t msg_encode_frame(const struct msg *m, uint8_t *out, size_t cap);

#endif
