/*
 * The nbd module's negotiation: client flags, every option with a wrong
 * length, names at and over the limit, oversized and too many options,
 * STARTTLS, ABORT, unknown options, the deadline. The harness is in
 * support_nbd.c.
 */
#include <check.h>
#include <string.h>

#include "bytes.h"
#include "clock.h"
#include "exitcode.h"
#include "support_nbd.h"

#define FLAGS (NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)

static uint8_t big[NBD_OPT_DRAIN_MAX + 64];

START_TEST(usage_errors)
{
	ck_assert_int_eq(nbdt_start(NULL, NULL), EXIT_PERM);
	ck_assert_int_eq(nbdt_start("-x", nbdt.img), EXIT_PERM);
	ck_assert_int_eq(nbdt_start(nbdt.img, nbdt.img), EXIT_PERM);
	ck_assert_int_eq(nbdt_start("/nonexistent/disk", NULL), EXIT_PERM);
	ck_assert_int_eq(nbdt_start(nbdt.tmp, NULL), EXIT_PERM);
	ck_assert_int_eq(nbdt_start("-r", nbdt.img), 0);
}
END_TEST

START_TEST(client_flags_unknown_bits)
{
	nbdt_start_flags(NULL, FLAGS | 0x4);
	ck_assert_int_eq(nbdt_input(), EXIT_PERM);
}
END_TEST

START_TEST(client_flags_not_fixed)
{
	nbdt_start_flags(NULL, NBD_FLAG_C_NO_ZEROES);
	ck_assert_int_eq(nbdt_input(), EXIT_PERM);
}
END_TEST

START_TEST(client_flags_cut)
{
	ck_assert_int_eq(nbdt_start(nbdt.img, NULL), 0);
	nbdt_send("\0\0", 2);
	ck_assert_int_eq(nbdt_input(), 0);
	nbdt.s.in_eof = 1;
	ck_assert_int_eq(nbdt_input(), EXIT_TEMP);
}
END_TEST

START_TEST(eof_between_options_is_clean)
{
	nbdt_start_flags(NULL, FLAGS);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_LIST, NULL, 0, NULL),
			  NBD_REP_ACK);
	nbdt.s.in_eof = 1;
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_idle());
}
END_TEST

START_TEST(eof_inside_option)
{
	uint8_t h[NBD_OPT_HDR_LEN];

	nbdt_start_flags(NULL, FLAGS);
	be64_put(h, NBD_IHAVEOPT);
	be32_put(h + 8, NBD_OPT_GO);
	be32_put(h + 12, 10);
	nbdt_send(h, sizeof h);
	nbdt_send("\0\0", 2);
	ck_assert_int_eq(nbdt_input(), 0);
	nbdt.s.in_eof = 1;
	ck_assert_int_eq(nbdt_input(), EXIT_TEMP);
}
END_TEST

START_TEST(bad_option_magic)
{
	uint8_t h[NBD_OPT_HDR_LEN] = "NOTAMAGC";

	nbdt_start_flags(NULL, FLAGS);
	nbdt_send(h, sizeof h);
	ck_assert_int_eq(nbdt_input(), EXIT_PERM);
}
END_TEST

/* Options that take no data refuse any. */
START_TEST(no_data_options)
{
	static const uint32_t opts[] = { NBD_OPT_LIST, NBD_OPT_STARTTLS,
					 NBD_OPT_STRUCTURED_REPLY };

	nbdt_start_flags(NULL, FLAGS);
	for (size_t i = 0; i < 3; i++)
		for (uint32_t len = 1; len < 9; len += 7)
			ck_assert_uint_eq(nbdt_option(opts[i], "12345678", len,
						      NULL),
					  NBD_REP_ERR_INVALID);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_LIST, NULL, 0, NULL),
			  NBD_REP_ACK);
}
END_TEST

START_TEST(starttls_refused_by_policy)
{
	struct nbdt_optrep r;

	nbdt_start_flags(NULL, FLAGS);
	nbdt_send_opt(NBD_OPT_STARTTLS, NULL, 0);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(nbdt_next_optrep(&r));
	ck_assert_uint_eq(r.type, NBD_REP_ERR_POLICY);
	ck_assert(r.len > 0 && memmem(r.data, r.len, "secure layer", 12));
	/* The connection goes on without TLS. */
	ck_assert_uint_eq(nbdt_option(NBD_OPT_STRUCTURED_REPLY, NULL, 0, NULL),
			  NBD_REP_ACK);
}
END_TEST

/* INFO and GO: every cut of a well-formed request, and inconsistent
 * name and item counts, are INVALID; the connection stays usable. */
START_TEST(info_go_lengths)
{
	static const uint16_t infos[] = { NBD_INFO_NAME, NBD_INFO_BLOCK_SIZE };
	uint32_t opts[] = { NBD_OPT_INFO, NBD_OPT_GO };
	uint8_t b[64];
	size_t n;

	nbdt_start_flags(NULL, FLAGS);
	n = nbdt_info_data(b, sizeof b, "disk.img", infos, 2);
	for (size_t o = 0; o < 2; o++) {
		for (size_t cut = 0; cut < n; cut++)
			ck_assert_uint_eq(nbdt_option(opts[o], b,
						      (uint32_t)cut, NULL),
					  NBD_REP_ERR_INVALID);
		/* One byte too many, and a name length beyond the data. */
		b[n] = 0;
		ck_assert_uint_eq(nbdt_option(opts[o], b, (uint32_t)n + 1,
					      NULL), NBD_REP_ERR_INVALID);
		be32_put(b, 200);
		ck_assert_uint_eq(nbdt_option(opts[o], b, (uint32_t)n, NULL),
				  NBD_REP_ERR_INVALID);
		be32_put(b, 8);
		/* Item count too large for the data. */
		be16_put(b + 12, 3);
		ck_assert_uint_eq(nbdt_option(opts[o], b, (uint32_t)n, NULL),
				  NBD_REP_ERR_INVALID);
		be16_put(b + 12, 2);
	}
	ck_assert_uint_eq(nbdt_option(NBD_OPT_INFO, b, (uint32_t)n, NULL),
			  NBD_REP_ACK);
}
END_TEST

START_TEST(meta_lengths)
{
	static const char *const q[] = { "base:allocation", "x-y:z" };
	uint32_t opts[] = { NBD_OPT_LIST_META_CONTEXT,
			    NBD_OPT_SET_META_CONTEXT };
	uint8_t b[128];
	size_t n;

	nbdt_start_flags(NULL, FLAGS);
	n = nbdt_meta_data(b, sizeof b, "", q, 2);
	/* Without structured replies first: INVALID, whatever the data. */
	ck_assert_uint_eq(nbdt_option(opts[1], b, (uint32_t)n, NULL),
			  NBD_REP_ERR_INVALID);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_STRUCTURED_REPLY, NULL, 0, NULL),
			  NBD_REP_ACK);
	for (size_t o = 0; o < 2; o++) {
		for (size_t cut = 0; cut < n; cut++)
			ck_assert_uint_eq(nbdt_option(opts[o], b,
						      (uint32_t)cut, NULL),
					  NBD_REP_ERR_INVALID);
		b[n] = 'x';
		ck_assert_uint_eq(nbdt_option(opts[o], b, (uint32_t)n + 1,
					      NULL), NBD_REP_ERR_INVALID);
		/* More queries announced than present. */
		be32_put(b + 4, 3);
		ck_assert_uint_eq(nbdt_option(opts[o], b, (uint32_t)n, NULL),
				  NBD_REP_ERR_INVALID);
		be32_put(b + 4, 2);
	}
	ck_assert_uint_eq(nbdt_option(opts[1], b, (uint32_t)n, NULL),
			  NBD_REP_ACK);
}
END_TEST

/* A name of exactly NBD_NAME_MAX bytes is a name (unknown here); one
 * byte more is invalid; a NUL inside is invalid. */
START_TEST(names_at_and_over_the_limit)
{
	static uint8_t b[NBD_NAME_MAX + 16];
	struct wr w;

	nbdt_start_flags(NULL, FLAGS);
	for (uint32_t len = NBD_NAME_MAX; len <= NBD_NAME_MAX + 1; len++) {
		wr_init(&w, b, sizeof b);
		wr_be32(&w, len);
		memset(b + 4, 'a', len);
		w.len += len;
		wr_be16(&w, 0);
		ck_assert(wr_ok(&w));
		ck_assert_uint_eq(nbdt_option(NBD_OPT_INFO, b, (uint32_t)w.len,
					      NULL),
				  len == NBD_NAME_MAX ? NBD_REP_ERR_UNKNOWN :
							NBD_REP_ERR_INVALID);
	}
	wr_init(&w, b, sizeof b);
	wr_string(&w, "disk\0img", 8);
	wr_be16(&w, 0);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_GO, b, (uint32_t)w.len, NULL),
			  NBD_REP_ERR_INVALID);
}
END_TEST

START_TEST(export_name_too_long_closes)
{
	nbdt_start_flags(NULL, FLAGS);
	memset(big, 'a', NBD_NAME_MAX + 1);
	nbdt_send_opt(NBD_OPT_EXPORT_NAME, big, NBD_NAME_MAX + 1);
	ck_assert_int_eq(nbdt_input(), EXIT_PERM);
}
END_TEST

START_TEST(export_name_unknown_closes)
{
	nbdt_start_flags(NULL, FLAGS);
	nbdt_send_opt(NBD_OPT_EXPORT_NAME, "nope", 4);
	ck_assert_int_eq(nbdt_input(), EXIT_PERM);
}
END_TEST

/* Over NBD_OPT_DATA_MAX: skipped without being kept, answered TOO_BIG,
 * and the next option works. Over NBD_OPT_DRAIN_MAX: closed. */
START_TEST(oversized_option_drained)
{
	uint32_t len = NBD_OPT_DATA_MAX + 1;
	struct nbdt_optrep r;

	nbdt_start_flags(NULL, FLAGS);
	nbdt_send_opt(NBD_OPT_SET_META_CONTEXT, NULL, 0);
	/* The header alone: the module must not wait for the data whole. */
	be32_put(nbdt.s.in.data + nbdt.s.in.end - 4, len);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(!nbdt_next_optrep(&r));
	for (uint32_t sent = 0; sent < len; sent += 4096) {
		uint32_t k = len - sent < 4096 ? len - sent : 4096;

		nbdt_send(big, k);
		ck_assert_int_eq(nbdt_input(), 0);
		ck_assert_uint_eq(buf_len(&nbdt.s.in), 0);
	}
	ck_assert(nbdt_next_optrep(&r));
	ck_assert_uint_eq(r.type, NBD_REP_ERR_TOO_BIG);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_LIST, NULL, 0, NULL),
			  NBD_REP_ACK);
}
END_TEST

START_TEST(huge_option_closes)
{
	uint8_t h[NBD_OPT_HDR_LEN];

	nbdt_start_flags(NULL, FLAGS);
	be64_put(h, NBD_IHAVEOPT);
	be32_put(h + 8, NBD_OPT_INFO);
	be32_put(h + 12, NBD_OPT_DRAIN_MAX + 1);
	nbdt_send(h, sizeof h);
	ck_assert_int_eq(nbdt_input(), EXIT_PERM);
}
END_TEST

START_TEST(too_many_options)
{
	nbdt_start_flags(NULL, FLAGS);
	for (unsigned i = 0; i < NBD_OPTIONS_MAX; i++)
		ck_assert_uint_eq(nbdt_option(NBD_OPT_PEEK_EXPORT, NULL, 0,
					      NULL), NBD_REP_ERR_UNSUP);
	nbdt_send_opt(NBD_OPT_LIST, NULL, 0);
	ck_assert_int_eq(nbdt_input(), EXIT_PERM);
}
END_TEST

START_TEST(unknown_options_unsupported)
{
	static const uint32_t opts[] = { NBD_OPT_PEEK_EXPORT,
					 NBD_OPT_EXTENDED_HEADERS, 12, 99,
					 0x80000000u, 0 };

	nbdt_start_flags(NULL, FLAGS);
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		ck_assert_uint_eq(nbdt_option(opts[i], "data", 4, NULL),
				  NBD_REP_ERR_UNSUP);
	ck_assert_uint_eq(nbdt_option(NBD_OPT_LIST, NULL, 0, NULL),
			  NBD_REP_ACK);
}
END_TEST

/* ABORT ends quietly when the client hangs up; a client that stays gets
 * its ACK when the grace time is over. Data with ABORT is ignored. */
START_TEST(abort_then_hang_up)
{
	struct nbdt_optrep r;

	nbdt_start_flags(NULL, FLAGS);
	nbdt_send_opt(NBD_OPT_ABORT, "xy", 2);
	ck_assert_int_eq(nbdt_input(), 0);
	ck_assert(!nbdt_next_optrep(&r));
	nbdt.s.in_eof = 1;
	ck_assert_int_eq(nbdt_input(), SESSION_DONE);
}
END_TEST

START_TEST(abort_acked_after_grace)
{
	struct nbdt_optrep r;
	uint64_t at;

	nbdt_start_flags(NULL, FLAGS);
	nbdt_send_opt(NBD_OPT_ABORT, NULL, 0);
	ck_assert_int_eq(nbdt_input(), 0);
	at = proto_nbd.deadline(&nbdt.s, nbdt.st);
	ck_assert_uint_gt(at, 0);
	ck_assert_int_eq(proto_nbd.timeout(&nbdt.s, nbdt.st, at - 1), 0);
	ck_assert_int_eq(proto_nbd.timeout(&nbdt.s, nbdt.st, at),
			 SESSION_DONE);
	nbdt_collect();
	ck_assert(nbdt_next_optrep(&r));
	ck_assert_uint_eq(r.opt, NBD_OPT_ABORT);
	ck_assert_uint_eq(r.type, NBD_REP_ACK);
}
END_TEST

START_TEST(negotiation_deadline)
{
	uint64_t at;

	nbdt_start_flags(NULL, FLAGS);
	ck_assert_int_eq(nbdt_input(), 0);
	at = proto_nbd.deadline(&nbdt.s, nbdt.st);
	ck_assert_uint_gt(at, clock_now());
	ck_assert_int_eq(proto_nbd.timeout(&nbdt.s, nbdt.st, at - 1), 0);
	ck_assert_int_eq(proto_nbd.timeout(&nbdt.s, nbdt.st, at), EXIT_TEMP);
}
END_TEST

START_TEST(no_deadline_in_transmission)
{
	nbdt_go(NULL, 0, 0);
	ck_assert_uint_eq(proto_nbd.deadline(&nbdt.s, nbdt.st), 0);
}
END_TEST

/* Replies wait for room: with s->out nearly full, the option stays in
 * s->in untouched until the core drains. */
START_TEST(option_waits_for_room)
{
	static uint8_t fill[SESSION_BUF_BASE + 65536];
	size_t room;

	nbdt_start_flags(NULL, FLAGS);
	ck_assert_int_eq(nbdt_input(), 0);
	room = buf_room(&nbdt.s.out);
	buf_append(&nbdt.s.out, fill, room - 100);
	nbdt_send_opt(NBD_OPT_LIST, NULL, 0);
	ck_assert_int_eq(proto_nbd.input(&nbdt.s, nbdt.st), 0);
	ck_assert_uint_eq(buf_len(&nbdt.s.in), NBD_OPT_HDR_LEN);
	buf_clear(&nbdt.s.out);
	ck_assert_int_eq(proto_nbd.input(&nbdt.s, nbdt.st), 0);
	ck_assert_uint_eq(buf_len(&nbdt.s.in), 0);
}
END_TEST

static Suite *nbd_option_suite(void)
{
	Suite *s = suite_create("nbd_option");
	TCase *tc;

	tc = nbdt_tcase("handshake");
	tcase_add_test(tc, usage_errors);
	tcase_add_test(tc, client_flags_unknown_bits);
	tcase_add_test(tc, client_flags_not_fixed);
	tcase_add_test(tc, client_flags_cut);
	tcase_add_test(tc, eof_between_options_is_clean);
	tcase_add_test(tc, eof_inside_option);
	tcase_add_test(tc, bad_option_magic);
	tcase_add_test(tc, negotiation_deadline);
	tcase_add_test(tc, no_deadline_in_transmission);
	tcase_add_test(tc, option_waits_for_room);
	suite_add_tcase(s, tc);

	tc = nbdt_tcase("lengths");
	tcase_add_test(tc, no_data_options);
	tcase_add_test(tc, starttls_refused_by_policy);
	tcase_add_test(tc, info_go_lengths);
	tcase_add_test(tc, meta_lengths);
	tcase_add_test(tc, names_at_and_over_the_limit);
	tcase_add_test(tc, export_name_too_long_closes);
	tcase_add_test(tc, export_name_unknown_closes);
	tcase_add_test(tc, oversized_option_drained);
	tcase_add_test(tc, huge_option_closes);
	tcase_add_test(tc, too_many_options);
	tcase_add_test(tc, unknown_options_unsupported);
	tcase_add_test(tc, abort_then_hang_up);
	tcase_add_test(tc, abort_acked_after_grace);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nbdt_run(nbd_option_suite());
}
