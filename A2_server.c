/*
 * A2: one-copy send. sendmsg() takes an 8-entry iovec pointing straight at
 * the message's fields; the kernel gathers them into its socket buffers, so
 * the only copy is user to kernel. A short send advances the iovec. The
 * fields come from the connection's footprint (msgs.h), as A1's do.
 */
#include "server.h"
#include "net.h"
#include "wire.h"

#include <stdlib.h>

struct a2 {
	struct cb_msgs msgs;
};

static void *a2_open(struct cb_conn *c)
{
	struct a2 *s = calloc(1, sizeof(*s));

	if (!s) {
		c->err_call = "malloc";
		return NULL;
	}
	/* The messages, from the server-wide budget. */
	if (!cb_conn_msgs_open(c, &s->msgs, 0)) {
		free(s);
		return NULL;
	}
	return s;
}

static int a2_send(struct cb_conn *c, void *state, uint64_t seq, uint64_t want_ns, size_t *sent)
{
	struct a2 *s = state;
	struct cb_message *m = cb_msgs_next(&s->msgs);
	struct iovec iov[CB_NFIELDS], *v = iov;
	int cnt = CB_NFIELDS;

	cb_msg_prepare(m, seq, c->verify, want_ns);
	cb_msg_iov(m, iov);
	if (cb_sendmsg_all(c->fd, &v, &cnt, 0, NULL, sent) < 0) {
		c->err_call = "sendmsg";
		return -1;
	}
	return 0;
}

static void a2_close(struct cb_conn *c, void *state)
{
	struct a2 *s = state;

	(void)c;
	cb_conn_msgs_close(&s->msgs, 0);
	free(s);
}

static const struct cb_technique a2 = {
	.name = "A2", .impl = 2,
	.open = a2_open, .send = a2_send, .close = a2_close,
};

int main(int argc, char **argv)
{
	return cb_server_main(argc, argv, &a2);
}
