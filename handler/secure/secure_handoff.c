/*
 * Export and import of a finished server handshake (secure_handoff.h).
 * The pointers to the identity and the user lookup are for the handshake
 * only: they are cleared, so an imported state can open and seal frames
 * but never sign or look a user up.
 *
 * And the privilege separation monitor's two steps: making the server
 * hello (the server's own hello step, run on a fresh state with the real
 * key) and verifying an exported state against the record of that step.
 * The exported bytes come from a process that may be compromised: they
 * are copied, every string terminated, no pointer in them used.
 */
#include "secure_handoff.h"

#include <stdarg.h>
#include <stdio.h>
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

_Static_assert(SECURE_HANDOFF_HELLO_LEN == SEC_CLIENT_HELLO_LEN,
	       "client hello size");
_Static_assert(SECURE_HANDOFF_REPLY_LEN == SEC_SERVER_HELLO_LEN + 64,
	       "hello reply size");

static int fail(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* The record never looks a user up: verify takes the lookup itself. */
static int no_lookup(void *ctx, const char *user, uint8_t pk[32])
{
	(void)ctx;
	(void)user;
	(void)pk;
	return -1;
}

/* The hello step on a fresh server state: 0 when it made a hello. */
static int run_hello(struct secure *m, const uint8_t *ch, size_t n,
		     struct buf *out, char *err, size_t errsize)
{
	struct buf in;
	int rc;

	if (buf_init(&in, n) < 0)
		return fail(err, errsize, "out of memory");
	buf_append(&in, ch, n);
	rc = secure_handshake(m, &in, out);
	buf_free(&in);
	if (rc == SECURE_ERROR)
		return fail(err, errsize, "client hello refused: %s",
			    secure_error(m));
	if (m->state != SEC_S_WAIT_AUTH ||
	    buf_len(out) != SEC_SERVER_HELLO_LEN)
		return fail(err, errsize, "no server hello made");
	return 0;
}

struct secure *secure_handoff_hello(const struct secure_identity *id,
				    uint32_t max_frame, const uint8_t *ch,
				    size_t n, uint8_t *reply, size_t nreply,
				    char *err, size_t errsize)
{
	struct secure *m;
	struct buf out;

	if (n != SEC_CLIENT_HELLO_LEN || nreply != SECURE_HANDOFF_REPLY_LEN) {
		fail(err, errsize, "client hello of %zu bytes (expected %d)",
		     n, SEC_CLIENT_HELLO_LEN);
		return NULL;
	}
	if (!id || !id->sign || id->server_hello) {
		fail(err, errsize, "no server key to sign with");
		return NULL;
	}
	m = secure_server_new(id, no_lookup, NULL, max_frame);
	if (!m || buf_init(&out, SEC_HS_OUT_ROOM) < 0) {
		secure_free(m);
		fail(err, errsize, "out of memory");
		return NULL;
	}
	if (run_hello(m, ch, n, &out, err, errsize) < 0) {
		buf_free(&out);
		secure_free(m);
		return NULL;
	}
	/* The record only remembers: it can never sign again. */
	m->id = NULL;
	memcpy(reply, m->server_hello, SEC_SERVER_HELLO_LEN);
	memcpy(reply + SEC_SERVER_HELLO_LEN, m->rx.key, 32);
	memcpy(reply + SEC_SERVER_HELLO_LEN + 32, m->tx.key, 32);
	buf_free(&out);
	return m;
}

/* 1 when st was set up from key and header (the key part of the stream
 * state never changes: no REKEY is ever sent or accepted). */
static int stream_keyed(const struct sec_dir *d, const uint8_t key[32])
{
	crypto_secretstream_xchacha20poly1305_state want;
	int same;

	crypto_secretstream_xchacha20poly1305_init_pull(&want, d->header,
							key);
	same = sodium_memcmp(want.k, d->st.k, sizeof want.k) == 0;
	sodium_memzero(&want, sizeof want);
	return same;
}

/* The state is the handshake rec recorded, with its keys. */
static int same_handshake(const struct secure *rec, const struct secure *s,
			  char *err, size_t errsize)
{
	if (!s->server || s->state != SEC_READY || !s->rx.started ||
	    !s->tx.started || s->rx.final || s->tx.final)
		return fail(err, errsize, "handed-over state is not a "
			    "finished server handshake");
	if (memcmp(s->client_hello, rec->client_hello,
		   sizeof s->client_hello) != 0 ||
	    memcmp(s->server_hello, rec->server_hello,
		   sizeof s->server_hello) != 0)
		return fail(err, errsize, "handed-over state is for another "
			    "handshake (not the hellos the monitor made)");
	if (memcmp(s->th, rec->th, sizeof s->th) != 0)
		return fail(err, errsize, "handed-over transcript hash is not "
			    "the monitor's");
	if (s->recv_max != rec->recv_max || s->send_max != rec->send_max)
		return fail(err, errsize, "handed-over frame limits differ "
			    "from the hellos'");
	if (!stream_keyed(&s->rx, rec->rx.key) ||
	    !stream_keyed(&s->tx, rec->tx.key))
		return fail(err, errsize, "handed-over stream keys are not "
			    "this handshake's");
	return 0;
}

/* The user is configured with that key and signed this transcript. */
static int user_proved(const struct secure *rec, const struct secure *s,
		       const char *user, secure_user_lookup lookup,
		       void *lookup_ctx, char *err, size_t errsize)
{
	uint8_t want[32], digest[64], sigmsg[SEC_SIGMSG_MAX];
	char shown[SECURE_USER_MAX + 1];
	size_t n;

	sec_printable(shown, sizeof shown, s->user, strlen(s->user));
	if (!user || strcmp(user, s->user) != 0 || !s->user[0])
		return fail(err, errsize, "handshake process claims another "
			    "user than its state's \"%s\"", shown);
	if (lookup(lookup_ctx, s->user, want) != 0)
		return fail(err, errsize, "unknown user \"%s\"", shown);
	if (sodium_memcmp(s->peer_pk, want, 32) != 0)
		return fail(err, errsize, "user \"%s\": not the configured "
			    "key", shown);
	/* th2 from the monitor's own th1 and signature. */
	sec_auth_digest(rec, digest, rec->server_hello + SEC_SERVER_HELLO_LEN
			- 64, s->user, want);
	n = sec_sig_message(sigmsg, 0, digest);
	if (crypto_sign_verify_detached(s->peer_sig, sigmsg, n, want) != 0)
		return fail(err, errsize, "user \"%s\": signature does not "
			    "verify over this handshake", shown);
	return 0;
}

int secure_handoff_verify(const struct secure *rec, const uint8_t *state,
			  size_t n, const char *user,
			  secure_user_lookup lookup, void *lookup_ctx,
			  char *err, size_t errsize)
{
	struct secure *s;
	int rc;

	if (!rec || !rec->server || rec->state != SEC_S_WAIT_AUTH)
		return fail(err, errsize, "no server hello was made for this "
			    "connection");
	if (n != sizeof *s)
		return fail(err, errsize, "handed-over state of %zu bytes "
			    "(expected %zu)", n, sizeof *s);
	s = malloc(sizeof *s);
	if (!s)
		return fail(err, errsize, "out of memory");
	memcpy(s, state, sizeof *s);
	s->user[SECURE_USER_MAX] = 0;
	rc = same_handshake(rec, s, err, errsize);
	if (rc == 0)
		rc = user_proved(rec, s, user, lookup, lookup_ctx, err,
				 errsize);
	sodium_memzero(s, sizeof *s);
	free(s);
	return rc;
}
