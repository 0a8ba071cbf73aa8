/*
 * Private to the secure layer (secure.c, secure_hello.c, secure_handshake.c,
 * secure_frame.c, secure_handoff.c), its fuzzer and test_secure_handoff.
 * docs/secure.md describes every constant here byte by byte.
 */
#ifndef SECURE_INTERNAL_H
#define SECURE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "buf.h"
#include "secure.h"

#define SEC_MAGIC "hSeC"
#define SEC_MAGIC_LEN 4
#define SEC_VERSION 1
/* Message types: the byte after the version (hellos) or first in a frame. */
#define SEC_T_CLIENT_HELLO 1
#define SEC_T_SERVER_HELLO 2
#define SEC_T_AUTH 3
#define SEC_T_ACCEPT 4
/* In place of the server hello: the server cannot take part (no key),
 * and says why in plaintext (docs/secure.md, "Refusal"). */
#define SEC_T_REFUSAL 5
/* magic, version, type */
#define SEC_HDR_LEN 6
/* header, be32 max_frame, ephemeral pk, random */
#define SEC_CLIENT_HELLO_LEN (SEC_HDR_LEN + 4 + 32 + 32)
/* the same, then identity pk and signature */
#define SEC_SERVER_HELLO_LEN (SEC_HDR_LEN + 4 + 32 + 32 + 32 + 64)
/*
 * The two encrypted handshake messages are zero-padded to fixed sizes: a
 * length field that was tampered with fails at once (instead of stalling),
 * and the user name's length does not show on the wire.
 */
#define SEC_AUTH_LEN 192
#define SEC_ACCEPT_LEN 160
#define SEC_HS_FRAME_MAX 192
/* Room raw_out must have before a handshake step writes anything. */
#define SEC_HS_OUT_ROOM 1024
/* A peer announcing less than this cannot carry useful frames. */
#define SEC_FRAME_MIN 1024
#define SEC_REASON_MAX 128
#define SEC_ERR_MAX 320
#define SEC_HEADERBYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SEC_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define SEC_TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define SEC_TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

/* Accept message status codes. */
enum {
	SEC_ACCEPT_OK = 0,
	SEC_ACCEPT_AUTH_FAILED = 1,
	SEC_ACCEPT_INTERNAL = 2,
};

enum sec_state {
	SEC_C_START,       /* client: hello not sent yet */
	SEC_C_WAIT_HELLO,  /* client: waiting for the server hello */
	SEC_C_WAIT_ACCEPT, /* client: auth sent, waiting for accept */
	SEC_S_WAIT_HELLO,  /* server: waiting for the client hello */
	SEC_S_WAIT_AUTH,   /* server: hello sent, waiting for auth */
	SEC_READY,
	SEC_FAILED,
};

/* One direction of the encrypted stream. */
struct sec_dir {
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	int started;  /* header sent (tx) or read (rx) */
	int final;    /* FINAL sent (tx) or read (rx) */
	/* The stream header as sent or read: public, kept so a privilege
	 * separation monitor can tie st to the keys it derived. */
	uint8_t header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
};

struct secure {
	int server;
	enum sec_state state;
	uint32_t recv_max;  /* largest data frame we accept */
	uint32_t send_max;  /* largest data frame the peer accepts */
	const struct secure_identity *id;
	secure_user_lookup lookup;
	void *lookup_ctx;
	char user[SECURE_USER_MAX + 1]; /* client: ours; server: the peer's */
	uint8_t pinned[32];             /* client: the expected server key */
	uint8_t peer_pk[32];            /* server: user key; client: server */
	uint8_t peer_sig[64];           /* server: the user's sig_U, checked */
	uint8_t eph_pk[crypto_kx_PUBLICKEYBYTES];
	uint8_t eph_sk[crypto_kx_SECRETKEYBYTES];
	uint8_t client_hello[SEC_CLIENT_HELLO_LEN];
	uint8_t server_hello[SEC_SERVER_HELLO_LEN];
	uint8_t th[crypto_generichash_BYTES_MAX]; /* transcript hash 1 */
	struct sec_dir tx, rx;
	char err[SEC_ERR_MAX];
	/* Why the peer ended the stream: its FINAL frame's text, or "". */
	char peer_reason[SEC_REASON_MAX + 1];
};

/* secure.c */
/*
 * Peer bytes for an error text: printable ASCII kept, anything else '?',
 * so the text needs no further escaping (the log escapes it once more).
 */
void sec_printable(char *dst, size_t dstsize, const void *p, size_t n);
int sec_fail(struct secure *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* secure_hello.c: message layouts, transcript and key schedule. */
void sec_hello_header(uint8_t *p, uint8_t type);
int sec_hello_check(struct secure *s, const struct buf *in, uint8_t type);
void sec_transcript1(struct secure *s);
void sec_auth_digest(const struct secure *s, uint8_t out[64],
		     const uint8_t server_sig[64], const char *user,
		     const uint8_t user_pk[32]);
void sec_server_digest(const struct secure *s, uint8_t out[64]);
/* The bytes actually signed: the label (with its NUL) then the digest. */
#define SEC_SIGMSG_MAX 96
size_t sec_sig_message(uint8_t out[SEC_SIGMSG_MAX], int by_server,
		       const uint8_t digest[64]);
int sec_derive_keys(struct secure *s, const uint8_t peer_eph[32]);

/* secure_frame.c */
int sec_tx_start(struct secure *s, struct buf *out);
int sec_rx_start(struct secure *s, struct buf *in);
/* Appends one frame (caller checked room for n + SECURE_FRAME_OVERHEAD). */
void sec_frame_put(struct secure *s, struct buf *out, const uint8_t *m,
		   size_t n, uint8_t tag);
/*
 * Checks the length of the next frame in in against limit: SECURE_AGAIN
 * (incomplete), SECURE_ERROR, or 1 with *mlen the plaintext length.
 */
int sec_frame_peek(struct secure *s, const struct buf *in, uint32_t limit,
		   size_t *mlen);
/* Decrypts the frame sec_frame_peek() measured into m and consumes it. */
int sec_frame_take(struct secure *s, struct buf *in, uint8_t *m,
		   size_t mlen, uint8_t *tag);

#endif
