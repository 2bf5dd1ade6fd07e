/* msgs: see msgs.h. */
#include "msgs.h"

#include <errno.h>
#include <stdlib.h>

int cb_msgs_init(struct cb_msgs *s, uint32_t size, unsigned cap)
{
	s->size = size;
	s->n = s->next = 0;
	s->cap = cap;
	s->msg = calloc(cap ? cap : 1, sizeof(*s->msg));
	if (!s->msg) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

bool cb_msgs_add(struct cb_msgs *s)
{
	struct cb_message *m;

	if (s->n == s->cap)
		return false;
	m = &s->msg[s->n];
	if (cb_msg_alloc(m, s->size) != 0)
		return false;
	if (s->n)
		cb_msg_copy(m, &s->msg[0]);
	else
		cb_msg_fill(m, 0);
	s->n++;
	return true;
}

int cb_msgs_alloc(struct cb_msgs *s, uint32_t size, unsigned n)
{
	if (cb_msgs_init(s, size, n) < 0)
		return -1;
	while (s->n < n)
		if (!cb_msgs_add(s)) {
			cb_msgs_free(s);
			errno = ENOMEM;
			return -1;
		}
	return 0;
}

void cb_msgs_free(struct cb_msgs *s)
{
	for (unsigned i = 0; i < s->n; i++)
		cb_msg_free(&s->msg[i]);
	free(s->msg);
	s->msg = NULL;
	s->n = s->cap = s->next = 0;
}
