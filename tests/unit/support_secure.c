/* The secure layer's unit test harness: see support_secure.h. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "support_secure.h"

#define PLAIN_CAP SECURE_FRAME_MAX
#define REC_CAP (1 << 20)

int sect_lookup(void *ctx, const char *user, uint8_t pk[32])
{
	struct sect_wire *w = ctx;

	for (size_t i = 0; i < w->nusers; i++)
		if (strcmp(w->users[i].name, user) == 0) {
			memcpy(pk, w->users[i].pk, 32);
			return 0;
		}
	return -1;
}

void sect_make_key(struct keys_secret *k, struct secure_identity *id)
{
	memset(k, 0, sizeof *k);
	crypto_sign_keypair(k->pk, k->sk);
	ck_assert_int_eq(keys_identity_from_secret(id, k), 0);
}

static void side_init(struct sect_side *d)
{
	ck_assert_int_eq(buf_init(&d->in, SECT_RAW_CAP), 0);
	ck_assert_int_eq(buf_init(&d->out, SECT_RAW_CAP), 0);
	ck_assert_int_eq(buf_init(&d->pin, PLAIN_CAP), 0);
	ck_assert_int_eq(buf_init(&d->pout, PLAIN_CAP), 0);
	d->rc = SECURE_AGAIN;
}

static void side_free(struct sect_side *d)
{
	secure_free(d->s);
	buf_free(&d->in);
	buf_free(&d->out);
	buf_free_secret(&d->pin);
	buf_free_secret(&d->pout);
}

struct sect_wire *sect_new(void)
{
	struct sect_wire *w = calloc(1, sizeof *w);

	ck_assert_ptr_nonnull(w);
	ck_assert_int_ge(sodium_init(), 0);
	sect_make_key(&w->srv_key, &w->srv_id);
	sect_make_key(&w->usr_key, &w->usr_id);
	w->users[0].name = "alice";
	memcpy(w->users[0].pk, w->usr_key.pk, 32);
	w->users[1].name = "bob";
	randombytes_buf(w->users[1].pk, 32);
	w->nusers = 2;
	side_init(&w->c);
	side_init(&w->s);
	w->flip_at[0] = w->flip_at[1] = -1;
	ck_assert_int_eq(buf_init(&w->rec[0], REC_CAP), 0);
	ck_assert_int_eq(buf_init(&w->rec[1], REC_CAP), 0);
	w->s.s = secure_server_new(&w->srv_id, sect_lookup, w, 0);
	w->c.s = secure_client_new(&w->usr_id, "alice", w->srv_key.pk, 0);
	ck_assert_ptr_nonnull(w->s.s);
	ck_assert_ptr_nonnull(w->c.s);
	return w;
}

void sect_free(struct sect_wire *w)
{
	side_free(&w->c);
	side_free(&w->s);
	keys_identity_free(&w->srv_id);
	keys_identity_free(&w->usr_id);
	keys_secret_wipe(&w->srv_key);
	keys_secret_wipe(&w->usr_key);
	buf_free(&w->rec[0]);
	buf_free(&w->rec[1]);
	free(w);
}

/* Moves raw bytes one way; returns how many. */
static size_t wire_move(struct sect_wire *w, int dir)
{
	struct buf *src = dir ? &w->s.out : &w->c.out;
	struct buf *dst = dir ? &w->c.in : &w->s.in;
	size_t n = buf_len(src), room = buf_room(dst);
	uint8_t *p;

	if (n > room)
		n = room;
	if (!n)
		return 0;
	if (buf_room(&w->rec[dir]) >= n)
		buf_append(&w->rec[dir], buf_data(src), n);
	if (w->drop[dir]) {
		buf_consume(src, n);
		return n;
	}
	p = buf_reserve(dst, n);
	memcpy(p, buf_data(src), n);
	if (w->flip_at[dir] >= 0 && (size_t)w->flip_at[dir] >= w->moved[dir] &&
	    (size_t)w->flip_at[dir] < w->moved[dir] + n)
		p[w->flip_at[dir] - (long)w->moved[dir]] ^= 0x01;
	buf_commit(dst, n);
	buf_consume(src, n);
	w->moved[dir] += n;
	return n;
}

static int done(int rc)
{
	return rc == SECURE_READY || rc == SECURE_ERROR;
}

void sect_handshake(struct sect_wire *w)
{
	for (int i = 0; i < 50; i++) {
		size_t moved;

		if (!done(w->c.rc))
			w->c.rc = secure_handshake(w->c.s, &w->c.in, &w->c.out);
		if (!done(w->s.rc))
			w->s.rc = secure_handshake(w->s.s, &w->s.in, &w->s.out);
		moved = wire_move(w, 0) + wire_move(w, 1);
		if (done(w->c.rc) && done(w->s.rc) && !moved)
			return;
		if (!moved && i > 0)
			return;
	}
}

int sect_ready(const struct sect_wire *w)
{
	return w->c.rc == SECURE_READY && w->s.rc == SECURE_READY;
}

int sect_send(struct sect_wire *w, int dir, const uint8_t *data, size_t n,
	      int close, size_t *got)
{
	struct sect_side *from = dir ? &w->s : &w->c;
	struct sect_side *to = dir ? &w->c : &w->s;
	size_t sent = 0;
	int rc = SECURE_AGAIN, closed = 0;

	*got = 0;
	for (int i = 0; i < 100000; i++) {
		size_t k = n - sent, moved;

		if (k > buf_room(&from->pout))
			k = buf_room(&from->pout);
		buf_append(&from->pout, data + sent, k);
		sent += k;
		if (secure_seal(from->s, &from->pout, &from->out) < 0)
			return SECURE_ERROR;
		if (close && sent == n && !buf_len(&from->pout) && !closed) {
			secure_close(from->s, &from->out);
			closed = secure_closed_out(from->s);
		}
		moved = wire_move(w, dir);
		rc = secure_open(to->s, &to->in, &to->pin);
		if (buf_len(&to->pin)) {
			if (*got + buf_len(&to->pin) > n ||
			    memcmp(buf_data(&to->pin), data + *got,
				   buf_len(&to->pin)) != 0)
				ck_abort_msg("delivered bytes differ");
			*got += buf_len(&to->pin);
			buf_clear(&to->pin);
		}
		if (rc != SECURE_AGAIN)
			return rc;
		if (!moved && sent == n && !buf_len(&from->pout) &&
		    (!close || closed))
			return rc;
	}
	return rc;
}
