/*
 * Frames after the key exchange: be32 length of the ciphertext, then one
 * crypto_secretstream_xchacha20poly1305 message whose additional data is
 * that length field. The length is judged against the limit before the
 * body is awaited, so a peer cannot make us buffer more than one frame.
 */
#include "secure_internal.h"

#include <string.h>

#include <sodium.h>

#include "bytes.h"

/* Do not cut frames smaller than this just because raw_out is nearly full. */
#define SEAL_MIN_CHUNK 4096

int sec_tx_start(struct secure *s, struct buf *out)
{
	uint8_t *h = buf_reserve(out, SEC_HEADERBYTES);

	if (!h)
		return sec_fail(s, "no room for the stream header");
	crypto_secretstream_xchacha20poly1305_init_push(&s->tx.st, h,
							s->tx.key);
	memcpy(s->tx.header, h, sizeof s->tx.header);
	buf_commit(out, SEC_HEADERBYTES);
	sodium_memzero(s->tx.key, sizeof s->tx.key);
	s->tx.started = 1;
	return 1;
}

int sec_rx_start(struct secure *s, struct buf *in)
{
	int rc;

	if (buf_len(in) < SEC_HEADERBYTES)
		return SECURE_AGAIN;
	rc = crypto_secretstream_xchacha20poly1305_init_pull(
		&s->rx.st, buf_data(in), s->rx.key);
	sodium_memzero(s->rx.key, sizeof s->rx.key);
	if (rc != 0)
		return sec_fail(s, "bad stream header");
	memcpy(s->rx.header, buf_data(in), sizeof s->rx.header);
	buf_consume(in, SEC_HEADERBYTES);
	s->rx.started = 1;
	return 1;
}

void sec_frame_put(struct secure *s, struct buf *out, const uint8_t *m,
		   size_t n, uint8_t tag)
{
	static const uint8_t none[1];
	uint8_t *p = buf_reserve(out, n + SECURE_FRAME_OVERHEAD);

	if (!m)
		m = none;
	be32_put(p, (uint32_t)(n + SEC_ABYTES));
	crypto_secretstream_xchacha20poly1305_push(&s->tx.st, p + 4, NULL, m,
						   n, p, 4, tag);
	buf_commit(out, n + SECURE_FRAME_OVERHEAD);
}

int sec_frame_peek(struct secure *s, const struct buf *in, uint32_t limit,
		   size_t *mlen)
{
	uint32_t clen;

	if (buf_len(in) < 4)
		return SECURE_AGAIN;
	clen = be32_get(buf_data(in));
	if (clen < SEC_ABYTES)
		return sec_fail(s, "malformed frame (length %u)", clen);
	if (clen - SEC_ABYTES > limit)
		return sec_fail(s, "oversized frame (%u bytes, limit %u)",
				clen - (uint32_t)SEC_ABYTES, limit);
	if (buf_len(in) - 4 < clen)
		return SECURE_AGAIN;
	*mlen = clen - SEC_ABYTES;
	return 1;
}

int sec_frame_take(struct secure *s, struct buf *in, uint8_t *m,
		   size_t mlen, uint8_t *tag)
{
	const uint8_t *p = buf_data(in);
	size_t clen = mlen + SEC_ABYTES;

	if (crypto_secretstream_xchacha20poly1305_pull(&s->rx.st, m, NULL, tag,
						       p + 4, clen, p, 4) != 0)
		return sec_fail(s, "frame failed authentication (forged, "
				   "corrupted, reordered or replayed data)");
	buf_consume(in, 4 + clen);
	return 1;
}

static int need_ready(struct secure *s)
{
	if (s->state == SEC_READY)
		return 0;
	if (s->state == SEC_FAILED)
		return SECURE_ERROR;
	return sec_fail(s, "secure layer used before the handshake finished");
}

/*
 * A FINAL frame's plaintext is not data: it is the sender's reason for
 * ending (usually empty). It was decrypted into plain_in's free space and
 * is left uncommitted there.
 */
static int final_reason(struct secure *s, const uint8_t *m, size_t mlen)
{
	s->rx.final = 1;
	if (mlen > SEC_REASON_MAX)
		return sec_fail(s, "FINAL frame with a %zu-byte reason (limit "
				   "%d)", mlen, SEC_REASON_MAX);
	sec_printable(s->peer_reason, sizeof s->peer_reason, m, mlen);
	return 1;
}

const char *secure_peer_reason(const struct secure *s)
{
	return s->peer_reason;
}

/* One frame from raw_in into plain_in: 1, SECURE_AGAIN or SECURE_ERROR. */
static int open_one(struct secure *s, struct buf *raw_in,
		    struct buf *plain_in)
{
	uint8_t none[1], tag, *dst;
	size_t mlen = 0;
	int r = sec_frame_peek(s, raw_in, s->recv_max, &mlen);

	if (r != 1)
		return r;
	if (mlen > plain_in->cap)
		return sec_fail(s, "plaintext buffer (%zu bytes) smaller "
				   "than a %zu-byte frame", plain_in->cap, mlen);
	if (mlen > buf_room(plain_in))
		return SECURE_AGAIN;
	dst = mlen ? buf_reserve(plain_in, mlen) : none;
	if (sec_frame_take(s, raw_in, dst, mlen, &tag) != 1)
		return SECURE_ERROR;
	if (tag != SEC_TAG_MESSAGE && tag != SEC_TAG_FINAL)
		return sec_fail(s, "unexpected frame tag %u", tag);
	if (tag == SEC_TAG_FINAL)
		return final_reason(s, dst, mlen);
	if (mlen)
		buf_commit(plain_in, mlen);
	return 1;
}

int secure_open(struct secure *s, struct buf *raw_in, struct buf *plain_in)
{
	int r = need_ready(s);

	if (r)
		return r;
	for (;;) {
		if (s->rx.final) {
			if (buf_len(raw_in))
				return sec_fail(s, "data after the FINAL frame");
			return SECURE_READY;
		}
		r = open_one(s, raw_in, plain_in);
		if (r != 1)
			return r;
	}
}

int secure_seal(struct secure *s, struct buf *plain_out, struct buf *raw_out)
{
	int r = need_ready(s);

	if (r)
		return r;
	if (s->tx.final && buf_len(plain_out))
		return sec_fail(s, "data queued after the FINAL frame");
	while (buf_len(plain_out)) {
		size_t n = buf_len(plain_out), room = buf_room(raw_out), avail;

		if (n > s->send_max)
			n = s->send_max;
		if (room <= SECURE_FRAME_OVERHEAD)
			break;
		avail = room - SECURE_FRAME_OVERHEAD;
		if (avail < n && avail < SEAL_MIN_CHUNK)
			break;
		if (n > avail)
			n = avail;
		sec_frame_put(s, raw_out, buf_data(plain_out), n,
			      SEC_TAG_MESSAGE);
		buf_consume(plain_out, n);
	}
	return SECURE_AGAIN;
}

int secure_close_reason(struct secure *s, struct buf *raw_out,
			const char *reason)
{
	size_t n = reason ? strlen(reason) : 0;
	int r = need_ready(s);

	if (r)
		return r;
	if (s->tx.final)
		return 0;
	if (n > SEC_REASON_MAX)
		n = SEC_REASON_MAX;
	if (buf_room(raw_out) < SECURE_FRAME_OVERHEAD + n)
		return SECURE_AGAIN;
	sec_frame_put(s, raw_out, (const uint8_t *)reason, n, SEC_TAG_FINAL);
	s->tx.final = 1;
	return 0;
}

int secure_close(struct secure *s, struct buf *raw_out)
{
	return secure_close_reason(s, raw_out, NULL);
}
