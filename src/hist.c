/* hist: see hist.h. */
#include "hist.h"

#include <math.h>

/* ---- histogram ---------------------------------------------------------------- */

void cb_hist_merge(struct cb_hist *into, const struct cb_hist *from)
{
	for (unsigned i = 0; i < CB_HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t cb_hist_quantile(const struct cb_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	/* The smallest value with at least ceil(q * count) samples at or below it. */
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < CB_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t lo, width, mid;

			if (i < (2u << CB_HIST_SUB_BITS))
				return i;
			unsigned shift = (i >> CB_HIST_SUB_BITS) - 1;
			lo = (uint64_t)(i - (shift << CB_HIST_SUB_BITS)) << shift;
			width = 1ull << shift;
			mid = lo + width / 2;
			return mid < h->max ? mid : h->max;
		}
	}
	return h->max;
}
