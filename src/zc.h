/*
 * zc: the bookkeeping of MSG_ZEROCOPY completions, apart from any socket so it
 * can be unit-tested: which send ids are in flight, which completed (ranges,
 * possibly out of order), how many the kernel says it copied after all.
 */
#ifndef COPYBENCH_ZC_H
#define COPYBENCH_ZC_H

#include <stdbool.h>
#include <stdint.h>

/* ---- zero-copy completion tracking (pure bookkeeping, unit-tested) ---- */
/*
 * Every successful sendmsg(MSG_ZEROCOPY) on a TCP socket takes the next
 * 32-bit id; the error queue reports completed ranges [lo, hi]. Ranges may
 * come out of order, so completion is tracked per id in a ring and `low`
 * is the first id not yet completed: every id below it is done, and a
 * buffer whose last send used id L may be reused once L < low.
 */
#define CB_ZC_RING 8192u        /* ids in flight at most; power of two */
struct cb_zc {
	uint32_t next;            /* id the next zero-copy send will take */
	uint32_t low;             /* lowest id not completed */
	uint64_t completions;     /* ids reported complete (sum of hi - lo + 1) */
	uint64_t copied;          /* of those, flagged SO_EE_CODE_ZEROCOPY_COPIED */
	uint64_t notifications;   /* error-queue messages read */
	uint64_t bogus;           /* ids reported that were not in flight */
	unsigned char done[CB_ZC_RING];
};
void cb_zc_init(struct cb_zc *z);
static inline uint32_t cb_zc_inflight(const struct cb_zc *z) { return z->next - z->low; }
/* True once the send that used `id` has completed. */
static inline bool cb_zc_is_done(const struct cb_zc *z, uint32_t id)
{
	return (int32_t)(z->low - id) > 0;
}
/* Record a completion range reported by the kernel. */
void cb_zc_complete(struct cb_zc *z, uint32_t lo, uint32_t hi, bool copied);

#endif
