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

/* Submit slot s's next send; its generation, as the user_data will carry it. */
static uint32_t sub(struct cb_zcq *q, struct cb_zcq_slot *s)
{
	cb_zcq_submitted(q, s);
	return (uint32_t)(cb_zcq_data(s, 0) >> 32);
}

static void test_zcq(void)
{
	struct cb_zcq q = { 0 };
	struct cb_zcq_slot s[8] = { { 0 } };
	uint32_t g, g1, g2;

	ok(cb_zcq_free(&s[0]) && cb_zcq_owed(&q) == 0, "a new slot is free, nothing owed");
	s[0].busy = true;                        /* queued for a batch */
	ok(!cb_zcq_free(&s[0]), "a queued slot is not free");
	g = sub(&q, &s[0]);
	ok(q.in_flight == 1 && !cb_zcq_free(&s[0]) && cb_zcq_data(&s[0], 5) == ((uint64_t)g << 32 | 5),
	   "submitted: in flight, not free; its user_data carries generation and index");
	ok(cb_zcq_result(&q, &s[0], g, true) && q.in_flight == 0 && q.sends == 1 && cb_zcq_owed(&q) == 1,
	   "its result with F_MORE: one notification owed");
	ok(!cb_zcq_free(&s[0]), "...and the slot is still the kernel's until it comes");
	ok(cb_zcq_notif(&q, &s[0], g, true) && cb_zcq_free(&s[0]) && q.completions == 1 && q.copied == 1,
	   "the notification (copied) gives the slot back");
	ok(!cb_zcq_notif(&q, &s[0], g, false) && q.bogus == 1 && q.completions == 1,
	   "a second notification for the same send is bogus, not counted");
	ok(!cb_zcq_result(&q, &s[0], g, true) && q.bogus == 2 && q.sends == 1, "a result for a slot not in flight is bogus");

	/* A failed send: its notification before its result. */
	g = sub(&q, &s[1]);
	ok(cb_zcq_notif(&q, &s[1], g, false) && !cb_zcq_free(&s[1]) && q.completions == 1,
	   "a notification before its send's result: held, the slot not free, nothing counted yet");
	ok(cb_zcq_result(&q, &s[1], g, true) && cb_zcq_free(&s[1]) && cb_zcq_owed(&q) == 0 && q.completions == 2,
	   "...then the result with F_MORE settles it: free, counted, nothing owed");

	/* A send cancelled behind a failed one: no F_MORE, and yet a notification (Linux 6.18). */
	g1 = sub(&q, &s[2]);
	ok(cb_zcq_result(&q, &s[2], g1, false) && cb_zcq_free(&s[2]) && q.sends == 2,
	   "a cancelled send's result without F_MORE owes nothing: free at once");
	g2 = sub(&q, &s[2]);                     /* the slot reused for a new message */
	ok(cb_zcq_result(&q, &s[2], g2, true) && cb_zcq_owed(&q) == 1, "reused: its new send owes one");
	ok(cb_zcq_notif(&q, &s[2], g1, true) && q.strays == 1 && !cb_zcq_free(&s[2]) && q.completions == 2,
	   "the cancelled send's stray notification comes late: counted a stray, NOT taken for the new send's");
	ok(cb_zcq_notif(&q, &s[2], g2, true) && cb_zcq_free(&s[2]) && cb_zcq_owed(&q) == 0,
	   "...the new send's own notification frees the slot");
	g = sub(&q, &s[3]);
	ok(cb_zcq_notif(&q, &s[3], g, false) && cb_zcq_result(&q, &s[3], g, false) && q.strays == 2 &&
	   cb_zcq_free(&s[3]), "a stray before its no-F_MORE result: a stray too");
	ok(!cb_zcq_notif(&q, &s[4], 7, false) && q.bogus == 3, "a notification for an idle slot is bogus");
	ok(!cb_zcq_result(&q, &s[3], g + 1, true) && q.bogus == 4, "a result with a generation never sent is bogus");

	/* A chain of 8, results in order, notifications in reverse; one resubmitted after a short send. */
	for (int i = 0; i < 8; i++)
		sub(&q, &s[i]);
	ok(q.in_flight == 8, "a chain of 8 in flight");
	for (int i = 0; i < 8; i++)
		cb_zcq_result(&q, &s[i], s[i].gen, true);
	g1 = s[5].gen;
	g2 = sub(&q, &s[5]);                     /* slot 5 was cut short: the rest again */
	cb_zcq_result(&q, &s[5], g2, true);
	ok(q.in_flight == 0 && cb_zcq_owed(&q) == 9, "slot 5 sent twice owes two");
	for (int i = 7; i >= 0; i--)
		cb_zcq_notif(&q, &s[i], i == 5 ? g2 : s[i].gen, true);
	ok(!cb_zcq_free(&s[5]) && cb_zcq_free(&s[4]) && cb_zcq_owed(&q) == 1, "one each: slot 5's first send still owes");
	cb_zcq_notif(&q, &s[5], g1, true);
	ok(cb_zcq_free(&s[5]) && cb_zcq_owed(&q) == 0 && q.completions == q.sends && q.bogus == 4,
	   "every notification came: completions == sends, nothing more bogus");

	/* The window: 32 sends of one slot owing at once is the most it tracks. */
	struct cb_zcq_slot w = { 0 };
	for (unsigned i = 0; i < CB_ZCQ_WINDOW; i++) {
		g = sub(&q, &w);
		cb_zcq_result(&q, &w, g, true);
	}
	ok(!cb_zcq_can_submit(&w) && !cb_zcq_submitted(&q, &w), "32 sends of one slot owing: no 33rd until one comes");
	cb_zcq_notif(&q, &w, w.gen - (CB_ZCQ_WINDOW - 1), false);
	ok(cb_zcq_can_submit(&w), "the oldest one's notification makes room");
}

int main(void)
{
	test_zc();
	test_zcq();
	return done_testing();
}
