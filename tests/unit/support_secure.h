/*
 * The shared harness of the secure layer's unit tests (test_secure_*.c):
 * the secure layer driven entirely through buffers. A "wire" moves bytes
 * between a client and a server and can flip, drop, record or replay them.
 *
 * Linked into the test_secure_* binaries (UNIT_SUPPORT in the Makefile).
 * Every public name carries the sect_ prefix, so none can meet a test's
 * own names or another fixture's.
 */
#ifndef SUPPORT_SECURE_H
#define SUPPORT_SECURE_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "keys.h"
#include "secure.h"

/* Raw buffers: one whole frame (SECURE_RAW_MIN) and some slack. */
#define SECT_RAW_CAP (SECURE_RAW_MIN + 1024)

struct sect_user {
	const char *name;
	uint8_t pk[32];
};

struct sect_side {
	struct secure *s;
	struct buf in, out;     /* raw */
	struct buf pin, pout;   /* plaintext */
	int rc;                 /* last handshake result */
};

struct sect_wire {
	struct keys_secret srv_key, usr_key;
	struct secure_identity srv_id, usr_id;
	struct sect_user users[2];
	size_t nusers;
	struct sect_side c, s;
	/* direction 0 is client to server, 1 server to client */
	size_t moved[2];
	long flip_at[2];        /* byte index to flip, or -1 */
	struct buf rec[2];      /* everything that went over the wire */
	int drop[2];            /* discard instead of delivering */
};

/* The server's user table: ctx is the struct sect_wire. */
int sect_lookup(void *ctx, const char *user, uint8_t pk[32]);
/* A new key pair in k and a signing identity made from it. */
void sect_make_key(struct keys_secret *k, struct secure_identity *id);

/*
 * A fresh pair: the client "alice" pins the right server key; the server
 * knows alice (her key) and bob (a random key).
 */
struct sect_wire *sect_new(void);
void sect_free(struct sect_wire *w);
/* Runs both handshakes until both finish or nothing moves. */
void sect_handshake(struct sect_wire *w);
int sect_ready(const struct sect_wire *w);
/*
 * Sends n bytes from one side to the other through seal/open, then a
 * FINAL when close is set. Returns the receiver's last open() result;
 * *got is how many plaintext bytes arrived (and matched).
 */
int sect_send(struct sect_wire *w, int dir, const uint8_t *data, size_t n,
	      int close, size_t *got);

#endif
