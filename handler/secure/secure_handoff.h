/*
 * A server's secure stream handed from one process to another after the
 * handshake (handler's privilege separation, handler/core/privsep.c): the
 * unprivileged process that ran the handshake exports the state, the
 * process that serves the user imports it and goes on with the same keys
 * and counters. Both are forks of one binary, so the bytes are simply the
 * state itself; nothing else may read them, and they hold the session's
 * keys: wipe them (sodium_memzero) once sent or imported.
 */
#ifndef SECURE_HANDOFF_H
#define SECURE_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#include "secure.h"

/* Bytes an exported state takes. */
size_t secure_handoff_size(void);
/*
 * Copies a server's state whose handshake is done into out (size at least
 * secure_handoff_size()). 0, or -1 when s is not such a state.
 */
int secure_handoff_export(const struct secure *s, uint8_t *out, size_t size);
/*
 * A new server state from exported bytes: exactly secure_handoff_size()
 * of them, a finished server handshake. NULL when they are not (or out of
 * memory). secure_free() it as any other.
 */
struct secure *secure_handoff_import(const uint8_t *in, size_t n);

/*
 * The monitor's side. It holds the server key and never reads the
 * network; the handshake process asks it for the server hello and later
 * hands it the finished state, which it verifies before any session runs.
 */
/* A client hello as the handshake process forwards it. */
#define SECURE_HANDOFF_HELLO_LEN 74
/* The answer: the whole server hello (170 bytes), then the client-to-
 * server and server-to-client stream keys (32 bytes each). */
#define SECURE_HANDOFF_REPLY_LEN (170 + 64)
/*
 * Runs the server's hello step with id (a key in this process, not a
 * server_hello hook) on the client hello ch (n bytes): the monitor builds
 * the server hello itself, with its own fresh ephemeral key and random,
 * so the digest it signs is one it computed over bytes it checked. reply
 * (nreply bytes) gets what the handshake process needs to go on. Returns
 * the record of this handshake for secure_handoff_verify() (it cannot
 * sign again; secure_free() it), or NULL with the reason in err.
 */
struct secure *secure_handoff_hello(const struct secure_identity *id,
				    uint32_t max_frame, const uint8_t *ch,
				    size_t n, uint8_t *reply, size_t nreply,
				    char *err, size_t errsize);
/*
 * 0 when state (n bytes, from secure_handoff_export()) is the finished
 * handshake rec recorded: the same hellos, transcript hash and frame
 * limits; stream states keyed with rec's keys; and a user, named user by
 * the handshake process, whom lookup knows, with that configured key and
 * whose signature over this transcript verifies. Else -1 and why in err.
 */
int secure_handoff_verify(const struct secure *rec, const uint8_t *state,
			  size_t n, const char *user,
			  secure_user_lookup lookup, void *lookup_ctx,
			  char *err, size_t errsize);

#endif
