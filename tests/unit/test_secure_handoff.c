/*
 * The privilege separation monitor's side of the secure layer
 * (secure_handoff.h): the monitor makes the server hello itself, and
 * verifies the state the handshake process hands over before any session
 * runs. Each refusal here is something a compromised handshake process
 * could try: another user's name, another user's signature, a tampered
 * transcript, the state of another handshake, fields of the wrong size.
 * The server side of the wire gets its hello from an in-process "monitor"
 * (mon_hello below) exactly as handler's handshake process gets it over
 * its socket; the client is the ordinary one.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "secure_handoff.h"
#include "secure_internal.h"
#include "support_secure.h"

/* What the monitor holds: the real key and, once asked, its record. */
struct mon {
	const struct secure_identity *real;
	struct secure *rec;
	int asked;
};

struct hw {
	struct sect_wire *w;
	struct mon mon;
	struct secure_identity proxy;  /* the handshake process's identity */
	struct keys_secret bob_key;
	struct secure_identity bob_id;
	uint8_t *state;                /* the exported server state */
	size_t nstate;
	char err[256];
};

static int mon_hello(void *ctx, const uint8_t *ch, size_t n, uint8_t *reply,
		     size_t nreply)
{
	struct mon *m = ctx;
	char err[256];

	if (m->asked++)
		return -1;
	m->rec = secure_handoff_hello(m->real, 0, ch, n, reply, nreply, err,
				      sizeof err);
	return m->rec ? 0 : -1;
}

/*
 * A finished handshake between the ordinary client (alice) and a server
 * whose hello came from the monitor; bob is configured with a key whose
 * secret the test holds, so it can sign as bob.
 */
static struct hw *hw_new(void)
{
	struct hw *h = calloc(1, sizeof *h);

	ck_assert_ptr_nonnull(h);
	h->w = sect_new();
	sect_make_key(&h->bob_key, &h->bob_id);
	memcpy(h->w->users[1].pk, h->bob_key.pk, 32);
	h->mon.real = &h->w->srv_id;
	memcpy(h->proxy.pk, h->w->srv_id.pk, 32);
	h->proxy.server_hello = mon_hello;
	h->proxy.ctx = &h->mon;
	secure_free(h->w->s.s);
	h->w->s.s = secure_server_new(&h->proxy, sect_lookup, h->w, 0);
	ck_assert_ptr_nonnull(h->w->s.s);
	sect_handshake(h->w);
	ck_assert(sect_ready(h->w));
	ck_assert_ptr_nonnull(h->mon.rec);
	h->nstate = secure_handoff_size();
	h->state = malloc(h->nstate + 1);
	ck_assert_ptr_nonnull(h->state);
	ck_assert_int_eq(secure_handoff_export(h->w->s.s, h->state,
					       h->nstate), 0);
	return h;
}

static void hw_free(struct hw *h)
{
	secure_free(h->mon.rec);
	keys_identity_free(&h->bob_id);
	keys_secret_wipe(&h->bob_key);
	sodium_memzero(h->state, h->nstate);
	free(h->state);
	sect_free(h->w);
	free(h);
}

/* The monitor's verdict on h's state, claimed for user. */
static int verify(struct hw *h, const char *user)
{
	h->err[0] = 0;
	return secure_handoff_verify(h->mon.rec, h->state, h->nstate, user,
				     sect_lookup, h->w, h->err,
				     sizeof h->err);
}

/* The exported bytes as a struct, to change one field and put back. */
static void state_get(const struct hw *h, struct secure *s)
{
	memcpy(s, h->state, sizeof *s);
}

static void state_put(struct hw *h, const struct secure *s)
{
	memcpy(h->state, s, sizeof *s);
}

static void assert_refused(struct hw *h, const char *user, const char *why)
{
	ck_assert_int_eq(verify(h, user), -1);
	ck_assert_msg(strstr(h->err, why) != NULL, "error \"%s\" lacks \"%s\"",
		      h->err, why);
}

/* sig_U as `by` would make it for user with key pk, over h's th2. */
static void sign_as(struct hw *h, const struct secure_identity *by,
		    const char *user, const uint8_t pk[32], uint8_t sig[64])
{
	const struct secure *rec = h->mon.rec;
	uint8_t digest[64], m[SEC_SIGMSG_MAX];
	size_t n;

	sec_auth_digest(rec, digest, rec->server_hello + SEC_SERVER_HELLO_LEN
			- 64, user, pk);
	n = sec_sig_message(m, 0, digest);
	ck_assert_int_eq(by->sign(by->ctx, sig, m, n), 0);
}

/* The good case: verified, and the imported state carries the session
 * with the ordinary client both ways. */
START_TEST(test_good_handoff)
{
	struct hw *h = hw_new();
	struct secure *imp;
	size_t got;

	ck_assert_int_eq(verify(h, "alice"), 0);
	ck_assert_int_eq(h->mon.asked, 1);
	imp = secure_handoff_import(h->state, h->nstate);
	ck_assert_ptr_nonnull(imp);
	secure_free(h->w->s.s);
	h->w->s.s = imp;
	ck_assert_int_eq(sect_send(h->w, 0, (const uint8_t *)"ping", 4, 0,
				   &got), SECURE_AGAIN);
	ck_assert_uint_eq(got, 4);
	ck_assert_int_eq(sect_send(h->w, 1, (const uint8_t *)"pong", 4, 1,
				   &got), SECURE_READY);
	ck_assert_uint_eq(got, 4);
	hw_free(h);
}
END_TEST

/* The hello on the wire is the one the monitor made and recorded, and
 * the record can no longer sign. */
START_TEST(test_monitor_made_the_hello)
{
	struct hw *h = hw_new();

	ck_assert_mem_eq(buf_data(&h->w->rec[1]), h->mon.rec->server_hello,
			 SEC_SERVER_HELLO_LEN);
	ck_assert_ptr_null(h->mon.rec->id);
	hw_free(h);
}
END_TEST

START_TEST(test_wrong_user_name)
{
	struct hw *h = hw_new();
	struct secure s;

	/* a claim that is not the state's */
	assert_refused(h, "bob", "claims another user");
	assert_refused(h, "", "claims another user");
	assert_refused(h, NULL, "claims another user");
	/* the state's name changed: bob's configured key is not alice's */
	state_get(h, &s);
	strcpy(s.user, "bob");
	state_put(h, &s);
	assert_refused(h, "bob", "not the configured key");
	/* a user the conf does not have */
	strcpy(s.user, "mallory");
	state_put(h, &s);
	assert_refused(h, "mallory", "unknown user");
	/* the state's name must be terminated within its field */
	memset(s.user, 'a', sizeof s.user);
	state_put(h, &s);
	ck_assert_int_eq(verify(h, "alice"), -1);
	hw_free(h);
}
END_TEST

/*
 * Bob's key signs the transcript claiming alice with alice's key (the
 * key comparison passes by construction): only the signature check
 * refuses. Signed the same way with alice's own key, it passes, so the
 * refusal is the signature's doing. tests/mutants names this test.
 */
START_TEST(test_signature_by_other_key)
{
	struct hw *h = hw_new();
	struct secure s;

	state_get(h, &s);
	sign_as(h, &h->bob_id, "alice", h->w->usr_key.pk, s.peer_sig);
	state_put(h, &s);
	assert_refused(h, "alice", "signature does not verify");
	sign_as(h, &h->w->usr_id, "alice", h->w->usr_key.pk, s.peer_sig);
	state_put(h, &s);
	ck_assert_int_eq(verify(h, "alice"), 0);
	/* The state names bob with his configured key, signed by alice's
	 * key: the user the state names must be the signer. */
	strcpy(s.user, "bob");
	memcpy(s.peer_pk, h->bob_key.pk, 32);
	sign_as(h, &h->w->usr_id, "bob", h->bob_key.pk, s.peer_sig);
	state_put(h, &s);
	assert_refused(h, "bob", "signature does not verify");
	/* alice's real signature replayed for bob */
	state_get(h, &s);
	strcpy(s.user, "bob");
	memcpy(s.peer_pk, h->bob_key.pk, 32);
	state_put(h, &s);
	assert_refused(h, "bob", "signature does not verify");
	hw_free(h);
}
END_TEST

/* Any byte of either hello or of th1 changed in the state: refused. */
START_TEST(test_tampered_transcript)
{
	struct hw *h = hw_new();
	struct secure s, good;

	state_get(h, &good);
	for (size_t i = 0; i < SEC_CLIENT_HELLO_LEN; i += 7) {
		s = good;
		s.client_hello[i] ^= 1;
		state_put(h, &s);
		assert_refused(h, "alice", "another handshake");
	}
	for (size_t i = 0; i < SEC_SERVER_HELLO_LEN; i += 7) {
		s = good;
		s.server_hello[i] ^= 0x80;
		state_put(h, &s);
		assert_refused(h, "alice", "another handshake");
	}
	s = good;
	s.th[63] ^= 1;
	state_put(h, &s);
	assert_refused(h, "alice", "transcript hash");
	s = good;
	s.send_max ^= 1;
	state_put(h, &s);
	assert_refused(h, "alice", "frame limits");
	s = good;
	s.state = SEC_S_WAIT_AUTH;
	state_put(h, &s);
	assert_refused(h, "alice", "not a finished server handshake");
	s = good;
	s.server = 0;
	state_put(h, &s);
	assert_refused(h, "alice", "not a finished server handshake");
	state_put(h, &good);
	ck_assert_int_eq(verify(h, "alice"), 0);
	hw_free(h);
}
END_TEST

/*
 * Two handshakes of the same client and user: the state of one is
 * refused by the other's monitor, whole or with only its stream state
 * (keys) swapped in, each direction.
 */
START_TEST(test_state_of_other_handshake)
{
	struct hw *a = hw_new(), *b = hw_new();
	struct secure sa, sb, s;

	/* b's state, its user proved in b, shown to a's monitor */
	ck_assert_int_eq(verify(b, "alice"), 0);
	memcpy(a->state, b->state, a->nstate);
	assert_refused(a, "alice", "another handshake");
	/* a's hellos and transcript, b's stream states */
	ck_assert_int_eq(secure_handoff_export(a->w->s.s, a->state,
					       a->nstate), 0);
	state_get(a, &sa);
	state_get(b, &sb);
	s = sa;
	s.rx = sb.rx;
	state_put(a, &s);
	assert_refused(a, "alice", "stream keys");
	s = sa;
	s.tx = sb.tx;
	state_put(a, &s);
	assert_refused(a, "alice", "stream keys");
	/* a's stream state, but the header it claims to have been keyed
	 * from changed */
	s = sa;
	s.rx.header[0] ^= 1;
	state_put(a, &s);
	assert_refused(a, "alice", "stream keys");
	/* a record with no hello behind it verifies nothing */
	state_put(a, &sa);
	ck_assert_int_eq(secure_handoff_verify(NULL, a->state, a->nstate,
					       "alice", sect_lookup, a->w,
					       a->err, sizeof a->err), -1);
	ck_assert_int_eq(verify(a, "alice"), 0);
	hw_free(a);
	hw_free(b);
}
END_TEST

/* Fields of the wrong size, to either monitor call: refused. */
START_TEST(test_bad_sizes)
{
	struct hw *h = hw_new();
	uint8_t ch[SECURE_HANDOFF_HELLO_LEN + 1] = { 0 };
	uint8_t reply[SECURE_HANDOFF_REPLY_LEN + 1];
	struct secure *r;

	h->err[0] = 0;
	ck_assert_int_eq(secure_handoff_verify(h->mon.rec, h->state,
					       h->nstate - 1, "alice",
					       sect_lookup, h->w, h->err,
					       sizeof h->err), -1);
	ck_assert_ptr_nonnull(strstr(h->err, "bytes"));
	h->state[h->nstate] = 0;
	ck_assert_int_eq(secure_handoff_verify(h->mon.rec, h->state,
					       h->nstate + 1, "alice",
					       sect_lookup, h->w, h->err,
					       sizeof h->err), -1);
	ck_assert_int_eq(secure_handoff_verify(h->mon.rec, h->state, 0,
					       "alice", sect_lookup, h->w,
					       h->err, sizeof h->err), -1);
	/* the client hello as the client sent it, cut or extended */
	memcpy(ch, buf_data(&h->w->rec[0]), SECURE_HANDOFF_HELLO_LEN);
	r = secure_handoff_hello(&h->w->srv_id, 0, ch, sizeof ch - 2, reply,
				 SECURE_HANDOFF_REPLY_LEN, h->err,
				 sizeof h->err);
	ck_assert_ptr_null(r);
	r = secure_handoff_hello(&h->w->srv_id, 0, ch, sizeof ch, reply,
				 SECURE_HANDOFF_REPLY_LEN, h->err,
				 sizeof h->err);
	ck_assert_ptr_null(r);
	r = secure_handoff_hello(&h->w->srv_id, 0, ch, sizeof ch - 1, reply,
				 SECURE_HANDOFF_REPLY_LEN - 1, h->err,
				 sizeof h->err);
	ck_assert_ptr_null(r);
	/* a hello that is not one: the monitor's own parser refuses it */
	ch[0] = 'X';
	r = secure_handoff_hello(&h->w->srv_id, 0, ch, sizeof ch - 1, reply,
				 SECURE_HANDOFF_REPLY_LEN, h->err,
				 sizeof h->err);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(h->err, "client hello refused"));
	/* a frame limit below the minimum */
	ch[0] = 'h';
	ch[6] = ch[7] = ch[8] = 0;
	ch[9] = 1;
	r = secure_handoff_hello(&h->w->srv_id, 0, ch, sizeof ch - 1, reply,
				 SECURE_HANDOFF_REPLY_LEN, h->err,
				 sizeof h->err);
	ck_assert_ptr_null(r);
	/* and the unchanged hello is accepted by a fresh monitor */
	memcpy(ch, buf_data(&h->w->rec[0]), SECURE_HANDOFF_HELLO_LEN);
	r = secure_handoff_hello(&h->w->srv_id, 0, ch, sizeof ch - 1, reply,
				 SECURE_HANDOFF_REPLY_LEN, h->err,
				 sizeof h->err);
	ck_assert_ptr_nonnull(r);
	secure_free(r);
	hw_free(h);
}
END_TEST

/* A second hello is never asked for by a well-behaved process: the
 * hook refuses it, and the server fails cleanly. */
START_TEST(test_proxy_failure)
{
	struct hw *h = hw_new();
	struct secure *s = secure_server_new(&h->proxy, sect_lookup, h->w, 0);
	struct buf in, out;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(buf_init(&in, SECT_RAW_CAP), 0);
	ck_assert_int_eq(buf_init(&out, SECT_RAW_CAP), 0);
	buf_append(&in, buf_data(&h->w->rec[0]), SECURE_HANDOFF_HELLO_LEN);
	ck_assert_int_eq(secure_handshake(s, &in, &out), SECURE_ERROR);
	ck_assert_uint_eq(buf_len(&out), 0);
	ck_assert_ptr_nonnull(strstr(secure_error(s), "server hello"));
	buf_free(&in);
	buf_free(&out);
	secure_free(s);
	hw_free(h);
}
END_TEST

static Suite *handoff_suite(void)
{
	Suite *s = suite_create("secure_handoff");
	TCase *tc = tcase_create("monitor");

	tcase_add_test(tc, test_good_handoff);
	tcase_add_test(tc, test_monitor_made_the_hello);
	tcase_add_test(tc, test_wrong_user_name);
	tcase_add_test(tc, test_signature_by_other_key);
	tcase_add_test(tc, test_tampered_transcript);
	tcase_add_test(tc, test_state_of_other_handshake);
	tcase_add_test(tc, test_bad_sizes);
	tcase_add_test(tc, test_proxy_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(handoff_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
