/*
 * Export and import of a finished server handshake (secure_handoff.h).
 * The pointers to the identity and the user lookup are for the handshake
 * only: they are cleared, so an imported state can open and seal frames
 * but never sign or look a user up.
 */
#include "secure_handoff.h"

#include <stdlib.h>
#include <string.h>

#include "secure_internal.h"

size_t secure_handoff_size(void)
{
	return sizeof(struct secure);
}

static int handoff_ok(const struct secure *s)
{
	return s->server && s->state == SEC_READY;
}

int secure_handoff_export(const struct secure *s, uint8_t *out, size_t size)
{
	struct secure c;

	if (!s || !handoff_ok(s) || size < sizeof *s)
		return -1;
	memcpy(&c, s, sizeof c);
	c.id = NULL;
	c.lookup = NULL;
	c.lookup_ctx = NULL;
	/* The ephemeral secret was wiped after use; make sure of it. */
	sodium_memzero(c.eph_sk, sizeof c.eph_sk);
	memcpy(out, &c, sizeof c);
	sodium_memzero(&c, sizeof c);
	return 0;
}

struct secure *secure_handoff_import(const uint8_t *in, size_t n)
{
	struct secure *s;

	if (n != sizeof *s)
		return NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	memcpy(s, in, sizeof *s);
	s->id = NULL;
	s->lookup = NULL;
	s->lookup_ctx = NULL;
	s->user[SECURE_USER_MAX] = 0;
	if (!handoff_ok(s)) {
		secure_free(s);
		return NULL;
	}
	return s;
}

int secure_handoff_server_sigmsg(const uint8_t *m, size_t n)
{
	uint8_t want[SEC_SIGMSG_MAX];
	const uint8_t digest[64] = { 0 };
	size_t len = sec_sig_message(want, 1, digest);

	return n == len && memcmp(m, want, len - 64) == 0;
}
