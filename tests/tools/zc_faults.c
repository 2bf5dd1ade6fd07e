/*
 * zc_faults.so: an LD_PRELOAD shim for tests/t_timing.sh that makes the
 * kernel behave in two rare but legal ways A3 must survive:
 *   CB_ZC_SHORT=N   a sendmsg(MSG_ZEROCOPY) sends at most N bytes (a short
 *                   send, as a signal or RLIMIT_MEMLOCK can cause): every call
 *                   takes one more completion id, so a message takes many;
 *   CB_ZC_POLL_HUP=1 a poll() of one socket for no event (A3's wait for
 *                   completions) returns at once with POLLHUP, as for a
 *                   hung-up socket whose pages the kernel still holds.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif

ssize_t sendmsg(int fd, const struct msghdr *mh, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);
	const char *cap = getenv("CB_ZC_SHORT");
	struct iovec iov[64];
	struct msghdr m;
	size_t left;
	int n = 0;

	if (!real)
		real = (ssize_t (*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");
	if (!(flags & MSG_ZEROCOPY) || !cap || atol(cap) <= 0 || mh->msg_iovlen > 64)
		return real(fd, mh, flags);
	/* The same iovec, cut after N bytes. */
	left = (size_t)atol(cap);
	for (size_t i = 0; i < mh->msg_iovlen && left; i++, n++) {
		iov[n] = mh->msg_iov[i];
		if (iov[n].iov_len > left)
			iov[n].iov_len = left;
		left -= iov[n].iov_len;
	}
	m = *mh;
	m.msg_iov = iov;
	m.msg_iovlen = (size_t)n;
	return real(fd, &m, flags);
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	static int (*real)(struct pollfd *, nfds_t, int);
	const char *hup = getenv("CB_ZC_POLL_HUP");

	if (!real)
		real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
	if (hup && *hup == '1' && n == 1 && fds[0].fd >= 0 && fds[0].events == 0) {
		fds[0].revents = POLLHUP;
		return 1;
	}
	return real(fds, n, timeout);
}
