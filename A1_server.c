/*
 * A1: two-copy send. For every message the 8 separately allocated fields are
 * memcpy'd into one contiguous buffer (copy one, in user space), then send()
 * copies that buffer into the socket's kernel buffers (copy two). The fields
 * come from the connection's footprint (msgs.h): one message, hot in cache,
 * by default; with --footprint, many, each read a whole footprint later.
 */
#include "server.h"
#include "net.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

struct a1 {
	struct cb_msgs msgs;
	unsigned char *flat;       /* the contiguous staging buffer: one, always hot */
};

static void *a1_open(struct cb_conn *c)
{
	struct a1 *s = calloc(1, sizeof(*s));

	if (!s) {
		c->err_call = "malloc";
		return NULL;
	}
	/* The messages and their flat copy, from the server-wide budget. */
	if (!cb_conn_msgs_open(c, &s->msgs, c->hello.msg_size)) {
		free(s);
		return NULL;
	}
	if (!(s->flat = malloc(c->hello.msg_size))) {
		cb_conn_msgs_close(&s->msgs, c->hello.msg_size);
		free(s);
		c->err_call = "malloc";
		return NULL;
	}
	return s;
}

static int a1_send(struct cb_conn *c, void *state, uint64_t seq, uint64_t want_ns, size_t *sent)
{
	struct a1 *s = state;
	struct cb_message *m = cb_msgs_next(&s->msgs);
	unsigned char *p = s->flat;

	cb_msg_prepare(m, seq, c->verify, want_ns);
	/* The extra copy this technique is about: every message, every byte. */
	for (int i = 0; i < CB_NFIELDS; i++) {
		memcpy(p, m->field[i], m->len[i]);
		p += m->len[i];
	}
	if (cb_write_all(c->fd, s->flat, m->size, sent) < 0) {
		c->err_call = "send";
		return -1;
	}
	return 0;
}

static void a1_close(struct cb_conn *c, void *state)
{
	struct a1 *s = state;

	cb_conn_msgs_close(&s->msgs, c->hello.msg_size);
	free(s->flat);
	free(s);
}

static const struct cb_technique a1 = {
	.name = "A1", .impl = 1,
	.open = a1_open, .send = a1_send, .close = a1_close,
};

int main(int argc, char **argv)
{
	return cb_server_main(argc, argv, &a1);
}
