/*
 * Transmission requests: the pure decoder and checker (every command with
 * bad offsets, lengths and flags, against read-write and read-only
 * exports, with and without structured replies), then the module's
 * handling of refused requests: WRITE payloads drained, bad magic, DISC,
 * a client that goes away mid-request. The harness is in support_nbd.c.
 */
#include <check.h>
#include <string.h>

#include "bytes.h"
#include "exitcode.h"
#include "support_nbd.h"

#define SIZE 10000u
#define MAX NBD_PAYLOAD_MAX

static const struct nbd_tx rw_sr = {
	SIZE,
	NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
		NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES |
		NBD_FLAG_SEND_DF | NBD_FLAG_CAN_MULTI_CONN |
		NBD_FLAG_SEND_CACHE | NBD_FLAG_SEND_FAST_ZERO,
	1, 1
};

static const struct nbd_tx ro_simple = {
	SIZE,
	NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_FLUSH |
		NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_CACHE,
	0, 0
};

static uint32_t check(const struct nbd_tx *tx, uint16_t flags, uint16_t type,
		      uint64_t off, uint32_t len)
{
	struct nbd_request rq = { flags, type, 1, off, len };
	const char *why = NULL;
	uint32_t e = nbd_request_check(&rq, tx, &why);

	ck_assert_ptr_nonnull(why);
	ck_assert(e == 0 || *why);
	return e;
}

START_TEST(decode)
{
	uint8_t b[NBD_REQUEST_LEN];
	struct nbd_request rq;

	be32_put(b, NBD_REQUEST_MAGIC);
	be16_put(b + 4, NBD_CMD_FLAG_FUA);
	be16_put(b + 6, NBD_CMD_WRITE);
	be64_put(b + 8, 0x0102030405060708ull);
	be64_put(b + 16, 0xfffffffffffffff0ull);
	be32_put(b + 24, 0x12345678);
	for (size_t n = 0; n < sizeof b; n++)
		ck_assert_int_eq(nbd_request_decode(b, n, &rq),
				 NBD_DECODE_SHORT);
	ck_assert_int_eq(nbd_request_decode(b, sizeof b, &rq), 0);
	ck_assert_uint_eq(rq.flags, NBD_CMD_FLAG_FUA);
	ck_assert_uint_eq(rq.type, NBD_CMD_WRITE);
	ck_assert_uint_eq(rq.handle, 0x0102030405060708ull);
	ck_assert_uint_eq(rq.offset, 0xfffffffffffffff0ull);
	ck_assert_uint_eq(rq.length, 0x12345678);
	ck_assert_uint_eq(nbd_request_payload(&rq), 0x12345678);
	rq.type = NBD_CMD_READ;
	ck_assert_uint_eq(nbd_request_payload(&rq), 0);
	b[0] ^= 1;
	ck_assert_int_eq(nbd_request_decode(b, sizeof b, &rq),
			 NBD_DECODE_MAGIC);
}
END_TEST

/* Ranges: at the end is fine, one past is EINVAL (ENOSPC for writes),
 * and offsets near 2^64 cannot wrap around the check. */
START_TEST(ranges)
{
	static const uint16_t cmds[] = { NBD_CMD_READ, NBD_CMD_WRITE,
					 NBD_CMD_TRIM, NBD_CMD_CACHE,
					 NBD_CMD_WRITE_ZEROES,
					 NBD_CMD_BLOCK_STATUS };

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		uint16_t t = cmds[i];
		uint32_t past = t == NBD_CMD_WRITE ||
					t == NBD_CMD_WRITE_ZEROES ?
				NBD_ENOSPC : NBD_EINVAL;

		ck_assert_uint_eq(check(&rw_sr, 0, t, 0, SIZE), 0);
		ck_assert_uint_eq(check(&rw_sr, 0, t, SIZE - 1, 1), 0);
		ck_assert_uint_eq(check(&rw_sr, 0, t, SIZE - 1, 2), past);
		ck_assert_uint_eq(check(&rw_sr, 0, t, 0, SIZE + 1), past);
		ck_assert_uint_eq(check(&rw_sr, 0, t, SIZE + 1, 1), past);
		ck_assert_uint_eq(check(&rw_sr, 0, t, UINT64_MAX, 2), past);
		ck_assert_uint_eq(check(&rw_sr, 0, t, UINT64_MAX - 1, 4),
				  past);
		/* Length 0 at the end: a no-op, except BLOCK_STATUS. */
		ck_assert_uint_eq(check(&rw_sr, 0, t, SIZE, 0),
				  t == NBD_CMD_BLOCK_STATUS ? NBD_EINVAL : 0);
	}
}
END_TEST

START_TEST(max_block_size)
{
	struct nbd_tx big = rw_sr;

	big.size = 1ull << 40;
	ck_assert_uint_eq(check(&big, 0, NBD_CMD_READ, 0, MAX), 0);
	ck_assert_uint_eq(check(&big, 0, NBD_CMD_READ, 0, MAX + 1),
			  NBD_EINVAL);
	ck_assert_uint_eq(check(&big, 0, NBD_CMD_WRITE, 0, MAX + 1),
			  NBD_EINVAL);
	ck_assert_uint_eq(check(&big, 0, NBD_CMD_CACHE, 0, MAX + 1),
			  NBD_EINVAL);
	/* No payload: any 32-bit length. */
	ck_assert_uint_eq(check(&big, 0, NBD_CMD_TRIM, 0, UINT32_MAX), 0);
	ck_assert_uint_eq(check(&big, 0, NBD_CMD_WRITE_ZEROES, 0, UINT32_MAX),
			  0);
	ck_assert_uint_eq(check(&big, 0, NBD_CMD_BLOCK_STATUS, 0, UINT32_MAX),
			  0);
}
END_TEST

/* Every flag bit on every command: only the documented ones pass. */
START_TEST(flags_per_command)
{
	for (uint16_t t = 0; t <= NBD_CMD_BLOCK_STATUS; t++) {
		if (t == NBD_CMD_DISC)
			continue;
		for (int bit = 0; bit < 16; bit++) {
			uint16_t f = (uint16_t)(1u << bit);
			int ok = f == NBD_CMD_FLAG_FUA ||
				 (t == NBD_CMD_READ && f == NBD_CMD_FLAG_DF) ||
				 (t == NBD_CMD_WRITE_ZEROES &&
				  (f == NBD_CMD_FLAG_NO_HOLE ||
				   f == NBD_CMD_FLAG_FAST_ZERO)) ||
				 (t == NBD_CMD_BLOCK_STATUS &&
				  f == NBD_CMD_FLAG_REQ_ONE);

			uint32_t len = t == NBD_CMD_FLUSH ? 0 : 1;

			ck_assert_msg(check(&rw_sr, f, t, 0, len) ==
					      (ok ? 0 : NBD_EINVAL),
				      "command %u flag 0x%x", t, f);
		}
	}
}
END_TEST

/* Read-only, simple replies: no FUA, no DF, no writes, no BLOCK_STATUS. */
START_TEST(read_only_export)
{
	ck_assert_uint_eq(check(&ro_simple, 0, NBD_CMD_READ, 0, 10), 0);
	ck_assert_uint_eq(check(&ro_simple, NBD_CMD_FLAG_FUA, NBD_CMD_READ, 0,
				10), NBD_EINVAL);
	ck_assert_uint_eq(check(&ro_simple, NBD_CMD_FLAG_DF, NBD_CMD_READ, 0,
				10), NBD_EINVAL);
	ck_assert_uint_eq(check(&ro_simple, 0, NBD_CMD_WRITE, 0, 10),
			  NBD_EPERM);
	ck_assert_uint_eq(check(&ro_simple, 0, NBD_CMD_TRIM, 0, 10),
			  NBD_EPERM);
	ck_assert_uint_eq(check(&ro_simple, 0, NBD_CMD_WRITE_ZEROES, 0, 10),
			  NBD_EPERM);
	/* EPERM before the range: the export refuses writes at all. */
	ck_assert_uint_eq(check(&ro_simple, 0, NBD_CMD_WRITE, SIZE, 10),
			  NBD_EPERM);
	ck_assert_uint_eq(check(&ro_simple, 0, NBD_CMD_FLUSH, 0, 0), 0);
	ck_assert_uint_eq(check(&ro_simple, 0, NBD_CMD_CACHE, 0, 10), 0);
	ck_assert_uint_eq(check(&ro_simple, 0, NBD_CMD_BLOCK_STATUS, 0, 10),
			  NBD_EINVAL);
	ck_assert_uint_eq(check(&ro_simple, NBD_CMD_FLAG_FAST_ZERO,
				NBD_CMD_WRITE_ZEROES, 0, 10), NBD_EINVAL);
}
END_TEST

START_TEST(other_commands)
{
	struct nbd_tx nometa = rw_sr;

	nometa.meta = 0;
	ck_assert_uint_eq(check(&rw_sr, 0, NBD_CMD_FLUSH, 0, 0), 0);
	ck_assert_uint_eq(check(&rw_sr, 0, NBD_CMD_FLUSH, 1, 0), NBD_EINVAL);
	ck_assert_uint_eq(check(&rw_sr, 0, NBD_CMD_FLUSH, 0, 1), NBD_EINVAL);
	ck_assert_uint_eq(check(&nometa, 0, NBD_CMD_BLOCK_STATUS, 0, 1),
			  NBD_EINVAL);
	for (uint32_t t = NBD_CMD_BLOCK_STATUS + 1; t <= 0xffff; t += 997)
		ck_assert_uint_eq(check(&rw_sr, 0, (uint16_t)t, 0, 0),
				  NBD_EINVAL);
	/* DISC is never refused: there is no reply to refuse it with. */
	ck_assert_uint_eq(check(&rw_sr, 0xffff, NBD_CMD_DISC, 5, 5), 0);
	ck_assert_str_eq(nbd_cmd_name(NBD_CMD_WRITE_ZEROES), "WRITE_ZEROES");
	ck_assert_str_eq(nbd_cmd_name(99), "UNKNOWN");
}
END_TEST

/* ---- the module ---- */

/* A refused WRITE's payload is read and dropped: the next request is
 * understood, and the file is untouched. */
START_TEST(refused_write_drained)
{
	static uint8_t junk[70000];
	uint8_t back[16];

	memset(junk, 0xee, sizeof junk);
	nbdt_go("-r", 0, 0);
	nbdt_send_req(0, NBD_CMD_WRITE, 1, 0, sizeof junk);
	nbdt_send(junk, sizeof junk);
	ck_assert_uint_eq(nbdt_status(1), NBD_EPERM);
	nbdt_send_req(0, NBD_CMD_WRITE, 2, NBDT_SIZE - 8, 16);
	nbdt_send(junk, 16);
	ck_assert_uint_eq(nbdt_status(2), NBD_EPERM);
	nbdt_send_req(0, NBD_CMD_FLUSH, 3, 0, 0);
	ck_assert_uint_eq(nbdt_status(3), 0);
	nbdt_image_get(0, back, sizeof back);
	for (size_t i = 0; i < sizeof back; i++)
		ck_assert_uint_eq(back[i], 0);
}
END_TEST

START_TEST(write_past_end_enospc)
{
	uint8_t data[32];

	memset(data, 1, sizeof data);
	nbdt_go(NULL, 1, 0);
	nbdt_send_req(0, NBD_CMD_WRITE, 1, NBDT_SIZE - 16, sizeof data);
	nbdt_send(data, sizeof data);
	ck_assert_uint_eq(nbdt_status(1), NBD_ENOSPC);
	nbdt_send_req(0, NBD_CMD_WRITE_ZEROES, 2, NBDT_SIZE, 1);
	ck_assert_uint_eq(nbdt_status(2), NBD_ENOSPC);
	nbdt_send_req(0, NBD_CMD_TRIM, 3, NBDT_SIZE, 1);
	ck_assert_uint_eq(nbdt_status(3), NBD_EINVAL);
}
END_TEST

/* A WRITE over the maximum still has its payload drained (it is streamed,
 * never held), so the connection goes on. */
START_TEST(oversized_write_drained)
{
	static uint8_t chunk[1u << 20];
	uint32_t len = NBD_PAYLOAD_MAX + 1;

	nbdt_image(1ull << 30);
	nbdt_go(NULL, 0, 0);
	nbdt_send_req(0, NBD_CMD_WRITE, 1, 0, len);
	for (uint32_t sent = 0; sent < len; sent += sizeof chunk) {
		uint32_t k = len - sent < sizeof chunk ? len - sent :
			     (uint32_t)sizeof chunk;

		nbdt_send(chunk, k);
		ck_assert_int_eq(nbdt_input(), 0);
	}
	ck_assert_uint_eq(nbdt_status(1), NBD_EINVAL);
	nbdt_send_req(0, NBD_CMD_FLUSH, 2, 0, 0);
	ck_assert_uint_eq(nbdt_status(2), 0);
}
END_TEST

START_TEST(unknown_command_and_flags)
{
	nbdt_go(NULL, 1, 1);
	nbdt_send_req(0, 42, 1, 0, 0);
	ck_assert_uint_eq(nbdt_status(1), NBD_EINVAL);
	nbdt_send_req(0x8000, NBD_CMD_FLUSH, 2, 0, 0);
	ck_assert_uint_eq(nbdt_status(2), NBD_EINVAL);
	nbdt_send_req(NBD_CMD_FLAG_REQ_ONE, NBD_CMD_READ, 3, 0, 1);
	ck_assert_uint_eq(nbdt_status(3), NBD_EINVAL);
	nbdt_send_req(0, NBD_CMD_READ, 4, NBDT_SIZE, 1);
	ck_assert_uint_eq(nbdt_status(4), NBD_EINVAL);
	nbdt_send_req(0, NBD_CMD_CACHE, 5, 0, NBDT_SIZE);
	ck_assert_uint_eq(nbdt_status(5), 0);
}
END_TEST

START_TEST(bad_request_magic_closes)
{
	uint8_t b[NBD_REQUEST_LEN];

	nbdt_go(NULL, 0, 0);
	memset(b, 0x25, sizeof b);
	nbdt_send(b, sizeof b);
	ck_assert_int_eq(nbdt_input(), EXIT_PERM);
}
END_TEST

/* DISC ends the session after everything before it is answered; what
 * follows it is never read. */
START_TEST(disc_after_requests)
{
	struct nbdt_reply r;

	nbdt_go(NULL, 0, 0);
	nbdt_send_req(0, NBD_CMD_FLUSH, 1, 0, 0);
	nbdt_send_req(0, NBD_CMD_DISC, 2, 0, 0);
	nbdt_send_req(0, NBD_CMD_FLUSH, 3, 0, 0);
	ck_assert_int_eq(nbdt_input(), SESSION_DONE);
	ck_assert(nbdt_next_reply(&r, 0));
	ck_assert_uint_eq(r.handle, 1);
	ck_assert(!nbdt_next_reply(&r, 0));
}
END_TEST

START_TEST(eof_mid_write)
{
	nbdt_go(NULL, 0, 0);
	nbdt_send_req(0, NBD_CMD_WRITE, 1, 0, 4096);
	nbdt_send("abc", 3);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(!nbdt_idle());
	nbdt.s.in_eof = 1;
	ck_assert_int_eq(nbdt_input(), EXIT_TEMP);
}
END_TEST

START_TEST(eof_mid_header)
{
	nbdt_go(NULL, 0, 0);
	nbdt_send("\x25\x60", 2);
	ck_assert_int_eq(nbdt_input(), 0);
	nbdt.s.in_eof = 1;
	ck_assert_int_eq(nbdt_input(), EXIT_TEMP);
}
END_TEST

START_TEST(eof_between_requests)
{
	nbdt_go(NULL, 0, 0);
	nbdt_send_req(0, NBD_CMD_FLUSH, 1, 0, 0);
	ck_assert_uint_eq(nbdt_status(1), 0);
	nbdt.s.in_eof = 1;
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_idle());
}
END_TEST

/* A request is not read while s->out lacks room for its reply. */
START_TEST(request_waits_for_room)
{
	static uint8_t fill[SESSION_BUF_BASE + 65536];

	nbdt_go(NULL, 0, 0);
	buf_append(&nbdt.s.out, fill,
		   buf_room(&nbdt.s.out) - NBD_REPLY_RESERVE + 1);
	nbdt_send_req(0, NBD_CMD_FLUSH, 1, 0, 0);
	ck_assert_int_eq(proto_nbd.input(&nbdt.s, nbdt.st), 0);
	ck_assert_uint_eq(buf_len(&nbdt.s.in), NBD_REQUEST_LEN);
	buf_clear(&nbdt.s.out);
	ck_assert_uint_eq(nbdt_status(1), 0);
}
END_TEST

static Suite *nbd_request_suite(void)
{
	Suite *s = suite_create("nbd_request");
	TCase *tc;

	tc = tcase_create("pure");
	tcase_add_test(tc, decode);
	tcase_add_test(tc, ranges);
	tcase_add_test(tc, max_block_size);
	tcase_add_test(tc, flags_per_command);
	tcase_add_test(tc, read_only_export);
	tcase_add_test(tc, other_commands);
	suite_add_tcase(s, tc);

	tc = nbdt_tcase("module");
	tcase_add_test(tc, refused_write_drained);
	tcase_add_test(tc, write_past_end_enospc);
	tcase_add_test(tc, oversized_write_drained);
	tcase_add_test(tc, unknown_command_and_flags);
	tcase_add_test(tc, bad_request_magic_closes);
	tcase_add_test(tc, disc_after_requests);
	tcase_add_test(tc, eof_mid_write);
	tcase_add_test(tc, eof_mid_header);
	tcase_add_test(tc, eof_between_requests);
	tcase_add_test(tc, request_waits_for_room);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nbdt_run(nbd_request_suite());
}
