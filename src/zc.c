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

bool cb_zcq_submitted(struct cb_zcq *q, struct cb_zcq_slot *s)
{
	if (!cb_zcq_can_submit(s))
		return false;
	s->gen++;
	s->owed <<= 1;
	s->early <<= 1;
	s->early_copied <<= 1;
	s->nomore <<= 1;
	s->busy = true;
	q->in_flight++;
	return true;
}

bool cb_zcq_result(struct cb_zcq *q, struct cb_zcq_slot *s, uint32_t gen, bool more)
{
	if (!s->busy || !q->in_flight || gen != s->gen) {
		q->bogus++;
		return false;
	}
	s->busy = false;
	q->in_flight--;
	if (more) {
		q->sends++;
		if (s->early & 1) {       /* its notification came first: settled now */
			q->completions++;
			q->copied += s->early_copied & 1;
		} else {
			s->owed |= 1;
		}
	} else if (s->early & 1) {
		q->strays++;              /* the notification that came first was a stray */
	} else {
		s->nomore |= 1;
	}
	s->early &= ~1u;
	s->early_copied &= ~1u;
	return true;
}

bool cb_zcq_notif(struct cb_zcq *q, struct cb_zcq_slot *s, uint32_t gen, bool copied)
{
	uint32_t k = s->gen - gen, bit;

	if (k >= CB_ZCQ_WINDOW) {
		q->bogus++;
		return false;
	}
	bit = 1u << k;
	if (s->owed & bit) {
		s->owed &= ~bit;
		q->completions++;
		q->copied += copied;
	} else if (k == 0 && s->busy && !(s->early & bit)) {
		s->early |= bit;          /* before its result: settled when the result comes */
		s->early_copied |= copied ? bit : 0;
	} else if (s->nomore & bit) {
		s->nomore &= ~bit;
		q->strays++;
	} else {
		q->bogus++;
		return false;
	}
	return true;
}
