/* Unit tests for msgpipe/sendq.c and recvq.c: rings with wrap-around. */
#include <check.h>
#include <string.h>

#include "recvq.h"
#include "sendq.h"

static size_t fill(const struct sendq *q, const uint8_t *src, size_t n,
		   struct iovec iov[2], int k)
{
	size_t done = 0;

	for (int i = 0; i < k && done < n; i++) {
		size_t c = iov[i].iov_len < n - done ? iov[i].iov_len : n - done;

		memcpy(iov[i].iov_base, src + done, c);
		done += c;
	}
	(void)q;
	return done;
}

START_TEST(sendq_wraps)
{
	struct sendq q;
	struct iovec iov[2];
	uint8_t src[100], out[100];
	uint64_t pos = 0;

	for (int i = 0; i < 100; i++)
		src[i] = (uint8_t)i;
	ck_assert_int_eq(sendq_init(&q, 64), 0);
	ck_assert_uint_eq(sendq_room(&q), 64);
	for (int round = 0; round < 20; round++) {
		int k = sendq_space(&q, iov);
		size_t n = fill(&q, src, 40, iov, k);

		ck_assert_uint_eq(n, 40);
		sendq_commit(&q, n);
		ck_assert_uint_eq(sendq_room(&q), 24);
		sendq_copy(&q, pos, out, 40);
		ck_assert_mem_eq(out, src, 40);
		sendq_copy(&q, pos + 30, out, 10);
		ck_assert_mem_eq(out, src + 30, 10);
		pos += 40;
		sendq_release(&q, pos);
		ck_assert_uint_eq(sendq_room(&q), 64);
	}
	/* releasing beyond the end stops at the end */
	sendq_release(&q, pos + 1000);
	ck_assert_uint_eq(q.base, q.end);
	/* full: no space */
	{
		int k = sendq_space(&q, iov);

		sendq_commit(&q, fill(&q, src, 64, iov, k));
		ck_assert_int_eq(sendq_space(&q, iov), 0);
		sendq_commit(&q, 10);
		ck_assert_uint_eq(sendq_room(&q), 0);
	}
	sendq_free(&q);
}
END_TEST

START_TEST(recvq_wraps_out_of_order)
{
	struct recvq q;
	struct iovec iov[2];
	uint8_t src[200], out[200];
	int k;
	size_t got;

	for (int i = 0; i < 200; i++)
		src[i] = (uint8_t)(i * 3);
	ck_assert_int_eq(recvq_init(&q, 64), 0);
	recvq_consume(&q, 50); /* base 50: ring index 50 */
	ck_assert_uint_eq(recvq_limit(&q), 114);
	recvq_store(&q, 80, src + 80, 30);   /* wraps */
	recvq_store(&q, 50, src + 50, 30);
	ck_assert_int_eq(recvq_data(&q, 50, iov), 0);
	k = recvq_data(&q, 110, iov);
	ck_assert_int_eq(k, 2);
	ck_assert_uint_eq(iov[0].iov_len + iov[1].iov_len, 60);
	memcpy(out, iov[0].iov_base, iov[0].iov_len);
	memcpy(out + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
	ck_assert_mem_eq(out, src + 50, 60);
	got = iov[0].iov_len;
	recvq_consume(&q, got);
	k = recvq_data(&q, 110, iov);
	ck_assert_int_eq(k, 1);
	ck_assert_uint_eq(iov[0].iov_len, 60 - got);
	recvq_free(&q);
}
END_TEST

static Suite *queues_suite(void)
{
	Suite *s = suite_create("msgpipe_queues");
	TCase *tc = tcase_create("wrap");

	tcase_add_test(tc, sendq_wraps);
	tcase_add_test(tc, recvq_wraps_out_of_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(queues_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
