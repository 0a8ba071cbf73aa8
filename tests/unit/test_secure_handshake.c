/*
 * The secure layer's handshake: both sides agree and data flows, and every
 * way a handshake can go wrong (unknown user, wrong keys, a peer speaking
 * something else, flipped bytes, replayed messages) ends it with a clear
 * error and no data. The wire harness is in support_secure.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "support_secure.h"

START_TEST(test_handshake_and_data)
{
	struct sect_wire *w = sect_new();
	size_t n = 1 << 20, got;
	uint8_t *data = malloc(n), pk[32];

	randombytes_buf(data, n);
	sect_handshake(w);
	ck_assert_msg(sect_ready(w), "client: %s / server: %s",
		      secure_error(w->c.s), secure_error(w->s.s));
	ck_assert_str_eq(secure_peer_user(w->s.s), "alice");
	secure_peer_pk(w->s.s, pk);
	ck_assert_mem_eq(pk, w->usr_key.pk, 32);
	secure_peer_pk(w->c.s, pk);
	ck_assert_mem_eq(pk, w->srv_key.pk, 32);
	/* both ways, then FINAL both ways */
	ck_assert_int_eq(sect_send(w, 0, data, n, 0, &got), SECURE_AGAIN);
	ck_assert_uint_eq(got, n);
	ck_assert_int_eq(sect_send(w, 1, data, n, 1, &got), SECURE_READY);
	ck_assert_uint_eq(got, n);
	ck_assert(secure_closed_in(w->c.s));
	ck_assert(secure_closed_out(w->s.s));
	ck_assert_int_eq(sect_send(w, 0, data, 1000, 1, &got), SECURE_READY);
	ck_assert_uint_eq(got, 1000);
	ck_assert(secure_closed_in(w->s.s));
	/* nothing may follow FINAL */
	buf_append(&w->c.pout, "x", 1);
	ck_assert_int_eq(secure_seal(w->c.s, &w->c.pout, &w->c.out),
			 SECURE_ERROR);
	free(data);
	sect_free(w);
}
END_TEST

START_TEST(test_small_frame_limit)
{
	struct sect_wire *w = sect_new();
	size_t n = 100000, got;
	uint8_t *data = malloc(n);

	/* the server accepts 2000-byte frames only: the client must obey */
	secure_free(w->s.s);
	w->s.s = secure_server_new(&w->srv_id, sect_lookup, w, 2000);
	randombytes_buf(data, n);
	sect_handshake(w);
	ck_assert(sect_ready(w));
	ck_assert_int_eq(sect_send(w, 0, data, n, 1, &got), SECURE_READY);
	ck_assert_uint_eq(got, n);
	free(data);
	sect_free(w);
}
END_TEST

START_TEST(test_bad_args)
{
	struct keys_secret k;
	struct secure_identity id;
	uint8_t pk[32] = { 0 };
	char longname[SECURE_USER_MAX + 2];

	sect_make_key(&k, &id);
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	ck_assert_ptr_null(secure_client_new(&id, "", pk, 0));
	ck_assert_ptr_null(secure_client_new(&id, longname, pk, 0));
	ck_assert_ptr_null(secure_server_new(&id, NULL, NULL, 0));
	longname[SECURE_USER_MAX] = 0;
	secure_free(secure_client_new(&id, longname, pk, 0));
	keys_identity_free(&id);
}
END_TEST

static void expect_refused(struct sect_wire *w, const char *client_err,
			   const char *server_err)
{
	size_t got;

	sect_handshake(w);
	ck_assert_int_eq(w->c.rc, SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(w->c.s), client_err),
		      "client error: %s", secure_error(w->c.s));
	if (server_err) {
		ck_assert_int_eq(w->s.rc, SECURE_ERROR);
		ck_assert_msg(strstr(secure_error(w->s.s), server_err),
			      "server error: %s", secure_error(w->s.s));
	}
	ck_assert_ptr_null(secure_peer_user(w->s.s));
	/* and no data can flow either way */
	ck_assert_int_eq(sect_send(w, 0, (const uint8_t *)"hi", 2, 0, &got),
			 SECURE_ERROR);
	ck_assert_uint_eq(got, 0);
}

START_TEST(test_unknown_user)
{
	struct sect_wire *w = sect_new();

	secure_free(w->c.s);
	w->c.s = secure_client_new(&w->usr_id, "mallory", w->srv_key.pk, 0);
	expect_refused(w, "server refused: authentication failed",
		       "unknown user \"mallory\"");
	sect_free(w);
}
END_TEST

START_TEST(test_wrong_user_key)
{
	struct sect_wire *w = sect_new();

	/* bob exists, but alice's key is not his */
	secure_free(w->c.s);
	w->c.s = secure_client_new(&w->usr_id, "bob", w->srv_key.pk, 0);
	expect_refused(w, "server refused: authentication failed",
		       "user \"bob\" offered key SHA256:");
	sect_free(w);
}
END_TEST

/* Unknown user and wrong key look exactly alike to the client. */
START_TEST(test_same_refusal)
{
	struct sect_wire *a = sect_new(), *b = sect_new();

	secure_free(a->c.s);
	a->c.s = secure_client_new(&a->usr_id, "nobody", a->srv_key.pk, 0);
	secure_free(b->c.s);
	b->c.s = secure_client_new(&b->usr_id, "bob", b->srv_key.pk, 0);
	sect_handshake(a);
	sect_handshake(b);
	ck_assert_str_eq(secure_error(a->c.s), secure_error(b->c.s));
	ck_assert_str_ne(secure_error(a->s.s), secure_error(b->s.s));
	/* and the same number of bytes on the wire */
	ck_assert_uint_eq(a->moved[1], b->moved[1]);
	ck_assert_uint_eq(a->moved[0], b->moved[0]);
	sect_free(a);
	sect_free(b);
}
END_TEST

/* An auth frame the server cannot decrypt: the client hears why. */
START_TEST(test_undecryptable_auth)
{
	struct sect_wire *w = sect_new();

	w->flip_at[0] = 74 + 30; /* inside the auth frame's ciphertext */
	expect_refused(w, "server refused: handshake failed",
		       "failed authentication");
	sect_free(w);
}
END_TEST

START_TEST(test_wrong_server_key)
{
	struct sect_wire *w = sect_new();
	uint8_t other[32];

	randombytes_buf(other, sizeof other);
	secure_free(w->c.s);
	w->c.s = secure_client_new(&w->usr_id, "alice", other, 0);
	expect_refused(w, "server key mismatch", NULL);
	/* the user's name never left the client */
	ck_assert_int_ne(w->s.rc, SECURE_READY);
	sect_free(w);
}
END_TEST

START_TEST(test_garbage_hello)
{
	struct sect_wire *w = sect_new();
	const char junk[] = "SSH-2.0-OpenSSH_9.2\r\n";

	buf_append(&w->s.in, junk, sizeof junk - 1);
	ck_assert_int_eq(secure_handshake(w->s.s, &w->s.in, &w->s.out),
			 SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(w->s.s), "does not speak"), "%s",
		      secure_error(w->s.s));
	ck_assert_uint_eq(buf_len(&w->s.out), 0);
	/* and the client facing a plain server */
	ck_assert_int_eq(secure_handshake(w->c.s, &w->c.in, &w->c.out),
			 SECURE_AGAIN);
	buf_append(&w->c.in, "hello\n", 6);
	ck_assert_int_eq(secure_handshake(w->c.s, &w->c.in, &w->c.out),
			 SECURE_ERROR);
	sect_free(w);
}
END_TEST

START_TEST(test_bad_version)
{
	struct sect_wire *w = sect_new();
	uint8_t hello[6] = { 'h', 'S', 'e', 'C', 9, 1 };

	buf_append(&w->s.in, hello, sizeof hello);
	ck_assert_int_eq(secure_handshake(w->s.s, &w->s.in, &w->s.out),
			 SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(w->s.s), "version 9"), "%s",
		      secure_error(w->s.s));
	sect_free(w);
}
END_TEST

/* A flipped bit anywhere in the handshake, either way, is refused. */
START_TEST(test_flip_every_handshake_byte)
{
	struct sect_wire *w = sect_new();
	size_t len[2];

	sect_handshake(w);
	ck_assert(sect_ready(w));
	len[0] = w->moved[0];
	len[1] = w->moved[1];
	sect_free(w);
	for (int dir = 0; dir < 2; dir++)
		for (size_t i = 0; i < len[dir]; i++) {
			size_t got;

			w = sect_new();
			w->flip_at[dir] = (long)i;
			sect_handshake(w);
			ck_assert_msg(!sect_ready(w), "dir %d byte %zu", dir, i);
			ck_assert_msg(w->c.rc == SECURE_ERROR ||
					      w->s.rc == SECURE_ERROR,
				      "dir %d byte %zu: no clear error", dir, i);
			sect_send(w, 0, (const uint8_t *)"x", 1, 1, &got);
			ck_assert_uint_eq(got, 0);
			sect_free(w);
		}
}
END_TEST

START_TEST(test_replay_server_hello)
{
	struct sect_wire *a = sect_new(), *b;

	sect_handshake(a);
	ck_assert(sect_ready(a));
	b = sect_new();
	/* same server key, so the pin matches: only freshness can save b */
	secure_free(b->c.s);
	b->c.s = secure_client_new(&b->usr_id, "alice", a->srv_key.pk, 0);
	ck_assert_int_eq(secure_handshake(b->c.s, &b->c.in, &b->c.out),
			 SECURE_AGAIN);
	buf_append(&b->c.in, buf_data(&a->rec[1]), buf_len(&a->rec[1]));
	ck_assert_int_eq(secure_handshake(b->c.s, &b->c.in, &b->c.out),
			 SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(b->c.s), "signature"), "%s",
		      secure_error(b->c.s));
	sect_free(a);
	sect_free(b);
}
END_TEST

START_TEST(test_replay_client)
{
	struct sect_wire *a = sect_new();
	struct secure *srv;
	struct buf in, out;
	uint8_t data[100];
	size_t got;

	randombytes_buf(data, sizeof data);
	sect_handshake(a);
	ck_assert(sect_ready(a));
	sect_send(a, 0, data, sizeof data, 1, &got);
	ck_assert_uint_eq(got, sizeof data);
	/* the whole recorded client side, to a new server with the same key */
	srv = secure_server_new(&a->srv_id, sect_lookup, a, 0);
	buf_init(&in, SECT_RAW_CAP);
	buf_init(&out, SECT_RAW_CAP);
	buf_append(&in, buf_data(&a->rec[0]), buf_len(&a->rec[0]));
	ck_assert_int_eq(secure_handshake(srv, &in, &out), SECURE_ERROR);
	ck_assert_msg(strstr(secure_error(srv), "failed authentication"), "%s",
		      secure_error(srv));
	ck_assert_ptr_null(secure_peer_user(srv));
	secure_free(srv);
	buf_free(&in);
	buf_free(&out);
	sect_free(a);
}
END_TEST

static Suite *handshake_suite(void)
{
	Suite *s = suite_create("secure_handshake");
	TCase *core = tcase_create("core");
	TCase *refuse = tcase_create("refusals");

	tcase_set_timeout(refuse, 120);
	tcase_add_test(core, test_handshake_and_data);
	tcase_add_test(core, test_small_frame_limit);
	tcase_add_test(core, test_bad_args);
	tcase_add_test(refuse, test_unknown_user);
	tcase_add_test(refuse, test_wrong_user_key);
	tcase_add_test(refuse, test_wrong_server_key);
	tcase_add_test(refuse, test_same_refusal);
	tcase_add_test(refuse, test_undecryptable_auth);
	tcase_add_test(refuse, test_garbage_hello);
	tcase_add_test(refuse, test_bad_version);
	tcase_add_test(refuse, test_flip_every_handshake_byte);
	tcase_add_test(refuse, test_replay_server_hello);
	tcase_add_test(refuse, test_replay_client);
	suite_add_tcase(s, core);
	suite_add_tcase(s, refuse);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(handshake_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
