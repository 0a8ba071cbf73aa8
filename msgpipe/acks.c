#include "acks.h"

#include <string.h>

void rangeset_init(struct rangeset *s)
{
	memset(s, 0, sizeof *s);
}

/* Folds leading ranges that now touch contig into it. */
static void absorb(struct rangeset *s)
{
	size_t k = 0;

	while (k < s->n && s->r[k].start <= s->contig) {
		if (s->r[k].stop > s->contig)
			s->contig = s->r[k].stop;
		k++;
	}
	if (k) {
		memmove(s->r, s->r + k, (s->n - k) * sizeof s->r[0]);
		s->n -= k;
	}
}

int rangeset_has(const struct rangeset *s, uint64_t start, uint64_t stop)
{
	if (stop <= s->contig)
		return 1;
	for (size_t i = 0; i < s->n; i++)
		if (s->r[i].start <= start && stop <= s->r[i].stop)
			return 1;
	return 0;
}

int rangeset_add(struct rangeset *s, uint64_t start, uint64_t stop)
{
	size_t i, j;

	if (start < s->contig)
		start = s->contig;
	if (stop <= start)
		return 0;
	if (rangeset_has(s, start, stop))
		return 0;
	if (start == s->contig) {
		s->contig = stop;
		absorb(s);
		return 1;
	}
	/* i: first range ending at or after start (may merge). */
	for (i = 0; i < s->n && s->r[i].stop < start; i++)
		;
	/* j: first range starting after stop (cannot merge). */
	for (j = i; j < s->n && s->r[j].start <= stop; j++)
		;
	if (i == j) {
		if (s->n == RANGESET_MAX)
			return -1;
		memmove(s->r + i + 1, s->r + i, (s->n - i) * sizeof s->r[0]);
		s->r[i].start = start;
		s->r[i].stop = stop;
		s->n++;
		return 1;
	}
	/* Ranges i..j-1 overlap or touch [start, stop): merge into i. */
	if (s->r[i].start < start)
		start = s->r[i].start;
	if (s->r[j - 1].stop > stop)
		stop = s->r[j - 1].stop;
	s->r[i].start = start;
	s->r[i].stop = stop;
	memmove(s->r + i + 1, s->r + j, (s->n - j) * sizeof s->r[0]);
	s->n -= j - i - 1;
	return 1;
}

void acks_fill(struct msg *m, uint64_t first, const struct rangeset *s)
{
	uint64_t at = first;
	size_t slot = 0;

	m->range1 = first;
	m->gap1 = 0;
	memset(m->range, 0, sizeof m->range);
	memset(m->gap, 0, sizeof m->gap);
	for (size_t i = 0; i < s->n && slot < 5; i++) {
		uint64_t start = s->r[i].start, stop = s->r[i].stop;
		uint64_t gap;

		if (stop <= at)
			continue;
		if (start < at)
			start = at;
		gap = start - at;
		if (slot == 0 ? gap > UINT32_MAX : gap > UINT16_MAX)
			break;
		while (start < stop && slot < 5) {
			uint64_t len = stop - start;

			if (len > UINT16_MAX)
				len = UINT16_MAX;
			if (slot == 0)
				m->gap1 = (uint32_t)gap;
			else
				m->gap[slot - 1] = (uint16_t)gap;
			m->range[slot++] = (uint16_t)len;
			start += len;
			gap = 0;
		}
		at = start;
	}
}

size_t acks_ranges(const struct msg *m, struct range out[ACKS_MAX_RANGES])
{
	uint64_t at = m->range1;
	size_t n = 0;

	if (m->range1) {
		out[n].start = 0;
		out[n++].stop = m->range1;
	}
	at += m->gap1;
	for (int i = 0; i < 5; i++) {
		if (i > 0)
			at += m->gap[i - 1];
		if (m->range[i]) {
			/* Ranges split only by the u16 field size (zero gap)
			 * are one range: a block across the split is acked. */
			if (n && out[n - 1].stop == at)
				out[n - 1].stop = at + m->range[i];
			else {
				out[n].start = at;
				out[n++].stop = at + m->range[i];
			}
		}
		at += m->range[i];
	}
	return n;
}
