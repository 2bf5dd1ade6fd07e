/*
 * zc: the bookkeeping of zero-copy completions, apart from any socket so it
 * can be unit-tested. A3 (MSG_ZEROCOPY): which send ids are in flight, which
 * completed (ranges, possibly out of order), how many the kernel says it
 * copied after all. A4 (io_uring): which buffer slots a send or its
 * notification still holds.
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

/* ---- io_uring zero-copy sends and their notifications (A4) ------------- */
/*
 * An IORING_OP_SENDMSG_ZC request gets two CQEs: its result, flagged
 * IORING_CQE_F_MORE when a notification will follow, and the notification
 * (IORING_CQE_F_NOTIF), after which the kernel holds the buffer no more. A
 * failed or cancelled request's notification can come before its result, so
 * a slot may owe -1 for a moment. A slot is the sender's again once it is
 * not busy and owes nothing.
 */
struct cb_zcq_slot {
	bool busy;                /* queued for a send, or a send of it has no result yet */
	int notifs;               /* notifications its sends still owe */
};
struct cb_zcq {
	unsigned in_flight;       /* sends submitted without their result */
	uint64_t sends;           /* results that owed a notification (IORING_CQE_F_MORE) */
	uint64_t completions;     /* notifications */
	uint64_t copied;          /* of those, flagged IORING_NOTIF_USAGE_ZC_COPIED */
	uint64_t bogus;           /* CQEs no send explains */
};
static inline bool cb_zcq_free(const struct cb_zcq_slot *s) { return !s->busy && !s->notifs; }
/* Notifications not come yet, all slots (0 while one came before its send's result). */
static inline uint64_t cb_zcq_owed(const struct cb_zcq *q)
{
	return q->sends > q->completions ? q->sends - q->completions : 0;
}
/* A send of the slot is submitted. */
void cb_zcq_submitted(struct cb_zcq *q, struct cb_zcq_slot *s);
/* Its result came (more: IORING_CQE_F_MORE). false: no send of the slot was in flight. */
bool cb_zcq_result(struct cb_zcq *q, struct cb_zcq_slot *s, bool more);
/* A notification for the slot came. false: none was owed (counted bogus). */
bool cb_zcq_notif(struct cb_zcq *q, struct cb_zcq_slot *s, bool copied);

#endif
