#include "message.h"

#include <string.h>

#include "wire.h"

const char *msg_error_str(enum msg_error e)
{
	switch (e) {
	case MSG_OK:
		return "ok";
	case MSG_ERR_SIZE:
		return "bad message size";
	case MSG_ERR_DATALEN:
		return "bad data length";
	case MSG_ERR_FLAGS:
		return "both EOF flags set";
	case MSG_ERR_POS:
		return "stream position out of range";
	case MSG_ERR_RANGES:
		return "acknowledged ranges overflow";
	}
	return "?";
}

size_t msg_size(size_t len)
{
	return (MSG_HEADER + len + 15) / 16 * 16;
}

/* The end of the last acknowledged range must stay below the limit. */
static int ranges_ok(const struct msg *m)
{
	uint64_t end = m->range1;

	if (end > MSG_POS_LIMIT)
		return 0;
	end += m->gap1;
	for (int i = 0; i < 5; i++) {
		if (i > 0)
			end += m->gap[i - 1];
		end += m->range[i];
	}
	/* Each step adds < 2^32, so no wrap from below 2^62 + 2^35. */
	return end <= MSG_POS_LIMIT;
}

enum msg_error msg_decode(struct msg *m, const uint8_t *p, size_t n)
{
	struct rd r;
	uint16_t dflags;

	memset(m, 0, sizeof *m);
	if (n < MSG_HEADER || n > MSG_MAX || n % 16 != 0)
		return MSG_ERR_SIZE;
	rd_init(&r, p, n);
	rd_le32(&r, &m->id);
	rd_le32(&r, &m->acked_id);
	rd_le64(&r, &m->range1);
	rd_le32(&r, &m->gap1);
	for (int i = 0; i < 5; i++) {
		if (i > 0)
			rd_le16(&r, &m->gap[i - 1]);
		rd_le16(&r, &m->range[i]);
	}
	rd_le16(&r, &dflags);
	rd_le64(&r, &m->pos);
	if (!rd_ok(&r))
		return MSG_ERR_SIZE;
	if ((dflags & MSG_FLAG_EOF) && (dflags & MSG_FLAG_FAIL))
		return MSG_ERR_FLAGS;
	m->eof = (dflags & MSG_FLAG_FAIL)  ? MSG_EOF_FAIL
		 : (dflags & MSG_FLAG_EOF) ? MSG_EOF_OK
					   : MSG_EOF_NONE;
	/* Bits above the flags are not defined: refuse them as a length. */
	m->len = dflags & (uint16_t)~(MSG_FLAG_EOF | MSG_FLAG_FAIL);
	if (m->len > MSG_DATA_MAX || MSG_HEADER + (size_t)m->len > n)
		return MSG_ERR_DATALEN;
	if (m->pos > MSG_POS_LIMIT || m->len > MSG_POS_LIMIT - m->pos)
		return MSG_ERR_POS;
	if (!ranges_ok(m))
		return MSG_ERR_RANGES;
	/* Padding is not checked: senders may leave garbage there. */
	rd_skip(&r, n - MSG_HEADER - m->len);
	rd_view(&r, &m->data, m->len);
	if (!rd_end(&r))
		return MSG_ERR_SIZE;
	return MSG_OK;
}

size_t msg_encode(const struct msg *m, uint8_t *out, size_t cap)
{
	size_t size = msg_size(m->len);
	uint16_t dflags = m->len;
	struct wr w;

	if (m->len > MSG_DATA_MAX || size > cap || m->eof > MSG_EOF_FAIL)
		return 0;
	if (m->eof == MSG_EOF_OK)
		dflags |= MSG_FLAG_EOF;
	else if (m->eof == MSG_EOF_FAIL)
		dflags |= MSG_FLAG_FAIL;
	wr_init(&w, out, size);
	wr_le32(&w, m->id);
	wr_le32(&w, m->acked_id);
	wr_le64(&w, m->range1);
	wr_le32(&w, m->gap1);
	for (int i = 0; i < 5; i++) {
		if (i > 0)
			wr_le16(&w, m->gap[i - 1]);
		wr_le16(&w, m->range[i]);
	}
	wr_le16(&w, dflags);
	wr_le64(&w, m->pos);
	wr_zero(&w, size - MSG_HEADER - m->len);
	if (m->len)
		wr_bytes(&w, m->data, m->len);
	return wr_ok(&w) && w.len == size ? size : 0;
}

size_t msg_encode_frame(const struct msg *m, uint8_t *out, size_t cap)
{
	size_t n;

	if (cap < 1)
		return 0;
	n = msg_encode(m, out + 1, cap - 1);
	if (!n)
		return 0;
	out[0] = (uint8_t)(n / 16);
	return n + 1;
}
