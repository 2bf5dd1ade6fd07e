/*
 * hist: the latency histogram. Log-linear buckets (64 per power of two), a
 * fixed size, no allocation, so a receive loop can record every message and
 * threads merge theirs after join. Quantiles come back as bucket midpoints.
 */
#ifndef COPYBENCH_HIST_H
#define COPYBENCH_HIST_H

#include <stdint.h>

/* ---- latency histogram: log-linear, <1.6% relative error, fixed size -- */
#define CB_HIST_SUB_BITS 6
#define CB_HIST_BUCKETS  ((64 - CB_HIST_SUB_BITS) * (1 << CB_HIST_SUB_BITS) + (1 << CB_HIST_SUB_BITS))
struct cb_hist {
	uint64_t count;
	uint64_t max;
	uint64_t bucket[CB_HIST_BUCKETS];
};
static inline unsigned cb_hist_index(uint64_t v)
{
	if (v < (2u << CB_HIST_SUB_BITS))
		return (unsigned)v;
	unsigned shift = 63 - (unsigned)__builtin_clzll(v) - CB_HIST_SUB_BITS;
	return (shift << CB_HIST_SUB_BITS) + (unsigned)(v >> shift);
}
static inline void cb_hist_add(struct cb_hist *h, uint64_t v)
{
	h->bucket[cb_hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}
void cb_hist_merge(struct cb_hist *into, const struct cb_hist *from);
/* The value at quantile q (0..1): the midpoint of its bucket, capped at max. */
uint64_t cb_hist_quantile(const struct cb_hist *h, double q);

#endif
