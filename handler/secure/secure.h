/*
 * The secure layer: mutual authentication and encryption for any protocol
 * over a plain byte stream (docs/secure.md has the construction byte by
 * byte). It does no I/O: the caller moves bytes between fds and the raw
 * buffers, so the same code serves handler (server) and handler-client, and
 * tests drive it with plain buffers.
 */
#ifndef SECURE_H
#define SECURE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Largest plaintext carried by one frame. */
#define SECURE_FRAME_MAX 65536
/* Bytes a frame adds to its plaintext: be32 length + secretstream ABYTES. */
#define SECURE_FRAME_OVERHEAD 21
/*
 * Buffer sizing: raw_in and raw_out need room for one whole frame
 * (SECURE_RAW_MIN); plain_in needs room for max_frame bytes (or
 * SECURE_FRAME_MAX when max_frame is 0 or larger), else secure_open fails.
 */
#define SECURE_RAW_MIN (SECURE_FRAME_MAX + SECURE_FRAME_OVERHEAD)
/* Longest user name (bytes, without the NUL) the handshake carries. */
#define SECURE_USER_MAX 63

/* An Ed25519 identity that can sign: a secret key in memory, or ssh-agent. */
struct secure_identity {
	uint8_t pk[32];
	/* Signs m (n bytes) into sig; 0 or -1. */
	int (*sign)(void *ctx, uint8_t sig[64], const uint8_t *m, size_t n);
	void *ctx;
	/* Frees ctx (wiping secrets); may be NULL. See keys_identity_free(). */
	void (*release)(void *ctx);
	/*
	 * Server only, optional: the key is held by another process
	 * (handler's privilege separation, secure_handoff.h). Given the
	 * client hello (n bytes), that process makes the whole server hello,
	 * ephemeral key and signature included, and the two stream keys:
	 * reply gets SECURE_HANDOFF_REPLY_LEN bytes. sign is then unused.
	 * 0 or -1.
	 */
	int (*server_hello)(void *ctx, const uint8_t *client_hello, size_t n,
			    uint8_t *reply, size_t nreply);
};

/*
 * Server side: find a user by name; fill pk and return 0, or -1 if unknown.
 * The secure layer verifies the user's signature against that key.
 */
typedef int (*secure_user_lookup)(void *ctx, const char *user,
				  uint8_t pk[32]);

enum {
	SECURE_ERROR = -1,  /* see secure_error(); the connection is over */
	SECURE_AGAIN = 0,   /* needs more input or output room */
	SECURE_READY = 1,   /* handshake: done / open: FINAL seen */
};

struct secure;

struct secure *secure_server_new(const struct secure_identity *server,
				 secure_user_lookup lookup, void *lookup_ctx,
				 uint32_t max_frame);
struct secure *secure_client_new(const struct secure_identity *user,
				 const char *username,
				 const uint8_t server_pk[32],
				 uint32_t max_frame);
void secure_free(struct secure *s);

/*
 * Advances the handshake: consumes bytes from raw_in, appends bytes to
 * send to raw_out. SECURE_READY once both sides are authenticated.
 * max_frame 0 means SECURE_FRAME_MAX; larger values are clamped to it,
 * smaller ones raised to 1024 (the least a peer may announce).
 * On SECURE_ERROR the server may have queued an encrypted refusal in
 * raw_out: flush raw_out before closing so the client can show why.
 * Call it again whenever raw_in grows or raw_out drains.
 */
int secure_handshake(struct secure *s, struct buf *raw_in,
		     struct buf *raw_out);
/* Why the handshake or a frame failed (safe to log and to show). */
const char *secure_error(const struct secure *s);
/* After the handshake: the peer's user name (server side) and key. */
const char *secure_peer_user(const struct secure *s);
void secure_peer_pk(const struct secure *s, uint8_t pk[32]);

/*
 * Decrypts whole frames from raw_in into plain_in while plain_in has room.
 * SECURE_READY once the peer's FINAL frame has been read (clean close);
 * SECURE_ERROR on any forged, reordered, replayed or oversized frame.
 * A raw EOF before FINAL is truncation: the caller reports it.
 */
int secure_open(struct secure *s, struct buf *raw_in, struct buf *plain_in);
/* Encrypts as much of plain_out as fits into raw_out (consuming it). */
int secure_seal(struct secure *s, struct buf *plain_out, struct buf *raw_out);
/*
 * Appends the FINAL frame; 0, or SECURE_AGAIN when raw_out lacks room
 * (both are 0: secure_closed_out() tells which). Seal all of plain_out
 * first: nothing can be sent after FINAL.
 */
int secure_close(struct secure *s, struct buf *raw_out);
/* The longest reason a FINAL frame or a refusal carries (bytes). */
#define SECURE_REASON_MAX 128
/*
 * The same, the FINAL frame carrying why the session ends (text, cut at
 * SECURE_REASON_MAX bytes; NULL or "" for none), e.g. a module that
 * refused to start. The peer reads it with secure_peer_reason().
 */
int secure_close_reason(struct secure *s, struct buf *raw_out,
			const char *reason);
/* The peer's FINAL frame's reason (printable ASCII), or "". */
const char *secure_peer_reason(const struct secure *s);
/*
 * Server side, when it cannot take part at all (its key does not load):
 * writes into out the plaintext refusal that stands in for the server
 * hello, so the client shows why instead of a closed connection. The
 * bytes written, or 0 if out is smaller than 10 + SECURE_REASON_MAX.
 */
size_t secure_refusal(uint8_t *out, size_t size, const char *reason);
/* 1 when our FINAL has been queued / the peer's FINAL has been read. */
int secure_closed_out(const struct secure *s);
int secure_closed_in(const struct secure *s);

#endif
