/*
 * The secure layer's objects: creation, error text, accessors. The
 * handshake lives in secure_handshake.c (state machine) and
 * secure_hello.c (layouts, transcript, keys); frames in secure_frame.c.
 */
#include "secure_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static uint32_t clamp_frame(uint32_t max_frame)
{
	if (max_frame == 0 || max_frame > SECURE_FRAME_MAX)
		return SECURE_FRAME_MAX;
	if (max_frame < SEC_FRAME_MIN)
		return SEC_FRAME_MIN;
	return max_frame;
}

static struct secure *secure_alloc(int server, uint32_t max_frame)
{
	struct secure *s;

	if (sodium_init() < 0)
		return NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->server = server;
	s->recv_max = clamp_frame(max_frame);
	return s;
}

struct secure *secure_server_new(const struct secure_identity *server,
				 secure_user_lookup lookup, void *lookup_ctx,
				 uint32_t max_frame)
{
	struct secure *s;

	if (!server || (!server->sign && !server->server_hello) || !lookup)
		return NULL;
	s = secure_alloc(1, max_frame);
	if (!s)
		return NULL;
	s->id = server;
	s->lookup = lookup;
	s->lookup_ctx = lookup_ctx;
	s->state = SEC_S_WAIT_HELLO;
	return s;
}

struct secure *secure_client_new(const struct secure_identity *user,
				 const char *username,
				 const uint8_t server_pk[32],
				 uint32_t max_frame)
{
	struct secure *s;
	size_t n;

	if (!user || !user->sign || !username || !server_pk)
		return NULL;
	n = strlen(username);
	if (n == 0 || n > SECURE_USER_MAX)
		return NULL;
	s = secure_alloc(0, max_frame);
	if (!s)
		return NULL;
	s->id = user;
	memcpy(s->user, username, n + 1);
	memcpy(s->pinned, server_pk, 32);
	s->state = SEC_C_START;
	return s;
}

void secure_free(struct secure *s)
{
	if (!s)
		return;
	/* Keys, stream states and the ephemeral secret all live inside. */
	sodium_memzero(s, sizeof *s);
	free(s);
}

void sec_printable(char *dst, size_t dstsize, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	if (!dstsize)
		return;
	for (i = 0; i < n && i + 1 < dstsize; i++)
		dst[i] = b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' &&
				 b[i] != '\\'
			 ? (char)b[i]
			 : '?';
	dst[i] = 0;
}

int sec_fail(struct secure *s, const char *fmt, ...)
{
	va_list ap;

	/* The first failure is the cause; later ones are consequences. */
	if (s->state != SEC_FAILED || !s->err[0]) {
		va_start(ap, fmt);
		vsnprintf(s->err, sizeof s->err, fmt, ap);
		va_end(ap);
	}
	s->state = SEC_FAILED;
	sodium_memzero(s->eph_sk, sizeof s->eph_sk);
	return SECURE_ERROR;
}

const char *secure_error(const struct secure *s)
{
	if (!s)
		return "out of memory";
	return s->err[0] ? s->err : "no error";
}

const char *secure_peer_user(const struct secure *s)
{
	if (!s || s->state != SEC_READY)
		return NULL;
	return s->user;
}

void secure_peer_pk(const struct secure *s, uint8_t pk[32])
{
	if (s && s->state == SEC_READY)
		memcpy(pk, s->peer_pk, 32);
	else
		memset(pk, 0, 32);
}

int secure_closed_out(const struct secure *s)
{
	return s->tx.final;
}

int secure_closed_in(const struct secure *s)
{
	return s->rx.final;
}
