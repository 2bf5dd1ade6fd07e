/*
 * Unit tests of src/hist.c: bucket indices, exact quantile midpoints, merge.
 * Prints TAP.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "hist.h"

/* ---- histogram ---------------------------------------------------------------- */

static void test_hist(void)
{
	struct cb_hist *h = calloc(1, sizeof(*h)), *h2 = calloc(1, sizeof(*h2));
	bool mono = true;

	for (uint64_t v = 1; v <= 100000; v++)
		cb_hist_add(h, v * 10);          /* 10 ns .. 1 ms, uniform */
	uint64_t p50 = cb_hist_quantile(h, 0.5), p99 = cb_hist_quantile(h, 0.99);
	/*
	 * Exact: the rank-th value (500000, 990000) lies in the bucket [lo, lo + w)
	 * with w = 2^(floor(log2 v) - 6), lo = v rounded down to w; the answer is
	 * its midpoint. 500000: w 4096, lo 499712 -> 501760. 990000: w 8192, lo
	 * 983040 -> 987136. A neighbouring bucket's midpoint is 0.8% away, which a
	 * tolerance test would let through.
	 */
	ok(p50 == 501760, "p50 of uniform 10ns..1ms is the midpoint of 500000's bucket (%llu)",
	   (unsigned long long)p50);
	ok(p99 == 987136, "p99 is the midpoint of 990000's bucket (%llu)", (unsigned long long)p99);
	bool within = true;
	for (uint64_t v = 128; v < (1ull << 40); v = v * 5 / 4 + 7) {
		struct cb_hist one = { 0 };
		uint64_t w = 1ull << (63 - __builtin_clzll(v) - CB_HIST_SUB_BITS), lo = v / w * w;

		cb_hist_add(&one, v);
		one.max = UINT64_MAX;                  /* so the midpoint is not capped */
		within &= cb_hist_quantile(&one, 0.5) == lo + w / 2;
	}
	ok(within, "a single value comes back as its bucket's midpoint, 128 .. 2^40");
	ok(h->max == 1000000 && cb_hist_quantile(h, 1.0) == 1000000, "max exact, p100 = max");
	for (uint64_t v = 0; v < 200; v++)
		mono &= cb_hist_index(v) < CB_HIST_BUCKETS && (v < 128 ? cb_hist_index(v) == v : true);
	for (uint64_t v = 1; v < (1ull << 62); v = v * 3 + 1)
		mono &= cb_hist_index(v) <= cb_hist_index(v * 3 + 1) && cb_hist_index(v) < CB_HIST_BUCKETS;
	mono &= cb_hist_index(UINT64_MAX) < CB_HIST_BUCKETS;
	ok(mono, "bucket index exact below 128, monotonic, in range up to UINT64_MAX");
	cb_hist_add(h2, 5);
	cb_hist_add(h2, 7);
	ok(cb_hist_quantile(h2, 0.5) == 5 && cb_hist_quantile(h2, 0.99) == 7, "small values exact");
	cb_hist_merge(h2, h);
	ok(h2->count == 100002 && h2->max == 1000000, "merge adds counts, keeps max");
	/*
	 * The client merges its threads in order: the larger maximum may be the one already
	 * merged (a merge that copies the other's max loses it) or the one coming in. Both
	 * orders give one histogram of all the values: counts, max and quantiles alike.
	 */
	{
		struct cb_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
		struct cb_hist *ab = calloc(1, sizeof(*ab)), *ba = calloc(1, sizeof(*ba));
		struct cb_hist *all = calloc(1, sizeof(*all));
		bool same = true;

		for (uint64_t v = 1; v <= 1000; v++) {      /* a slow thread: 1..1000 ms, a few */
			cb_hist_add(a, v * 1000000);
			cb_hist_add(all, v * 1000000);
		}
		for (uint64_t v = 1; v <= 99000; v++) {     /* a fast one: 20..40 us, many */
			cb_hist_add(b, 20000 + v % 20000);
			cb_hist_add(all, 20000 + v % 20000);
		}
		cb_hist_merge(ab, a);
		cb_hist_merge(ab, b);
		cb_hist_merge(ba, b);
		cb_hist_merge(ba, a);
		ok(ab->max == 1000000000 && ba->max == 1000000000,
		   "merge keeps the larger max whichever side has it (%llu, %llu)",
		   (unsigned long long)ab->max, (unsigned long long)ba->max);
		for (double q = 0.01; q < 1.0; q += 0.01)
			same &= cb_hist_quantile(ab, q) == cb_hist_quantile(all, q) &&
				cb_hist_quantile(ba, q) == cb_hist_quantile(all, q);
		ok(same && ab->count == all->count && ba->count == all->count &&
		   cb_hist_quantile(ab, 0.999) > 1000000 && cb_hist_quantile(ab, 0.5) < 41000,
		   "merged in either order = one histogram of every value (p1..p99, p99.9 in the slow thread's range)");
		free(a), free(b), free(ab), free(ba), free(all);
	}
	struct cb_hist *empty = calloc(1, sizeof(*empty));
	ok(cb_hist_quantile(empty, 0.5) == 0, "empty histogram gives 0");
	free(h), free(h2), free(empty);
}

int main(void)
{
	test_hist();
	return done_testing();
}
