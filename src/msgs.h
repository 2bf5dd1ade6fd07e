/*
 * msgs: the messages one connection sends from. The server's --footprint
 * says how many (cb_footprint_messages in server.h): one, the default, is
 * sent again and again, so the sender always reads it from its own caches
 * ("hot"); N are sent round robin, so every send reads fields last touched
 * N - 1 sends ago, from memory once N x size exceeds the last-level cache
 * ("cold"), as a real application's data usually is. Each message is the
 * same 8 separately malloc'd fields (cb_msg_alloc) holding the pattern of
 * seq 0; the frame stamps the header (and refills it all under --verify)
 * before each send.
 */
#ifndef COPYBENCH_MSGS_H
#define COPYBENCH_MSGS_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

struct cb_msgs {
	struct cb_message *msg;   /* room for cap; the first n are allocated */
	uint32_t size;
	unsigned n, cap;
	unsigned next;            /* the one cb_msgs_next returns */
};

/* Room for cap messages of `size`, none allocated yet. 0, or -1 (ENOMEM). */
int cb_msgs_init(struct cb_msgs *s, uint32_t size, unsigned cap);
/*
 * One more message. The first is filled with the pattern, the others copied
 * from it: memcpy speed, which matters for a footprint of hundreds of MiB
 * (and under TSan, where the pattern loop is 5-15x slower). false when full
 * or out of memory (nothing added).
 */
bool cb_msgs_add(struct cb_msgs *s);
/*
 * Add messages until there are n (at most cap): true when all were added.
 * The kernel fills them (preadv from a memfd holding the first message's
 * bytes), so every page of the footprint has been touched by the kernel
 * before the first send. Why: on a guest whose hypervisor shadows its page
 * tables (a PVM guest, as the development VM), the kernel's first access to
 * each user page costs tens of microseconds, once; left to the send loop,
 * A2's kernel copy paid it for a whole pass through the footprint (256 MiB:
 * the first ~3.5 s at a tenth of the rate after), a transient no long-running
 * sender sees (docs/performance.md, "Cold data"). Where memfd is refused, the
 * messages are copied from the first in user space.
 */
bool cb_msgs_grow(struct cb_msgs *s, unsigned n);
/* init and grow to n: 0, or -1 (ENOMEM) with nothing left allocated. */
int cb_msgs_alloc(struct cb_msgs *s, uint32_t size, unsigned n);
/* The next message, round robin: each is sent again only after all the others. */
static inline struct cb_message *cb_msgs_next(struct cb_msgs *s)
{
	struct cb_message *m = &s->msg[s->next];

	if (++s->next == s->n)
		s->next = 0;
	return m;
}
/* Free every message and the room for them. */
void cb_msgs_free(struct cb_msgs *s);

#endif
