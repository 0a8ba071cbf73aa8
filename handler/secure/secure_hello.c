/*
 * Handshake message layouts, the transcript hash and the key schedule
 * (docs/secure.md, "Handshake" and "Key schedule").
 */
#include "secure_internal.h"

#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include <stdio.h>

/* Domain labels: every hash and signature says what it is for. */
static const char label_transcript[] = "handler-secure-v1 transcript";
static const char label_server_sig[] = "handler-secure-v1 server hello";
static const char label_client_sig[] = "handler-secure-v1 client auth";
static const char label_keys[] = "handler-secure-v1 session keys";

void sec_hello_header(uint8_t *p, uint8_t type)
{
	memcpy(p, SEC_MAGIC, SEC_MAGIC_LEN);
	p[SEC_MAGIC_LEN] = SEC_VERSION;
	p[SEC_MAGIC_LEN + 1] = type;
}

static const char *type_name(uint8_t type)
{
	return type == SEC_T_CLIENT_HELLO ? "client hello" : "server hello";
}

/*
 * A server that cannot take part (its key does not load) says why in
 * plaintext instead of a hello: header, be32 length, text. Unauthenticated
 * (anyone on the path could forge it), so it is shown as such and can only
 * end the handshake, which a man in the middle could do anyway.
 */
static int refusal_check(struct secure *s, const uint8_t *p, size_t n)
{
	char text[SEC_REASON_MAX + 1];
	uint32_t len;

	if (n < SEC_HDR_LEN + 4)
		return SECURE_AGAIN;
	len = be32_get(p + SEC_HDR_LEN);
	if (len > SEC_REASON_MAX)
		return sec_fail(s, "malformed refusal from the server (%u "
				   "bytes of text)", len);
	if (n < SEC_HDR_LEN + 4 + len)
		return SECURE_AGAIN;
	sec_printable(text, sizeof text, p + SEC_HDR_LEN + 4, len);
	return sec_fail(s, "server refused (unauthenticated message): %s",
			text);
}

size_t secure_refusal(uint8_t *out, size_t size, const char *reason)
{
	size_t n = strlen(reason);

	if (n > SEC_REASON_MAX)
		n = SEC_REASON_MAX;
	if (size < SEC_HDR_LEN + 4 + n)
		return 0;
	sec_hello_header(out, SEC_T_REFUSAL);
	be32_put(out + SEC_HDR_LEN, (uint32_t)n);
	memcpy(out + SEC_HDR_LEN + 4, reason, n);
	return SEC_HDR_LEN + 4 + n;
}

/*
 * Judges the header as soon as its bytes arrive, so garbage (an HTTP
 * request, an SSH banner, a plain-protocol client) is refused at once
 * instead of after waiting for a whole hello that never comes.
 * SECURE_AGAIN, SECURE_ERROR or 1 when the whole hello is in.
 */
int sec_hello_check(struct secure *s, const struct buf *in, uint8_t type)
{
	const uint8_t *p = buf_data(in);
	size_t n = buf_len(in);
	size_t need = type == SEC_T_CLIENT_HELLO ? SEC_CLIENT_HELLO_LEN
						 : SEC_SERVER_HELLO_LEN;
	size_t m = n < SEC_MAGIC_LEN ? n : SEC_MAGIC_LEN;
	char shown[16], hex[3 * 8 + 1] = "";

	if (memcmp(p, SEC_MAGIC, m) != 0) {
		m = n < 8 ? n : 8;
		sec_printable(shown, sizeof shown, p, m);
		for (size_t i = 0, o = 0; i < m; i++)
			o += (size_t)snprintf(hex + o, sizeof hex - o, "%s%02x",
					      i ? " " : "", p[i]);
		return sec_fail(s, "peer does not speak the secure layer "
				   "(expected a %s, got \"%s\" = %s)",
				type_name(type), shown, hex);
	}
	if (n > SEC_MAGIC_LEN && p[SEC_MAGIC_LEN] != SEC_VERSION)
		return sec_fail(s, "unsupported secure layer version %u "
				   "(this side speaks %u)",
				p[SEC_MAGIC_LEN], SEC_VERSION);
	if (n > SEC_MAGIC_LEN + 1 && type == SEC_T_SERVER_HELLO &&
	    p[SEC_MAGIC_LEN + 1] == SEC_T_REFUSAL)
		return refusal_check(s, p, n);
	if (n > SEC_MAGIC_LEN + 1 && p[SEC_MAGIC_LEN + 1] != type)
		return sec_fail(s, "unexpected handshake message type %u "
				   "(expected a %s)",
				p[SEC_MAGIC_LEN + 1], type_name(type));
	return n >= need ? 1 : SECURE_AGAIN;
}

/*
 * th1 = BLAKE2b-512(label, client hello, server hello up to but not
 * including its signature). It covers both ephemerals, both randoms,
 * both frame limits and the server identity.
 */
void sec_transcript1(struct secure *s)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof s->th);
	crypto_generichash_update(&st, (const uint8_t *)label_transcript,
				  sizeof label_transcript);
	crypto_generichash_update(&st, s->client_hello,
				  sizeof s->client_hello);
	crypto_generichash_update(&st, s->server_hello,
				  SEC_SERVER_HELLO_LEN - 64);
	crypto_generichash_final(&st, s->th, sizeof s->th);
}

/* What the server signs: label || th1 (a fixed 95-byte message). */
void sec_server_digest(const struct secure *s, uint8_t out[64])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, (const uint8_t *)label_server_sig,
				  sizeof label_server_sig);
	crypto_generichash_update(&st, s->th, sizeof s->th);
	crypto_generichash_final(&st, out, 64);
}

/*
 * What the user signs: th2 = BLAKE2b-512(label, th1, the server's
 * signature, the user name, the user key), so a signature is good for
 * this connection, this server and this claimed identity only.
 */
void sec_auth_digest(const struct secure *s, uint8_t out[64],
		     const uint8_t server_sig[64], const char *user,
		     const uint8_t user_pk[32])
{
	crypto_generichash_state st;
	uint8_t len[4];
	size_t n = strlen(user);

	be32_put(len, (uint32_t)n);
	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, (const uint8_t *)label_client_sig,
				  sizeof label_client_sig);
	crypto_generichash_update(&st, s->th, sizeof s->th);
	crypto_generichash_update(&st, server_sig, 64);
	crypto_generichash_update(&st, len, sizeof len);
	crypto_generichash_update(&st, (const uint8_t *)user, n);
	crypto_generichash_update(&st, user_pk, 32);
	crypto_generichash_final(&st, out, 64);
}

/*
 * A key that also lives in ssh-agent may sign SSH logins too, so the
 * signed bytes start with a label: "hand" read as an SSH string length is
 * 1.7 GB, so no signature made here can pass for an SSH one (or the
 * reverse), and a server signature never passes for a client one.
 */
size_t sec_sig_message(uint8_t out[SEC_SIGMSG_MAX], int by_server,
		       const uint8_t digest[64])
{
	const char *label = by_server ? label_server_sig : label_client_sig;
	size_t n = strlen(label) + 1;

	memcpy(out, label, n);
	memcpy(out + n, digest, 64);
	return n + 64;
}

/*
 * crypto_kx gives each side (rx, tx) from the X25519 shared secret and
 * both ephemerals. Those are mixed with th1 into one PRK, and the two
 * stream keys are derived from it with distinct ids/contexts: a key never
 * serves both directions (no reflection) and depends on every hello byte.
 */
int sec_derive_keys(struct secure *s, const uint8_t peer_eph[32])
{
	uint8_t rx[crypto_kx_SESSIONKEYBYTES], tx[crypto_kx_SESSIONKEYBYTES];
	uint8_t ikm[2 * crypto_kx_SESSIONKEYBYTES];
	uint8_t prk[crypto_kdf_KEYBYTES];
	crypto_generichash_state st;
	int rc;

	if (s->server)
		rc = crypto_kx_server_session_keys(rx, tx, s->eph_pk,
						   s->eph_sk, peer_eph);
	else
		rc = crypto_kx_client_session_keys(rx, tx, s->eph_pk,
						   s->eph_sk, peer_eph);
	/* The ephemeral secret has done its job: forward secrecy. */
	sodium_memzero(s->eph_sk, sizeof s->eph_sk);
	if (rc != 0)
		return sec_fail(s, "key exchange failed (bad ephemeral key)");
	/* ikm = client-to-server key || server-to-client key, both sides. */
	memcpy(ikm, s->server ? rx : tx, 32);
	memcpy(ikm + 32, s->server ? tx : rx, 32);
	crypto_generichash_init(&st, ikm, sizeof ikm, sizeof prk);
	crypto_generichash_update(&st, (const uint8_t *)label_keys,
				  sizeof label_keys);
	crypto_generichash_update(&st, s->th, sizeof s->th);
	crypto_generichash_final(&st, prk, sizeof prk);
	crypto_kdf_derive_from_key(s->server ? s->rx.key : s->tx.key, 32, 1,
				   "hsec-c2s", prk);
	crypto_kdf_derive_from_key(s->server ? s->tx.key : s->rx.key, 32, 2,
				   "hsec-s2c", prk);
	sodium_memzero(rx, sizeof rx);
	sodium_memzero(tx, sizeof tx);
	sodium_memzero(ikm, sizeof ikm);
	sodium_memzero(prk, sizeof prk);
	sodium_memzero(&st, sizeof st);
	return 0;
}
