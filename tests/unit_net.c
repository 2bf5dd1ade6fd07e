/*
 * Unit tests of src/net.c: advancing an iovec over the message's fields after
 * short sends; the send deadline (a blocked send interrupted by a signal gives
 * up at the deadline, not a fresh SO_SNDTIMEO later); a zero-copy sendmsg
 * handing back after each call. On a socketpair, no network. Prints TAP.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "base.h"
#include "net.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- iovec advance ------------------------------------------------------------ */

static void test_iov(void)
{
	struct cb_message m;
	bool all_ok = true;

	cb_msg_alloc(&m, 1003);
	cb_msg_fill(&m, 9);
	cb_msg_stamp(&m, 9, 1);
	unsigned char *flat = flatten(&m);

	/* Advance by every split point, in one or two steps; what is left must be
	 * exactly the tail of the message. */
	for (size_t a = 0; a <= m.size; a++) {
		for (size_t b = a; b <= m.size; b += 97) {
			struct iovec iov[CB_NFIELDS], *v = iov;
			int cnt = CB_NFIELDS;
			size_t left;

			cb_msg_iov(&m, iov);
			cb_iov_advance(&v, &cnt, a);
			left = cb_iov_advance(&v, &cnt, b - a);
			size_t pos = b;
			for (int i = 0; i < cnt; i++) {
				all_ok &= !memcmp(v[i].iov_base, flat + pos, v[i].iov_len);
				pos += v[i].iov_len;
			}
			all_ok &= left == m.size - b && pos == m.size;
			all_ok &= (b == m.size) == (cnt == 0);
			for (int i = 0; i < cnt; i++)
				all_ok &= v[i].iov_len > 0;
		}
	}
	ok(all_ok, "iov advance: every split point leaves exactly the tail, no empty entries");
	free(flat);
	cb_msg_free(&m);
}

/* ---- the send deadline ---------------------------------------------------------- */

static void on_alarm(int sig) { (void)sig; }

/* A peer that reads nothing, SO_SNDTIMEO 10 s, SIGALRM every 50 ms (no SA_RESTART), as the
 * server's SIGUSR1 while it stops: the send gives up at the deadline with ETIMEDOUT. */
static void test_deadline(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval every = { { 0, 50000 }, { 0, 50000 } }, off = { { 0, 0 }, { 0, 0 } };
	static char buf[1 << 22];
	uint64_t deadline = UINT64_MAX, t0, ms;
	size_t done = 0;
	int sv[2], rc, err;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		ok(0, "socketpair: %s", strerror(errno));
		return;
	}
	cb_set_timeout(sv[0], SO_SNDTIMEO, 10);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	cb_net_send_deadline(&deadline);
	__atomic_store_n(&deadline, cb_now_ns() + 300000000ull, __ATOMIC_RELAXED);
	t0 = cb_now_ns();
	setitimer(ITIMER_REAL, &every, NULL);
	rc = cb_write_all(sv[0], buf, sizeof(buf), &done);
	err = errno;
	setitimer(ITIMER_REAL, &off, NULL);
	ms = (cb_now_ns() - t0) / 1000000;
	ok(rc == -1 && err == ETIMEDOUT && ms >= 290 && ms < 5000,
	   "a send blocked on a reader that takes nothing, woken every 50 ms: ETIMEDOUT at the 300 ms "
	   "deadline, not after SO_SNDTIMEO's 10 s (%llu ms, %s)", (unsigned long long)ms, strerror(err));
	ok(done > 0 && done < sizeof(buf), "...and *done counts what the kernel took before it (%zu)", done);
	__atomic_store_n(&deadline, UINT64_MAX, __ATOMIC_RELAXED);
	rc = cb_write_all(sv[1], "x", 1, NULL);
	ok(rc == 0, "no deadline (UINT64_MAX): a send goes through");
	cb_net_send_deadline(NULL);
	close(sv[0]);
	close(sv[1]);
}

/* A zero-copy caller bounds its completion ids per call: cb_sendmsg_all hands back after each. */
static void test_zerocopy_per_call(void)
{
	static char a[1 << 20], b[1 << 20];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } }, *v = iov;
	int sv[2], cnt = 2, small = 65536, rc;
	uint32_t calls = 0;
	size_t done = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		ok(0, "socketpair: %s", strerror(errno));
		return;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);       /* a short send, then EAGAIN */
	rc = cb_sendmsg_all(sv[0], &v, &cnt, MSG_ZEROCOPY, &calls, &done);
	ok(rc == 0 && calls == 1 && done > 0 && done < sizeof(a) + sizeof(b) && cnt > 0,
	   "MSG_ZEROCOPY: one call, a short send, back to the caller with the rest in the iovec "
	   "(rc %d, calls %u, %zu bytes)", rc, calls, done);
	rc = cb_sendmsg_all(sv[0], &v, &cnt, 0, &calls, &done);
	ok(rc == -1 && errno == EAGAIN, "a plain send loops on until the error (EAGAIN here)");
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	test_iov();
	test_deadline();
	test_zerocopy_per_call();
	return done_testing();
}
