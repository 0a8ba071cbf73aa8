/*
 * Forged signatures: a peer that presents the right public key but signs
 * with another one. Each side's key comparison passes by construction,
 * so only its crypto_sign_verify_detached() check stands between the
 * forger and a session: these tests fail if either check is weakened
 * (tests/mutants/ names them). They assert what the check prevents (no
 * state change, no bytes sent, no session), not the wording of an error.
 * The wire harness is in support_secure.c.
 */
#include <check.h>
#include <string.h>

#include <sodium.h>

#include "support_secure.h"

/* An identity that claims pk but signs with a fresh, unrelated key. */
static void make_forger(struct keys_secret *k, struct secure_identity *id,
			const uint8_t pk[32])
{
	sect_make_key(k, id);
	memcpy(id->pk, pk, 32);
}

/*
 * The client names a configured user (alice), sends her real public key
 * and signs the transcript with another key: refused, and nothing of the
 * session exists on the server.
 */
START_TEST(test_client_forged_signature)
{
	struct sect_wire *w = sect_new();
	struct keys_secret k;
	struct secure_identity forged;
	size_t got;

	make_forger(&k, &forged, w->usr_key.pk);
	secure_free(w->c.s);
	w->c.s = secure_client_new(&forged, "alice", w->srv_key.pk, 0);
	ck_assert_ptr_nonnull(w->c.s);
	sect_handshake(w);
	ck_assert_int_eq(w->s.rc, SECURE_ERROR);
	ck_assert_ptr_null(secure_peer_user(w->s.s));
	/* the client hears the refusal */
	ck_assert_int_eq(w->c.rc, SECURE_ERROR);
	/* no byte the client sends reaches the server's plaintext */
	ck_assert_int_eq(sect_send(w, 0, (const uint8_t *)"run", 3, 1, &got),
			 SECURE_ERROR);
	ck_assert_uint_eq(got, 0);
	ck_assert_uint_eq(buf_len(&w->s.pin), 0);
	keys_identity_free(&forged);
	keys_secret_wipe(&k);
	sect_free(w);
}
END_TEST

/* The same user with her own key is accepted by the same server: the
 * refusal above is the signature's doing, not the fixture's. */
START_TEST(test_client_real_signature)
{
	struct sect_wire *w = sect_new();

	sect_handshake(w);
	ck_assert(sect_ready(w));
	ck_assert_str_eq(secure_peer_user(w->s.s), "alice");
	sect_free(w);
}
END_TEST

/*
 * The server presents the pinned server key and signs with another key.
 * The client must stop at the server hello: the step that reads it fails
 * and queues nothing, so the user's name, key and signature never leave
 * the client (a weakened check would send the auth frame and, the forger
 * holding the session keys, finish the handshake).
 */
START_TEST(test_server_forged_signature)
{
	struct sect_wire *w = sect_new();
	struct keys_secret k;
	struct secure_identity forged;
	size_t hello_len;

	make_forger(&k, &forged, w->srv_key.pk);
	secure_free(w->s.s);
	w->s.s = secure_server_new(&forged, sect_lookup, w, 0);
	ck_assert_ptr_nonnull(w->s.s);
	/* client hello over */
	ck_assert_int_eq(secure_handshake(w->c.s, &w->c.in, &w->c.out),
			 SECURE_AGAIN);
	hello_len = buf_len(&w->c.out);
	ck_assert_uint_gt(hello_len, 0);
	buf_append(&w->s.in, buf_data(&w->c.out), hello_len);
	buf_clear(&w->c.out);
	/* forged server hello back */
	ck_assert_int_eq(secure_handshake(w->s.s, &w->s.in, &w->s.out),
			 SECURE_AGAIN);
	ck_assert_uint_gt(buf_len(&w->s.out), 0);
	buf_append(&w->c.in, buf_data(&w->s.out), buf_len(&w->s.out));
	buf_clear(&w->s.out);
	/* the check itself refuses it: an error now, nothing queued */
	ck_assert_int_eq(secure_handshake(w->c.s, &w->c.in, &w->c.out),
			 SECURE_ERROR);
	ck_assert_uint_eq(buf_len(&w->c.out), 0);
	/* and it stays refused */
	ck_assert_int_eq(secure_handshake(w->c.s, &w->c.in, &w->c.out),
			 SECURE_ERROR);
	ck_assert_uint_eq(buf_len(&w->c.out), 0);
	keys_identity_free(&forged);
	keys_secret_wipe(&k);
	sect_free(w);
}
END_TEST

/* Through the whole harness: neither side gets a session. */
START_TEST(test_server_forged_no_session)
{
	struct sect_wire *w = sect_new();
	struct keys_secret k;
	struct secure_identity forged;
	size_t got;

	make_forger(&k, &forged, w->srv_key.pk);
	secure_free(w->s.s);
	w->s.s = secure_server_new(&forged, sect_lookup, w, 0);
	sect_handshake(w);
	ck_assert_int_eq(w->c.rc, SECURE_ERROR);
	ck_assert_int_ne(w->s.rc, SECURE_READY);
	ck_assert_ptr_null(secure_peer_user(w->s.s));
	ck_assert_int_eq(sect_send(w, 1, (const uint8_t *)"hi", 2, 1, &got),
			 SECURE_ERROR);
	ck_assert_uint_eq(got, 0);
	keys_identity_free(&forged);
	keys_secret_wipe(&k);
	sect_free(w);
}
END_TEST

static Suite *forgery_suite(void)
{
	Suite *s = suite_create("secure_forgery");
	TCase *tc = tcase_create("signatures");

	tcase_add_test(tc, test_client_forged_signature);
	tcase_add_test(tc, test_client_real_signature);
	tcase_add_test(tc, test_server_forged_signature);
	tcase_add_test(tc, test_server_forged_no_session);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(forgery_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
