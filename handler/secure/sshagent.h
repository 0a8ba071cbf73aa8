/*
 * A small ssh-agent client (the agent protocol as OpenSSH speaks it over
 * $SSH_AUTH_SOCK): list the agent's ed25519 keys and have it sign, so a
 * user's secret key never has to be readable by handler-client. Blocking
 * I/O with a timeout: it runs during set-up, before the session loop.
 */
#ifndef SSHAGENT_H
#define SSHAGENT_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "secure.h"

#define SSHAGENT_TIMEOUT_MS 5000
#define SSHAGENT_MAX_KEYS 64

/*
 * Lists the agent's ed25519 public keys (other types are skipped) into
 * pks (at most max); returns how many, or -1 with err filled.
 * sock NULL means $SSH_AUTH_SOCK.
 */
int sshagent_list(const char *sock, uint8_t (*pks)[32], size_t max,
		  char err[KEYS_ERR_MAX]);
/* Has the agent sign m with the key pk (pure Ed25519, as ssh-ed25519). */
int sshagent_sign(const char *sock, const uint8_t pk[32], uint8_t sig[64],
		  const uint8_t *m, size_t n, char err[KEYS_ERR_MAX]);
/*
 * An identity whose sign callback asks the agent. want_pk NULL takes the
 * agent's first ed25519 key; otherwise that key must be in the agent.
 * Free with keys_identity_free().
 */
int sshagent_identity(struct secure_identity *id, const char *sock,
		      const uint8_t *want_pk, char err[KEYS_ERR_MAX]);
/*
 * The same, but with want_pk NULL it prefers the agent key whose comment
 * names user ("user" or "user@host", ssh-keygen's default comment) over
 * the first one: the handshake offers a single key, so it should be the
 * likely one when the agent holds several.
 */
int sshagent_identity_for(struct secure_identity *id, const char *sock,
			  const uint8_t *want_pk, const char *user,
			  char err[KEYS_ERR_MAX]);

/*
 * The reply parsers, from memory (a reply body: type byte first, without
 * the be32 length), for tests and the fuzzer. The identities answer (12)
 * fills pks as sshagent_list does, moving the first key whose comment
 * names prefer (may be NULL) to pks[0]; the sign response (14) gives the
 * 64-byte ed25519 signature, unverified. -1 with err filled.
 */
int sshagent_parse_identities(const uint8_t *p, size_t n, uint8_t (*pks)[32],
			      size_t max, const char *prefer,
			      char err[KEYS_ERR_MAX]);
int sshagent_parse_signature(const uint8_t *p, size_t n, uint8_t sig[64],
			     char err[KEYS_ERR_MAX]);

#endif
