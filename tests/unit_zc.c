/*
 * Unit tests of src/zc.c: zero-copy completion ranges, out of order, across
 * the 32-bit wrap, bogus and repeated ranges. Prints TAP.
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

int main(void)
{
	test_zc();
	return done_testing();
}
