/*
 * The handshake state machine (docs/secure.md, "Handshake"):
 *
 *   client                                   server
 *   hello: eph_c, rand_c, max   ---->
 *                               <----   hello: eph_s, rand_s, max, S,
 *                                              sig_S(th1)
 *   [stream header, frame: user, U, sig_U(th2)]  ---->
 *                               <----   [stream header, frame: accept]
 *
 * Each step function returns 1 when it moved to the next state,
 * SECURE_AGAIN when it needs input or output room, or SECURE_ERROR.
 */
#include "secure_internal.h"

#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "keys.h"
#include "secure_handoff.h"
#include "wire.h"

static const char auth_failed[] = "authentication failed";

static int out_room(struct secure *s, const struct buf *out)
{
	if (out->cap < SEC_HS_OUT_ROOM)
		return sec_fail(s, "output buffer too small for the handshake");
	return buf_room(out) >= SEC_HS_OUT_ROOM ? 1 : SECURE_AGAIN;
}

static int check_peer_max(struct secure *s, uint32_t peer_max)
{
	if (peer_max < SEC_FRAME_MIN)
		return sec_fail(s, "peer frame limit %u is below %u bytes",
				peer_max, SEC_FRAME_MIN);
	s->send_max = peer_max < SECURE_FRAME_MAX ? peer_max : SECURE_FRAME_MAX;
	return 0;
}

/* Header, frame limit, fresh ephemeral key and random: both hellos. */
static void hello_common(struct secure *s, struct wr *w, uint8_t type)
{
	uint8_t *p = wr_reserve(w, SEC_HDR_LEN);
	uint8_t rnd[32];

	if (p)
		sec_hello_header(p, type);
	crypto_kx_keypair(s->eph_pk, s->eph_sk);
	randombytes_buf(rnd, sizeof rnd);
	wr_be32(w, s->recv_max);
	wr_bytes(w, s->eph_pk, sizeof s->eph_pk);
	wr_bytes(w, rnd, sizeof rnd);
}

static int client_send_hello(struct secure *s, struct buf *out)
{
	struct wr w;
	int r = out_room(s, out);

	if (r != 1)
		return r;
	wr_init(&w, s->client_hello, sizeof s->client_hello);
	hello_common(s, &w, SEC_T_CLIENT_HELLO);
	if (!wr_ok(&w) || w.len != sizeof s->client_hello)
		return sec_fail(s, "internal error building the client hello");
	buf_append(out, s->client_hello, sizeof s->client_hello);
	s->state = SEC_C_WAIT_HELLO;
	return 1;
}

static int client_check_server_key(struct secure *s, const uint8_t *id_pk)
{
	char got[KEYS_FP_MAX], want[KEYS_FP_MAX];

	if (sodium_memcmp(id_pk, s->pinned, 32) == 0)
		return 0;
	keys_fingerprint(id_pk, got);
	keys_fingerprint(s->pinned, want);
	return sec_fail(s, "server key mismatch: the server presented %s but "
			   "%s is pinned (a man in the middle, or the server "
			   "key changed)", got, want);
}

/* The encrypted auth message: user name, user key, signature over th2. */
static int client_send_auth(struct secure *s, struct buf *out,
			    const uint8_t server_sig[64])
{
	uint8_t digest[64], sigmsg[SEC_SIGMSG_MAX], sig[64];
	uint8_t m[SEC_HS_FRAME_MAX];
	size_t n;
	struct wr w;

	sec_auth_digest(s, digest, server_sig, s->user, s->id->pk);
	n = sec_sig_message(sigmsg, 0, digest);
	if (s->id->sign(s->id->ctx, sig, sigmsg, n) != 0)
		return sec_fail(s, "could not sign with the user key "
				   "(ssh-agent refused or went away?)");
	wr_init(&w, m, sizeof m);
	wr_u8(&w, SEC_T_AUTH);
	wr_cstring(&w, s->user);
	wr_bytes(&w, s->id->pk, 32);
	wr_bytes(&w, sig, sizeof sig);
	wr_zero(&w, SEC_AUTH_LEN - (w.len < SEC_AUTH_LEN ? w.len : 0));
	if (!wr_ok(&w) || w.len != SEC_AUTH_LEN)
		return sec_fail(s, "internal error building the auth message");
	if (sec_tx_start(s, out) != 1)
		return SECURE_ERROR;
	sec_frame_put(s, out, m, SEC_AUTH_LEN, SEC_TAG_MESSAGE);
	return 1;
}

static int client_read_hello(struct secure *s, struct buf *in,
			     struct buf *out)
{
	const uint8_t *eph, *id_pk, *sig;
	uint8_t digest[64], sigmsg[SEC_SIGMSG_MAX];
	uint32_t peer_max;
	struct rd r;
	size_t n;
	int rc = sec_hello_check(s, in, SEC_T_SERVER_HELLO);

	if (rc != 1 || (rc = out_room(s, out)) != 1)
		return rc;
	memcpy(s->server_hello, buf_data(in), sizeof s->server_hello);
	buf_consume(in, sizeof s->server_hello);
	rd_init(&r, s->server_hello, sizeof s->server_hello);
	rd_skip(&r, SEC_HDR_LEN);
	rd_be32(&r, &peer_max);
	rd_view(&r, &eph, 32);
	rd_skip(&r, 32);
	rd_view(&r, &id_pk, 32);
	rd_view(&r, &sig, 64);
	if (!rd_end(&r))
		return sec_fail(s, "malformed server hello");
	if (check_peer_max(s, peer_max) < 0 ||
	    client_check_server_key(s, id_pk) < 0)
		return SECURE_ERROR;
	sec_transcript1(s);
	sec_server_digest(s, digest);
	n = sec_sig_message(sigmsg, 1, digest);
	if (crypto_sign_verify_detached(sig, sigmsg, n, s->pinned) != 0)
		return sec_fail(s, "server signature does not verify (tampered "
				   "or replayed handshake, or a man in the "
				   "middle)");
	memcpy(s->peer_pk, id_pk, 32);
	if (sec_derive_keys(s, eph) < 0)
		return SECURE_ERROR;
	if (client_send_auth(s, out, sig) != 1)
		return SECURE_ERROR;
	s->state = SEC_C_WAIT_ACCEPT;
	return 1;
}

/*
 * The first frame of a direction: stream header, then one frame of
 * exactly len bytes of plaintext.
 */
static int read_hs_frame(struct secure *s, struct buf *in,
			 uint8_t m[SEC_HS_FRAME_MAX], size_t len)
{
	size_t mlen = 0;
	uint8_t tag;
	int r;

	if (!s->rx.started && (r = sec_rx_start(s, in)) != 1)
		return r;
	if (buf_len(in) >= 4 && be32_get(buf_data(in)) != len + SEC_ABYTES)
		return sec_fail(s, "handshake frame of the wrong length");
	r = sec_frame_peek(s, in, SEC_HS_FRAME_MAX, &mlen);
	if (r != 1)
		return r;
	if (sec_frame_take(s, in, m, mlen, &tag) != 1)
		return SECURE_ERROR;
	if (tag != SEC_TAG_MESSAGE)
		return sec_fail(s, "unexpected tag %u in the handshake", tag);
	return 1;
}

/* The rest of a padded message must be zeros. */
static int rd_padding(struct rd *r)
{
	uint8_t b = 0;

	while (rd_left(r) && rd_u8(r, &b) == 0)
		if (b)
			return -1;
	return rd_end(r) ? 0 : -1;
}

static int client_read_accept(struct secure *s, struct buf *in)
{
	uint8_t m[SEC_HS_FRAME_MAX], type = 0, status = 0;
	const uint8_t *reason;
	uint32_t rlen = 0;
	char shown[SEC_REASON_MAX + 1];
	struct rd r;
	int rc = read_hs_frame(s, in, m, SEC_ACCEPT_LEN);

	if (rc != 1)
		return rc;
	rd_init(&r, m, SEC_ACCEPT_LEN);
	rd_u8(&r, &type);
	rd_u8(&r, &status);
	rd_string(&r, &reason, &rlen, SEC_REASON_MAX);
	if (rd_padding(&r) < 0 || type != SEC_T_ACCEPT)
		return sec_fail(s, "malformed accept message from the server");
	if (status != SEC_ACCEPT_OK) {
		sec_printable(shown, sizeof shown, reason, rlen);
		return sec_fail(s, "server refused: %s", shown);
	}
	s->state = SEC_READY;
	return 1;
}

/* The server hello made here and signed with our own key. */
static int server_own_hello(struct secure *s, const uint8_t peer_eph[32])
{
	uint8_t digest[64], sigmsg[SEC_SIGMSG_MAX];
	struct wr w;
	size_t n;

	wr_init(&w, s->server_hello, sizeof s->server_hello);
	hello_common(s, &w, SEC_T_SERVER_HELLO);
	wr_bytes(&w, s->id->pk, 32);
	if (!wr_ok(&w) || w.len != sizeof s->server_hello - 64)
		return sec_fail(s, "internal error building the server hello");
	sec_transcript1(s);
	sec_server_digest(s, digest);
	n = sec_sig_message(sigmsg, 1, digest);
	if (s->id->sign(s->id->ctx, s->server_hello + w.len, sigmsg, n) != 0)
		return sec_fail(s, "could not sign with the server key");
	return sec_derive_keys(s, peer_eph);
}

/*
 * The server hello and stream keys made by the process that holds the
 * key (handler's privilege separation monitor): this process never has
 * the ephemeral secret. The hello must still be this server's.
 */
static int server_remote_hello(struct secure *s)
{
	uint8_t reply[SECURE_HANDOFF_REPLY_LEN], hdr[SEC_HDR_LEN];
	const uint8_t *sh = s->server_hello;
	int rc = s->id->server_hello(s->id->ctx, s->client_hello,
				     sizeof s->client_hello, reply,
				     sizeof reply);

	if (rc == 0) {
		memcpy(s->server_hello, reply, sizeof s->server_hello);
		memcpy(s->rx.key, reply + SEC_SERVER_HELLO_LEN, 32);
		memcpy(s->tx.key, reply + SEC_SERVER_HELLO_LEN + 32, 32);
	}
	sodium_memzero(reply, sizeof reply);
	if (rc != 0)
		return sec_fail(s, "could not have the server hello signed");
	sec_hello_header(hdr, SEC_T_SERVER_HELLO);
	if (memcmp(sh, hdr, sizeof hdr) != 0 ||
	    be32_get(sh + SEC_HDR_LEN) != s->recv_max ||
	    memcmp(sh + SEC_HDR_LEN + 4 + 64, s->id->pk, 32) != 0)
		return sec_fail(s, "the server hello made for us is not this "
				   "server's");
	memcpy(s->eph_pk, sh + SEC_HDR_LEN + 4, sizeof s->eph_pk);
	sec_transcript1(s);
	return 0;
}

static int server_read_hello(struct secure *s, struct buf *in,
			     struct buf *out)
{
	uint8_t peer_eph[32];
	uint32_t peer_max;
	struct rd r;
	int rc = sec_hello_check(s, in, SEC_T_CLIENT_HELLO);

	if (rc != 1 || (rc = out_room(s, out)) != 1)
		return rc;
	memcpy(s->client_hello, buf_data(in), sizeof s->client_hello);
	buf_consume(in, sizeof s->client_hello);
	rd_init(&r, s->client_hello, sizeof s->client_hello);
	rd_skip(&r, SEC_HDR_LEN);
	rd_be32(&r, &peer_max);
	rd_bytes(&r, peer_eph, sizeof peer_eph);
	rd_skip(&r, 32);
	if (!rd_end(&r))
		return sec_fail(s, "malformed client hello");
	if (check_peer_max(s, peer_max) < 0)
		return SECURE_ERROR;
	rc = s->id->server_hello ? server_remote_hello(s)
				 : server_own_hello(s, peer_eph);
	if (rc < 0)
		return SECURE_ERROR;
	buf_append(out, s->server_hello, sizeof s->server_hello);
	s->state = SEC_S_WAIT_AUTH;
	return 1;
}

/* Stream header and the accept (or refusal) frame. */
static void server_answer(struct secure *s, struct buf *out, uint8_t status,
			  const char *reason)
{
	uint8_t m[SEC_HS_FRAME_MAX];
	struct wr w;

	if (sec_tx_start(s, out) != 1)
		return;
	wr_init(&w, m, sizeof m);
	wr_u8(&w, SEC_T_ACCEPT);
	wr_u8(&w, status);
	wr_cstring(&w, reason);
	wr_zero(&w, SEC_ACCEPT_LEN - (w.len < SEC_ACCEPT_LEN ? w.len : 0));
	sec_frame_put(s, out, m, SEC_ACCEPT_LEN, SEC_TAG_MESSAGE);
}

/*
 * Every refusal looks the same to the client ("authentication failed"),
 * whatever the cause, so it cannot probe for user names; the log says
 * which it was. The signature is checked even for an unknown user so the
 * time taken does not tell either.
 */
static int server_judge(struct secure *s, struct buf *out, const char *user,
			const uint8_t pk[32], const uint8_t sig[64],
			const uint8_t server_sig[64])
{
	uint8_t digest[64], sigmsg[SEC_SIGMSG_MAX], want[32];
	char shown[SECURE_USER_MAX + 1], got_fp[KEYS_FP_MAX];
	char want_fp[KEYS_FP_MAX];
	int known = s->lookup(s->lookup_ctx, user, want) == 0;
	int sig_ok, key_ok;
	size_t n;

	sec_auth_digest(s, digest, server_sig, user, pk);
	n = sec_sig_message(sigmsg, 0, digest);
	sig_ok = crypto_sign_verify_detached(sig, sigmsg, n, pk) == 0;
	key_ok = known && sodium_memcmp(pk, want, 32) == 0;
	if (known && key_ok && sig_ok) {
		memcpy(s->peer_pk, pk, 32);
		memcpy(s->peer_sig, sig, 64);
		server_answer(s, out, SEC_ACCEPT_OK, "");
		s->state = SEC_READY;
		return 1;
	}
	server_answer(s, out, SEC_ACCEPT_AUTH_FAILED, auth_failed);
	sec_printable(shown, sizeof shown, user, strlen(user));
	keys_fingerprint(pk, got_fp);
	if (!known)
		return sec_fail(s, "%s: unknown user \"%s\" (key %s)",
				auth_failed, shown, got_fp);
	if (!key_ok) {
		keys_fingerprint(want, want_fp);
		return sec_fail(s, "%s: user \"%s\" offered key %s, not the "
				   "configured %s", auth_failed, shown,
				got_fp, want_fp);
	}
	return sec_fail(s, "%s: bad signature from user \"%s\" (key %s)",
			auth_failed, shown, got_fp);
}

static int server_read_auth(struct secure *s, struct buf *in,
			    struct buf *out)
{
	uint8_t m[SEC_HS_FRAME_MAX], type = 0, pk[32], sig[64];
	struct rd r;
	int rc = out_room(s, out);

	if (rc != 1)
		return rc;
	rc = read_hs_frame(s, in, m, SEC_AUTH_LEN);
	if (rc == SECURE_ERROR && !s->tx.started)
		/* Say so, encrypted: a client with the right keys can tell
		 * "the server refused" from "the connection dropped". */
		server_answer(s, out, SEC_ACCEPT_INTERNAL, "handshake failed");
	if (rc != 1)
		return rc;
	rd_init(&r, m, SEC_AUTH_LEN);
	rd_u8(&r, &type);
	rd_cstring(&r, s->user, sizeof s->user);
	rd_bytes(&r, pk, sizeof pk);
	rd_bytes(&r, sig, sizeof sig);
	if (rd_padding(&r) < 0 || type != SEC_T_AUTH || !s->user[0]) {
		s->user[0] = 0;
		server_answer(s, out, SEC_ACCEPT_INTERNAL, "malformed auth");
		return sec_fail(s, "malformed auth message from the client");
	}
	return server_judge(s, out, s->user, pk, sig,
			    s->server_hello + SEC_SERVER_HELLO_LEN - 64);
}

int secure_handshake(struct secure *s, struct buf *raw_in,
		     struct buf *raw_out)
{
	int r;

	for (;;) {
		switch (s->state) {
		case SEC_C_START:
			r = client_send_hello(s, raw_out);
			break;
		case SEC_C_WAIT_HELLO:
			r = client_read_hello(s, raw_in, raw_out);
			break;
		case SEC_C_WAIT_ACCEPT:
			r = client_read_accept(s, raw_in);
			break;
		case SEC_S_WAIT_HELLO:
			r = server_read_hello(s, raw_in, raw_out);
			break;
		case SEC_S_WAIT_AUTH:
			r = server_read_auth(s, raw_in, raw_out);
			break;
		case SEC_READY:
			return SECURE_READY;
		default:
			return SECURE_ERROR;
		}
		if (r != 1)
			return r;
	}
}
