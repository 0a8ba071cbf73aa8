/*
 * msgpipe/receiver.c against a peer that contradicts its own EOF: once the
 * EOF position is known, no byte past it is stored or handed to the child,
 * whether it comes after the EOF or straddles it, and the engine then
 * ends the connection (ENGINE_VIOLATION). A legitimate retransmission of
 * the EOF block, or of data before it, stays a harmless duplicate.
 */
#include <check.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "receiver.h"

#define BUFSZ 65536

static uint8_t data[2048];

static struct msg data_msg(uint32_t id, uint64_t pos, uint16_t len,
			   enum msg_eof eof)
{
	struct msg m;

	memset(&m, 0, sizeof m);
	m.id = id;
	m.pos = pos;
	m.len = len;
	m.eof = eof;
	m.data = data;
	return m;
}

START_TEST(past_known_eof_refused)
{
	struct receiver r;
	struct msg m;

	memset(data, 'x', sizeof data);
	ck_assert_int_eq(receiver_init(&r, BUFSZ), 0);
	m = data_msg(1, 0, 100, MSG_EOF_OK);
	ck_assert_int_eq(receiver_on_data(&r, &m), RECV_NEW);
	ck_assert_uint_eq(r.eof_pos, 100);
	/* right after the EOF */
	m = data_msg(2, 100, 10, MSG_EOF_NONE);
	ck_assert_int_eq(receiver_on_data(&r, &m), RECV_BAD);
	/* straddling it */
	m = data_msg(3, 95, 10, MSG_EOF_NONE);
	ck_assert_int_eq(receiver_on_data(&r, &m), RECV_BAD);
	/* far beyond it */
	m = data_msg(4, 1000, 10, MSG_EOF_NONE);
	ck_assert_int_eq(receiver_on_data(&r, &m), RECV_BAD);
	/* nothing of them was stored or made ready for the child */
	ck_assert_uint_eq(receiver_ready(&r), 100);
	ck_assert_uint_eq(r.got.n, 0);
	ck_assert_uint_eq(r.bytes, 100);
	/* the same EOF block again, or data before it: duplicates */
	m = data_msg(5, 0, 100, MSG_EOF_OK);
	ck_assert_int_eq(receiver_on_data(&r, &m), RECV_DUP);
	m = data_msg(6, 50, 50, MSG_EOF_NONE);
	ck_assert_int_eq(receiver_on_data(&r, &m), RECV_DUP);
	receiver_consumed(&r, 100);
	ck_assert(receiver_finished(&r));
	ck_assert_uint_eq(receiver_ack_first(&r), 101);
	receiver_free(&r);
}
END_TEST

/* The EOF known before the bytes in front of it: a hole, then data past
 * the EOF must still be refused, and the hole can be filled. */
START_TEST(past_eof_with_a_hole)
{
	struct receiver r;
	struct msg m;

	ck_assert_int_eq(receiver_init(&r, BUFSZ), 0);
	m = data_msg(1, 100, 50, MSG_EOF_OK);
	ck_assert_int_eq(receiver_on_data(&r, &m), RECV_NEW);
	ck_assert_uint_eq(r.eof_pos, 150);
	m = data_msg(2, 150, 1, MSG_EOF_NONE);
	ck_assert_int_eq(receiver_on_data(&r, &m), RECV_BAD);
	m = data_msg(3, 140, 20, MSG_EOF_NONE);
	ck_assert_int_eq(receiver_on_data(&r, &m), RECV_BAD);
	m = data_msg(4, 0, 100, MSG_EOF_NONE);
	ck_assert_int_eq(receiver_on_data(&r, &m), RECV_NEW);
	ck_assert_uint_eq(receiver_ready(&r), 150);
	receiver_consumed(&r, 150);
	ck_assert(receiver_finished(&r));
	receiver_free(&r);
}
END_TEST

/* Through the engine: refused, logged as bad input, the child gets the
 * stream up to the EOF only, and the connection ends. */
START_TEST(engine_ends_on_data_past_eof)
{
	struct engine e;
	struct engine_cfg cfg = {
		.role = ROLE_SERVER, .sendbuf = BUFSZ, .recvbuf = BUFSZ,
		.giveup_ns = 60ULL * 1000 * 1000 * 1000,
		.keepalive_ns = 10ULL * 1000 * 1000 * 1000,
	};
	uint8_t b[MSG_MAX];
	struct iovec iov[2];
	struct msg m;
	uint64_t now = 1000;
	int n;

	ck_assert_int_eq(engine_init(&e, &cfg, now), 0);
	m = data_msg(1, 0, 100, MSG_EOF_OK);
	ck_assert_uint_gt(msg_encode(&m, b, sizeof b), 0);
	ck_assert_int_eq(engine_input(&e, now, b, msg_size(100)), 0);
	ck_assert_int_eq(engine_tick(&e, now), ENGINE_RUNNING);
	m = data_msg(2, 100, 16, MSG_EOF_NONE);
	ck_assert_uint_gt(msg_encode(&m, b, sizeof b), 0);
	ck_assert_int_eq(engine_input(&e, now, b, msg_size(16)), -1);
	ck_assert_uint_eq(e.bad_in, 1);
	n = engine_child_data(&e, iov);
	ck_assert_int_ge(n, 1);
	ck_assert_uint_eq(iov[0].iov_len + (n > 1 ? iov[1].iov_len : 0), 100);
	ck_assert_int_eq(engine_tick(&e, now), ENGINE_VIOLATION);
	engine_free(&e);
}
END_TEST

static Suite *receiver_suite(void)
{
	Suite *s = suite_create("msgpipe_receiver");
	TCase *tc = tcase_create("eof");

	tcase_add_test(tc, past_known_eof_refused);
	tcase_add_test(tc, past_eof_with_a_hole);
	tcase_add_test(tc, engine_ends_on_data_past_eof);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	log_init("test_msgpipe_receiver");
	log_set_level(LOG_FATAL);
	sr = srunner_create(receiver_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
