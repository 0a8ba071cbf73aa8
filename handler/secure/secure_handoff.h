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
 * 1 when m (n bytes) is what a server signs in its hello: the server's
 * label and a digest. A process holding the server key for another (the
 * privilege separation monitor) signs nothing else.
 */
int secure_handoff_server_sigmsg(const uint8_t *m, size_t n);

#endif
