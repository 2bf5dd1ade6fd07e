/*
 * Unit tests of src/zc.c: zero-copy completion ranges, out of order, across
 * the 32-bit wrap, bogus and repeated ranges (A3); io_uring sends and their
 * notifications in either order, cancelled and failed sends, a chain's worth
 * of slots, bogus notifications (A4). Prints TAP.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "zc.h"

/* ---- zero-copy completion ranges ---------------------------------------------- */

static void test_zc(void)
{
	struct cb_zc *z = malloc(sizeof(*z));

	cb_zc_init(z);
	z->next = 10;                            /* ids 0..9 sent */
	ok(cb_zc_inflight(z) == 10 && !cb_zc_is_done(z, 0), "10 in flight, none done");
	cb_zc_complete(z, 0, 3, true);
	ok(z->completions == 4 && z->copied == 4 && z->low == 4 && cb_zc_is_done(z, 3) &&
	   !cb_zc_is_done(z, 4), "range 0-3 counts hi - lo + 1 = 4");
	cb_zc_complete(z, 6, 9, false);          /* out of order: a hole at 4-5 */
	ok(z->completions == 8 && z->low == 4 && !cb_zc_is_done(z, 9),
	   "out-of-order range counted, but ids after a hole are not released");
	cb_zc_complete(z, 4, 5, false);
	ok(z->completions == 10 && z->low == 10 && cb_zc_is_done(z, 9) && cb_zc_inflight(z) == 0,
	   "hole filled: everything released");
	ok(z->copied == 4 && z->notifications == 3, "copied counts only flagged ranges");
	cb_zc_complete(z, 8, 8, false);
	ok(z->bogus == 1 && z->completions == 10, "a repeated id is bogus, not counted");
	cb_zc_complete(z, 10, 10, false);
	ok(z->bogus == 2, "an id never sent is bogus");

	/* 32-bit wrap-around. */
	cb_zc_init(z);
	z->low = 0xfffffffeu;
	z->next = 3;                             /* ids ..fe, ..ff, 0, 1, 2 in flight */
	ok(cb_zc_inflight(z) == 5, "in flight across the wrap");
	cb_zc_complete(z, 0xfffffffeu, 1, false);
	ok(z->completions == 4 && z->low == 2 && cb_zc_is_done(z, 0xffffffffu) && cb_zc_is_done(z, 1) &&
	   !cb_zc_is_done(z, 2), "a range across the wrap counts 4");
	cb_zc_complete(z, 5, 2, false);          /* hi < lo without a wrap of the sent ids */
	ok(z->bogus > 0 && z->completions == 4, "a reversed range is rejected");
	free(z);
}

/* ---- io_uring sends and notifications ------------------------------------------- */

static void test_zcq(void)
{
	struct cb_zcq q = { 0 };
	struct cb_zcq_slot s[8] = { { 0 } };

	ok(cb_zcq_free(&s[0]) && cb_zcq_owed(&q) == 0, "a new slot is free, nothing owed");
	s[0].busy = true;                        /* queued for a batch */
	ok(!cb_zcq_free(&s[0]), "a queued slot is not free");
	cb_zcq_submitted(&q, &s[0]);
	ok(q.in_flight == 1 && !cb_zcq_free(&s[0]), "submitted: in flight, not free");
	ok(cb_zcq_result(&q, &s[0], true) && q.in_flight == 0 && q.sends == 1 && cb_zcq_owed(&q) == 1,
	   "its result with F_MORE: one notification owed");
	ok(!cb_zcq_free(&s[0]), "...and the slot is still the kernel's until it comes");
	ok(cb_zcq_notif(&q, &s[0], true) && cb_zcq_free(&s[0]) && q.completions == 1 && q.copied == 1,
	   "the notification (copied) gives the slot back");
	ok(!cb_zcq_notif(&q, &s[0], false) && q.bogus == 1 && q.completions == 1,
	   "a second notification for it is bogus, not counted");

	/* A cancelled send: its notification before its result. */
	cb_zcq_submitted(&q, &s[1]);
	ok(cb_zcq_notif(&q, &s[1], false) && s[1].notifs == -1 && !cb_zcq_free(&s[1]) && cb_zcq_owed(&q) == 0,
	   "a notification before its send's result: accepted, the slot still not free");
	ok(cb_zcq_result(&q, &s[1], true) && cb_zcq_free(&s[1]) && cb_zcq_owed(&q) == 0 && q.bogus == 1,
	   "...then the result with F_MORE settles it: free, nothing owed");

	/* A send that failed without a notification, and a result nobody waited for. */
	cb_zcq_submitted(&q, &s[2]);
	ok(cb_zcq_result(&q, &s[2], false) && cb_zcq_free(&s[2]) && q.sends == 2,
	   "a result without F_MORE owes nothing: free at once");
	ok(!cb_zcq_result(&q, &s[2], true) && q.bogus == 2 && q.sends == 2, "a result for a slot not in flight is bogus");
	ok(!cb_zcq_notif(&q, &s[3], false) && q.bogus == 3, "a notification for an idle slot is bogus");

	/* A chain of 8, results in order, notifications in reverse; one resubmitted after a short send. */
	for (int i = 0; i < 8; i++)
		cb_zcq_submitted(&q, &s[i]);
	ok(q.in_flight == 8, "a chain of 8 in flight");
	for (int i = 0; i < 8; i++)
		cb_zcq_result(&q, &s[i], true);
	cb_zcq_submitted(&q, &s[5]);             /* slot 5 was cut short: the rest again */
	cb_zcq_result(&q, &s[5], true);
	ok(q.in_flight == 0 && cb_zcq_owed(&q) == 9 && s[5].notifs == 2, "slot 5 sent twice owes two");
	for (int i = 7; i >= 0; i--)
		cb_zcq_notif(&q, &s[i], true);
	ok(!cb_zcq_free(&s[5]) && cb_zcq_free(&s[4]) && cb_zcq_owed(&q) == 1, "one each: slot 5 still owes one");
	cb_zcq_notif(&q, &s[5], true);
	ok(cb_zcq_free(&s[5]) && cb_zcq_owed(&q) == 0 && q.completions == q.sends && q.bogus == 3,
	   "every notification came: completions == sends, nothing more bogus");
}

int main(void)
{
	test_zc();
	test_zcq();
	return done_testing();
}
