/*
 * A1: two-copy send. For every message the 8 separately allocated fields are
 * memcpy'd into one contiguous buffer (copy one, in user space), then send()
 * copies that buffer into the socket's kernel buffers (copy two).
 */
#include "server.h"
#include "net.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

struct a1 {
	struct cb_message msg;
	unsigned char *flat;       /* the contiguous staging buffer */
};

static void *a1_open(struct cb_conn *c)
{
	struct a1 *s;

	/* The message and its flat copy, from the server-wide budget. */
	if (!cb_mem_take(2ull * c->hello.msg_size)) {
		c->status = CB_BUSY;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->flat = malloc(c->hello.msg_size)) || cb_msg_alloc(&s->msg, c->hello.msg_size) < 0) {
		if (s)
			free(s->flat);
		free(s);
		cb_mem_give(2ull * c->hello.msg_size);
		c->err_call = "malloc";
		return NULL;
	}
	cb_msg_fill(&s->msg, 0);
	return s;
}

static int a1_send(struct cb_conn *c, void *state, uint64_t seq, uint64_t want_ns, size_t *sent)
{
	struct a1 *s = state;
	unsigned char *p = s->flat;

	cb_msg_prepare(&s->msg, seq, c->verify, want_ns);
	/* The extra copy this technique is about: every message, every byte. */
	for (int i = 0; i < CB_NFIELDS; i++) {
		memcpy(p, s->msg.field[i], s->msg.len[i]);
		p += s->msg.len[i];
	}
	if (cb_write_all(c->fd, s->flat, s->msg.size, sent) < 0) {
		c->err_call = "send";
		return -1;
	}
	return 0;
}

static void a1_close(struct cb_conn *c, void *state)
{
	struct a1 *s = state;

	cb_msg_free(&s->msg);
	free(s->flat);
	free(s);
	cb_mem_give(2ull * c->hello.msg_size);
}

static const struct cb_technique a1 = {
	.name = "A1", .impl = 1,
	.open = a1_open, .send = a1_send, .close = a1_close,
};

int main(int argc, char **argv)
{
	return cb_server_main(argc, argv, &a1);
}
