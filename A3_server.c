/*
 * A3: zero-copy send. With SO_ZEROCOPY set, sendmsg(MSG_ZEROCOPY) pins the
 * user pages of the 8 fields instead of copying them; the kernel tells us
 * when it is done with them through the socket's error queue. Until then the
 * buffer belongs to the kernel: rewriting it would change bytes already
 * "sent". So messages come from a pool, and a pool slot is reused only after
 * the completion for its last send has arrived.
 *
 * On loopback and veth the receiver is local, so the kernel copies the pages
 * anyway when it hands the data over and flags the completion
 * SO_EE_CODE_ZEROCOPY_COPIED; we count those, we do not hide them.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif

#define POOL_BYTES      (2u << 20)  /* message memory per connection */
#define POOL_MIN        8
#define POOL_MAX        2048
#define DRAIN_EVERY     32          /* sends between error-queue reads */
#define CLOSE_WAIT_MS   2000        /* at the end, wait this long for completions */

struct slot {
	struct cb_message msg;
	uint32_t last_id;           /* completion id of the slot's last send */
	bool used;
};

struct a3 {
	struct cb_zc zc;
	unsigned nslots;
	unsigned since_drain;
	struct slot pool[];
};

static int zc_probe(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		cb_die("socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0) {
		cb_warn("setsockopt(SO_ZEROCOPY): %s: this kernel does not support "
			"MSG_ZEROCOPY on TCP (Linux 4.14 or later is needed)", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void *a3_open(struct cb_conn *c)
{
	uint32_t size = c->hello.msg_size;
	unsigned n = POOL_BYTES / size;
	struct a3 *s;
	int one = 1;

	if (setsockopt(c->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0) {
		c->err_call = "setsockopt(SO_ZEROCOPY)";
		return NULL;
	}
	n = n < POOL_MIN ? POOL_MIN : n > POOL_MAX ? POOL_MAX : n;
	s = calloc(1, sizeof(*s) + n * sizeof(struct slot));
	if (!s) {
		c->err_call = "malloc";
		return NULL;
	}
	s->nslots = n;
	cb_zc_init(&s->zc);
	for (unsigned i = 0; i < n; i++) {
		cb_msg_alloc(&s->pool[i].msg, size);
		cb_msg_fill(&s->pool[i].msg, 0);
	}
	return s;
}

/*
 * Read every notification waiting on the error queue; never blocks.
 * Returns how many were read, or -1 (c->err_call set) on a real error.
 */
static int drain(struct cb_conn *c, struct a3 *s)
{
	int got = 0;

	for (;;) {
		char control[128];
		struct msghdr mh = { .msg_control = control, .msg_controllen = sizeof(control) };
		struct sock_extended_err *ee;
		struct cmsghdr *cm;

		if (recvmsg(c->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			c->err_call = "recvmsg(MSG_ERRQUEUE)";
			return -1;
		}
		cm = CMSG_FIRSTHDR(&mh);
		if (!cm || !((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			     (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR))) {
			c->err_call = "recvmsg(MSG_ERRQUEUE): no IP_RECVERR control message";
			errno = EPROTO;
			return -1;
		}
		ee = (struct sock_extended_err *)CMSG_DATA(cm);
		if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee->ee_errno != 0) {
			/* Not a completion: a real socket error that rode the queue. */
			c->err_call = "recvmsg(MSG_ERRQUEUE): socket error";
			errno = ee->ee_errno ? (int)ee->ee_errno : EPROTO;
			return -1;
		}
		/* ee_info..ee_data is an inclusive range of send ids. */
		cb_zc_complete(&s->zc, ee->ee_info, ee->ee_data,
			       ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED);
		got++;
	}
	s->since_drain = 0;
	return got;
}

/*
 * Wait up to timeout_ms for notifications. poll() with no events asked for
 * still reports POLLERR, which is how a socket says its error queue has
 * something. Returns what drain() returns; 0 means nothing came in time or
 * the connection is gone (POLLHUP: the kernel freed what it held and queued
 * the completions, which the drain above has already read).
 */
static int wait_completions(struct cb_conn *c, struct a3 *s, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = 0 };
	int got = drain(c, s);

	if (got != 0)
		return got;
	if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR) {
		c->err_call = "poll";
		return -1;
	}
	got = drain(c, s);
	if (got == 0 && (p.revents & POLLHUP))
		return drain(c, s);
	return got;
}

static int a3_send(struct cb_conn *c, void *state, uint64_t seq)
{
	struct a3 *s = state;
	struct slot *sl = &s->pool[seq % s->nslots];
	struct iovec iov[CB_NFIELDS], *v = iov;
	int cnt = CB_NFIELDS;
	uint64_t stall = 0;
	unsigned nobufs = 0;

	/* The rule of MSG_ZEROCOPY: never touch a buffer the kernel still holds. */
	while ((sl->used && !cb_zc_is_done(&s->zc, sl->last_id)) ||
	       cb_zc_inflight(&s->zc) >= CB_ZC_RING - 2 * CB_NFIELDS) {
		int got = wait_completions(c, s, 100);

		if (got < 0)
			return -1;
		if (got == 0 && (stall += 100) >= 60000) {
			c->err_call = "waiting for zero-copy completions";
			errno = ETIMEDOUT;
			return -1;
		}
	}
	cb_msg_prepare(&sl->msg, seq, c->verify);
	cb_msg_iov(&sl->msg, iov);
	for (;;) {
		uint32_t calls = 0;
		int rc = cb_sendmsg_all(c->fd, &v, &cnt, MSG_ZEROCOPY, &calls);

		s->zc.next += calls;         /* each call that sent data took one id */
		c->zc_sends += calls;
		if (rc == 0)
			break;
		if (calls)
			nobufs = 0;          /* progress: the pressure is not unbroken */
		if (errno != ENOBUFS) {
			c->err_call = "sendmsg(MSG_ZEROCOPY)";
			return -1;
		}
		/*
		 * ENOBUFS: the notifications we have not read yet fill the
		 * socket's option memory (net.core.optmem_max). Reading them
		 * frees it, so retry as soon as some come back. With none in
		 * flight, or none arriving, it is memory pressure: wait, and
		 * give up after a second of it without progress.
		 */
		c->zc_enobufs++;
		if (cb_zc_inflight(&s->zc)) {
			int got = wait_completions(c, s, 10);

			if (got < 0)
				return -1;
			if (got > 0) {
				nobufs = 0;
				continue;
			}
		}
		if (cb_wait_nobufs(&nobufs) < 0) {
			c->err_call = "sendmsg(MSG_ZEROCOPY)";
			return -1;
		}
	}
	sl->used = true;
	sl->last_id = s->zc.next - 1;
	if (++s->since_drain >= DRAIN_EVERY && drain(c, s) < 0)
		return -1;
	return 0;
}

static void a3_close(struct cb_conn *c, void *state)
{
	struct a3 *s = state;
	int waited = 0;

	/* The socket must stay open until the kernel has given every buffer back. */
	while (cb_zc_inflight(&s->zc) && waited < CLOSE_WAIT_MS) {
		int got = wait_completions(c, s, 50);

		if (got < 0) {
			cb_warn("client %s: %s: %s", c->peer, c->err_call, strerror(errno));
			break;
		}
		if (got == 0)
			waited += 50;
	}
	c->zc_completions = s->zc.completions;
	c->zc_copied = s->zc.copied;
	c->zc_bogus = s->zc.bogus;
	c->zc_missing = cb_zc_inflight(&s->zc);
	if (c->zc_missing)
		cb_warn("client %s: %llu zero-copy completions never arrived", c->peer,
			(unsigned long long)c->zc_missing);
	for (unsigned i = 0; i < s->nslots; i++)
		cb_msg_free(&s->pool[i].msg);
	free(s);
}

static const struct cb_technique a3 = {
	.name = "A3", .impl = 3, .zerocopy = true, .probe = zc_probe,
	.open = a3_open, .send = a3_send, .close = a3_close,
};

int main(int argc, char **argv)
{
	return cb_server_main(argc, argv, &a3);
}
