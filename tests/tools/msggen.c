/*
 * msggen: hostile input for a message handler's fd 8, on stdout.
 *
 *   msggen KIND [seed]
 *
 * KIND: hello (one valid 6-byte data message, a client's first), random (64 KB of noise), randmsg (well-framed messages with random
 * bodies), len0 (a length byte 0 after a valid message), len69 (length
 * bytes 69..255), trunc (a 68-block message cut short), short (16- and
 * 32-byte messages, shorter than the 48-byte header), fields (framed
 * messages with impossible fields: data longer than the message or than
 * 1024, both EOF flags, positions near 2^64, acknowledgements of bytes
 * never sent, gap lengths that overflow), pasteof (100 bytes ending in a
 * success EOF, then data after and across that EOF: a peer contradicting
 * its own stream, which must end the connection).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "fdutil.h"
#include "log.h"
#include "wire.h"

#define BLOCK 16
#define MAX_BLOCKS 68
#define FLAG_SUCCESS 2048
#define FLAG_FAILURE 4096

struct gen {
	uint64_t rng;
	uint8_t out[1 << 17];
	struct wr w;
};

struct fields {
	uint32_t id, acked;
	uint64_t range1;
	uint32_t gap1;
	uint16_t r[5];     /* range2..range6 and the gaps between, paired */
	uint16_t gaps[4];
	uint16_t dflags;
	uint64_t pos;
	size_t datalen;    /* bytes of data actually placed at the end */
};

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

/* One framed message of `blocks` blocks with the given header. */
static void put_msg(struct gen *g, unsigned blocks, const struct fields *f)
{
	size_t len = (size_t)blocks * BLOCK;
	size_t pad = len >= 48 + f->datalen ? len - 48 - f->datalen : 0;
	uint8_t *body;
	struct wr h;

	wr_u8(&g->w, (uint8_t)blocks);
	body = wr_reserve(&g->w, len);
	if (!body)
		return;
	memset(body, 0, len);
	if (len < 48) /* too short for a header: noise */
		return;
	wr_init(&h, body, len);
	wr_le32(&h, f->id);
	wr_le32(&h, f->acked);
	wr_le64(&h, f->range1);
	wr_le32(&h, f->gap1);
	wr_le16(&h, f->r[0]);
	for (int i = 0; i < 4; i++) {
		wr_le16(&h, f->gaps[i]);
		wr_le16(&h, f->r[i + 1]);
	}
	wr_le16(&h, f->dflags);
	wr_le64(&h, f->pos);
	wr_zero(&h, pad);
	for (size_t i = 0; i < f->datalen && wr_room(&h); i++)
		wr_u8(&h, (uint8_t)('a' + i % 26));
}

static void put_data(struct gen *g, uint32_t id, uint64_t pos, size_t n,
		     uint16_t flags)
{
	struct fields f = { .id = id, .dflags = (uint16_t)(n | flags),
			    .pos = pos, .datalen = n };

	put_msg(g, (unsigned)((48 + n + BLOCK - 1) / BLOCK), &f);
}

static void gen_random(struct gen *g)
{
	for (size_t i = 0; i < 65536; i++)
		wr_u8(&g->w, (uint8_t)rnd(g));
}

static void gen_randmsg(struct gen *g)
{
	for (int m = 0; m < 100; m++) {
		unsigned n = 1 + (unsigned)(rnd(g) % MAX_BLOCKS);

		wr_u8(&g->w, (uint8_t)n);
		for (unsigned i = 0; i < n * BLOCK; i++)
			wr_u8(&g->w, (uint8_t)rnd(g));
	}
}

static void gen_fields(struct gen *g)
{
	struct fields f = { 0 };

	put_data(g, 1, 0, 100, 0);
	/* D says 1024 bytes in a 4-block message. */
	f = (struct fields){ .id = 2, .dflags = 1024, .pos = 100 };
	put_msg(g, 4, &f);
	/* D above the 1024 limit. */
	f = (struct fields){ .id = 3, .dflags = 2047, .pos = 100, .datalen = 1000 };
	put_msg(g, MAX_BLOCKS, &f);
	/* Both EOF flags at once, and EOF flags on a data-less ack. */
	put_data(g, 4, 100, 10, FLAG_SUCCESS | FLAG_FAILURE);
	f = (struct fields){ .id = 0, .dflags = FLAG_SUCCESS, .pos = 7 };
	put_msg(g, 3, &f);
	/* Position plus length wraps around 2^64. */
	put_data(g, 5, UINT64_MAX - 10, 512, 0);
	put_data(g, 6, (uint64_t)1 << 62, 512, 0);
	/* Acknowledgements of bytes never sent; gaps that overflow. */
	f = (struct fields){ .id = 7, .acked = 0xffffffffu,
			     .range1 = UINT64_MAX, .gap1 = 0xffffffffu,
			     .r = { 0xffff, 0xffff, 0xffff, 0xffff, 0xffff },
			     .gaps = { 0xffff, 0xffff, 0xffff, 0xffff } };
	put_msg(g, 3, &f);
	f.range1 = 1 << 20;
	f.gap1 = 1;
	put_msg(g, 3, &f);
	/* A zero-length data message far ahead, then valid data again. */
	put_data(g, 8, 1 << 30, 0, 0);
	put_data(g, 9, 100, 100, FLAG_SUCCESS);
}

static void gen_kind(struct gen *g, const char *kind)
{
	if (!strcmp(kind, "random")) {
		gen_random(g);
	} else if (!strcmp(kind, "randmsg")) {
		gen_randmsg(g);
	} else if (!strcmp(kind, "fields")) {
		gen_fields(g);
	} else if (!strcmp(kind, "len0")) {
		put_data(g, 1, 0, 100, 0);
		wr_u8(&g->w, 0);
		put_data(g, 2, 100, 100, 0);
	} else if (!strcmp(kind, "len69")) {
		put_data(g, 1, 0, 100, 0);
		for (unsigned n = 69; n < 256; n++)
			wr_u8(&g->w, (uint8_t)n);
	} else if (!strcmp(kind, "trunc")) {
		put_data(g, 1, 0, 100, 0);
		wr_u8(&g->w, MAX_BLOCKS);
		wr_zero(&g->w, 100);
	} else if (!strcmp(kind, "pasteof")) {
		put_data(g, 1, 0, 100, FLAG_SUCCESS);
		put_data(g, 2, 100, 50, 0);
		put_data(g, 3, 90, 20, 0);
	} else if (!strcmp(kind, "hello")) {
		put_data(g, 1, 0, 6, 0);
	} else if (!strcmp(kind, "short")) {
		struct fields f = { 0 };

		put_msg(g, 1, &f);
		put_msg(g, 2, &f);
		put_data(g, 1, 0, 10, 0);
	} else {
		log_die(EXIT_PERM, "unknown kind %s", kind);
	}
}

int main(int argc, char **argv)
{
	static struct gen g;

	log_init("msggen");
	if (argc < 2 || argc > 3)
		log_die(EXIT_PERM, "usage: msggen KIND [seed]");
	g.rng = argc == 3 ? strtoull(argv[2], NULL, 0) | 1 : 88172645463325252ULL;
	wr_init(&g.w, g.out, sizeof g.out);
	gen_kind(&g, argv[1]);
	if (!wr_ok(&g.w))
		log_die(EXIT_TEMP, "output buffer too small");
	if (fd_write_all(1, g.out, g.w.len) < 0)
		log_die_sys(EXIT_TEMP, "write");
	return 0;
}
