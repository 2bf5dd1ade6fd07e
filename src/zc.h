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
 * (IORING_CQE_F_NOTIF), after which the kernel holds the buffer no more.
 * Both carry the request's user_data, so each send of a slot gets a
 * generation of its own and the notification is matched to the very send
 * that owes it. What the kernel does that the flag does not say: a failed
 * or cancelled send's notification can come before its result, and a send
 * cancelled behind a failed one in a chain (-ECANCELED, no F_MORE) still
 * gets a notification on Linux 6.18 (a stray: it never held the pages).
 * Matched by generation, neither can be taken for a later send's.
 */
#define CB_ZCQ_WINDOW 32u       /* sends of one slot tracked at once (bits of a mask) */
struct cb_zcq_slot {
	bool busy;                /* queued for a send, or a send of it has no result yet */
	uint32_t gen;             /* generation of its latest send */
	uint32_t owed;            /* bit k: send gen - k owes a notification */
	uint32_t early;           /* bit k: send gen - k's notification came before its result */
	uint32_t early_copied;    /* ... and was flagged copied */
	uint32_t nomore;          /* bit k: send gen - k's result owed none (a stray may follow) */
};
struct cb_zcq {
	unsigned in_flight;       /* sends submitted without their result */
	uint64_t sends;           /* results that owed a notification (IORING_CQE_F_MORE) */
	uint64_t completions;     /* notifications matched to a send that owed one */
	uint64_t copied;          /* of those, flagged IORING_NOTIF_USAGE_ZC_COPIED */
	uint64_t strays;          /* notifications for sends that owed none (cancelled ones) */
	uint64_t bogus;           /* CQEs no send explains */
};
static inline bool cb_zcq_free(const struct cb_zcq_slot *s) { return !s->busy && !s->owed && !s->early; }
/* Notifications not come yet, all slots. */
static inline uint64_t cb_zcq_owed(const struct cb_zcq *q)
{
	return q->sends > q->completions ? q->sends - q->completions : 0;
}
/* The user_data of a slot's send: its generation and its index. */
static inline uint64_t cb_zcq_data(const struct cb_zcq_slot *s, uint32_t idx)
{
	return (uint64_t)s->gen << 32 | idx;
}
/* false: a send CB_ZCQ_WINDOW generations back still owes its notification: wait for it first. */
static inline bool cb_zcq_can_submit(const struct cb_zcq_slot *s)
{
	return !((s->owed | s->early) & (1u << (CB_ZCQ_WINDOW - 1)));
}
/*
 * The slot's next send is submitted: a new generation (put cb_zcq_data in
 * the SQE afterwards). false, nothing changed, when !cb_zcq_can_submit.
 */
bool cb_zcq_submitted(struct cb_zcq *q, struct cb_zcq_slot *s);
/* A send's result came (more: IORING_CQE_F_MORE). false: not the slot's send in flight (bogus). */
bool cb_zcq_result(struct cb_zcq *q, struct cb_zcq_slot *s, uint32_t gen, bool more);
/* A notification came. false: no send of the slot explains it (bogus). */
bool cb_zcq_notif(struct cb_zcq *q, struct cb_zcq_slot *s, uint32_t gen, bool copied);

#endif
