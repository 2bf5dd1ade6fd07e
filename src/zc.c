/* zc: see zc.h. */
#include "zc.h"

#include <string.h>

/* ---- zero-copy completion tracking --------------------------------------------- */

void cb_zc_init(struct cb_zc *z)
{
	memset(z, 0, sizeof(*z));
}

void cb_zc_complete(struct cb_zc *z, uint32_t lo, uint32_t hi, bool copied)
{
	uint32_t span = hi - lo + 1;   /* ranges are inclusive; 32-bit ids wrap */

	z->notifications++;
	if (span == 0 || span > CB_ZC_RING) {
		z->bogus += span ? span : 1;
		return;
	}
	for (uint32_t k = 0; k < span; k++) {
		uint32_t id = lo + k;

		if (id - z->low >= z->next - z->low || z->done[id % CB_ZC_RING]) {
			z->bogus++;     /* not in flight, or reported twice */
			continue;
		}
		z->done[id % CB_ZC_RING] = 1;
		z->completions++;
		z->copied += copied;
	}
	while (z->low != z->next && z->done[z->low % CB_ZC_RING]) {
		z->done[z->low % CB_ZC_RING] = 0;
		z->low++;
	}
}

/* ---- io_uring zero-copy sends and their notifications ---------------------------- */

void cb_zcq_submitted(struct cb_zcq *q, struct cb_zcq_slot *s)
{
	s->busy = true;
	q->in_flight++;
}

bool cb_zcq_result(struct cb_zcq *q, struct cb_zcq_slot *s, bool more)
{
	if (!s->busy || !q->in_flight) {
		q->bogus++;
		return false;
	}
	s->busy = false;
	q->in_flight--;
	/* Even a failed send may owe one: the flag says, not the result. */
	if (more) {
		s->notifs++;
		q->sends++;
	}
	return true;
}

bool cb_zcq_notif(struct cb_zcq *q, struct cb_zcq_slot *s, bool copied)
{
	/* Owed, or a send of the slot in flight whose result has not come yet. */
	if (s->notifs <= 0 && !(s->busy && s->notifs == 0)) {
		q->bogus++;
		return false;
	}
	s->notifs--;
	q->completions++;
	q->copied += copied;
	return true;
}
