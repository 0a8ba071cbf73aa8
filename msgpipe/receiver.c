#include "receiver.h"

#include <string.h>

int receiver_init(struct receiver *r, size_t bufsize)
{
	memset(r, 0, sizeof *r);
	rangeset_init(&r->got);
	return recvq_init(&r->q, bufsize);
}

void receiver_free(struct receiver *r)
{
	recvq_free(&r->q);
}

uint64_t receiver_ack_first(const struct receiver *r)
{
	if (r->eof != MSG_EOF_NONE && r->got.contig == r->eof_pos)
		return r->eof_pos + 1;
	return r->got.contig;
}

static void skip_consumed(struct receiver *r)
{
	if (r->discard && r->q.base < r->got.contig)
		r->q.base = r->got.contig;
}

void receiver_discard(struct receiver *r)
{
	r->discard = 1;
	skip_consumed(r);
}

void receiver_consumed(struct receiver *r, size_t n)
{
	recvq_consume(&r->q, n);
}

int receiver_finished(const struct receiver *r)
{
	return r->eof != MSG_EOF_NONE && r->q.base == r->eof_pos &&
	       r->got.contig == r->eof_pos;
}

/* The EOF fields of m must agree with everything seen so far. */
static int eof_consistent(const struct receiver *r, const struct msg *m)
{
	uint64_t end = m->pos + m->len;

	if (r->eof != MSG_EOF_NONE) {
		if (end > r->eof_pos)
			return 0;
		if (m->eof != MSG_EOF_NONE &&
		    (m->eof != r->eof || end != r->eof_pos))
			return 0;
		return 1;
	}
	if (m->eof == MSG_EOF_NONE)
		return 1;
	/* Bytes already held beyond this EOF would contradict it. */
	if (r->got.contig > end)
		return 0;
	return r->got.n == 0 || r->got.r[r->got.n - 1].stop <= end;
}

enum recv_result receiver_on_data(struct receiver *r, const struct msg *m)
{
	uint64_t start = m->pos, stop = m->pos + m->len;
	uint64_t limit = recvq_limit(&r->q);
	int res = 0, new_eof = 0;

	if (!eof_consistent(r, m))
		return RECV_BAD;
	if (m->eof != MSG_EOF_NONE && r->eof == MSG_EOF_NONE) {
		r->eof = m->eof;
		r->eof_pos = stop;
		new_eof = 1;
	}
	if (start < r->got.contig)
		start = r->got.contig;
	if (stop > limit)
		stop = limit;
	if (start < stop) {
		/* Add first: a refused range must not be stored. */
		res = rangeset_add(&r->got, start, stop);
		if (res > 0) {
			recvq_store(&r->q, start, m->data + (start - m->pos),
				    (size_t)(stop - start));
			r->bytes += stop - start;
		}
	}
	skip_consumed(r);
	if (res < 0 || (m->pos + m->len > limit && !new_eof && res == 0)) {
		r->dropped++;
		return RECV_DROPPED;
	}
	if (res > 0 || new_eof)
		return RECV_NEW;
	r->dups++;
	return RECV_DUP;
}
