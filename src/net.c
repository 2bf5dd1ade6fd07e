/* net: see net.h. */
#define _GNU_SOURCE
#include "net.h"

#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- sockets ----------------------------------------------------------------- */

int cb_listen(const char *addr, unsigned port, unsigned *bound_port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char portstr[16];
	int fd = -1, err, one = 1, saved = 0;

	snprintf(portstr, sizeof(portstr), "%u", port);
	err = getaddrinfo(addr, portstr, &hints, &res);
	if (err)
		cb_die("cannot resolve bind address '%s': %s", addr, gai_strerror(err));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		cb_die("bind %s port %u: %s", addr, port, strerror(saved));
	if (bound_port) {
		union { struct sockaddr sa; struct sockaddr_in in; struct sockaddr_in6 in6; } a = { 0 };
		socklen_t sl = sizeof(a);

		if (getsockname(fd, &a.sa, &sl) < 0)
			cb_die("getsockname: %s", strerror(errno));
		*bound_port = ntohs(a.sa.sa_family == AF_INET6 ? a.in6.sin6_port : a.in.sin_port);
	}
	return fd;
}

static bool stopped(const int *stop)
{
	return stop && __atomic_load_n(stop, __ATOMIC_RELAXED);
}

/*
 * connect() without blocking: an unreachable host would hold a blocking
 * connect for ~2 minutes of SYN retries, deaf to Ctrl-C. 0 connected, -1
 * with errno (ETIMEDOUT at the deadline, EINTR when *stop was set).
 */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t len, double seconds,
			  const int *stop)
{
	uint64_t deadline = cb_now_ns() + (uint64_t)(seconds * 1e9);
	int flags = fcntl(fd, F_GETFL), soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			return -1;
		for (;;) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			uint64_t now = cb_now_ns();
			int n;

			if (stopped(stop)) {
				errno = EINTR;
				return -1;
			}
			if (now >= deadline) {
				errno = ETIMEDOUT;
				return -1;
			}
			/* 100 ms slices: a stop request is seen within one. */
			n = poll(&p, 1, (int)((deadline - now) / 1000000 < 100 ? (deadline - now) / 1000000 + 1 : 100));
			if (n < 0 && errno != EINTR)
				return -1;
			if (n > 0)
				break;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return -1;
		if (soerr) {
			errno = soerr;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, flags);
}

int cb_connect(const char *host, unsigned port, double timeout_s, const int *stop,
	       char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char portstr[16];
	int fd = -1, rc, saved = 0;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve host '%s': %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect_within(fd, ai->ai_addr, ai->ai_addrlen, timeout_s, stop) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
		if (saved == EINTR)
			break;             /* stopped: do not try the next address */
	}
	freeaddrinfo(res);
	if (fd >= 0)
		return fd;
	if (saved == ETIMEDOUT)
		snprintf(err, errlen, "connect %s port %u: no answer within %g s (--connect-timeout)",
			 host, port, timeout_s);
	else if (saved == EINTR)
		snprintf(err, errlen, "connect %s port %u: interrupted", host, port);
	else
		snprintf(err, errlen, "connect %s port %u: %s", host, port, strerror(saved));
	return -1;
}

static const uint64_t *send_deadline;   /* NULL: none */

void cb_net_send_deadline(const uint64_t *deadline_ns)
{
	send_deadline = deadline_ns;
}

/* A relaxed load and a compare per send call; the clock only once a deadline is set. */
static bool past_deadline(void)
{
	uint64_t d = send_deadline ? __atomic_load_n(send_deadline, __ATOMIC_RELAXED) : UINT64_MAX;

	if (d == UINT64_MAX || cb_now_ns() < d)
		return false;
	errno = ETIMEDOUT;
	return true;
}

int cb_write_all(int fd, const void *buf, size_t len, size_t *done)
{
	const char *p = buf;
	unsigned nobufs = 0;

	while (len) {
		ssize_t n;

		if (past_deadline())
			return -1;
		n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS && cb_wait_nobufs(&nobufs) == 0)
				continue;
			return -1;
		}
		nobufs = 0;
		p += n;
		len -= (size_t)n;
		if (done)
			*done += (size_t)n;
	}
	return 0;
}

int cb_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n == 0) {
			errno = 0;         /* EOF */
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cb_read_all_within(int fd, void *buf, size_t len, double seconds, const int *stop)
{
	uint64_t deadline = cb_now_ns() + (uint64_t)(seconds * 1e9);
	char *p = buf;
	int rc = 0;

	while (len) {
		uint64_t now = cb_now_ns(), left = deadline - now;
		ssize_t n;

		if (now >= deadline) {
			errno = EAGAIN;
			rc = -1;
			break;
		}
		if (stopped(stop)) {
			errno = EINTR;
			rc = -1;
			break;
		}
		/* With a stop flag, wake every 100 ms to look at it. */
		if (stop && left > 100000000)
			left = 100000000;
		cb_set_timeout(fd, SO_RCVTIMEO, (double)left / 1e9 + 1e-6);
		n = recv(fd, p, len, 0);
		if (n == 0) {
			errno = 0;         /* EOF */
			rc = -1;
			break;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;  /* the deadline check decides */
			rc = -1;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	int saved = errno;
	cb_set_timeout(fd, SO_RCVTIMEO, 0);
	errno = saved;
	return rc;
}

size_t cb_iov_advance(struct iovec **iov, int *iovcnt, size_t done)
{
	size_t left = 0;

	while (*iovcnt > 0 && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*iovcnt)--;
	}
	if (*iovcnt > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
	for (int i = 0; i < *iovcnt; i++)
		left += (*iov)[i].iov_len;
	return left;
}

int cb_sendmsg_all(int fd, struct iovec **iov, int *iovcnt, int flags, uint32_t *calls,
		   size_t *done)
{
	unsigned nobufs = 0;

	while (*iovcnt > 0) {
		struct msghdr mh = { .msg_iov = *iov, .msg_iovlen = (size_t)*iovcnt };
		ssize_t n;

		if (past_deadline())
			return -1;
		n = sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/*
			 * A plain send can hit ENOBUFS under memory pressure: wait
			 * a moment and retry. A zero-copy send's ENOBUFS means its
			 * notification memory (optmem) is full: only the caller
			 * can drain that, so it gets the error.
			 */
			if (errno == ENOBUFS && !(flags & MSG_ZEROCOPY) && cb_wait_nobufs(&nobufs) == 0)
				continue;
			return -1;
		}
		nobufs = 0;
		if (calls)
			(*calls)++;
		if (done)
			*done += (size_t)n;
		cb_iov_advance(iov, iovcnt, (size_t)n);
		if (flags & MSG_ZEROCOPY)
			break;             /* one id taken: the caller counts and bounds them */
	}
	return 0;
}

int cb_wait_nobufs(unsigned *streak)
{
	/* Memory pressure passes in milliseconds; give up after a second of it. */
	struct timespec ts = { 0, 1000000 };

	if (++*streak > 1000) {
		errno = ENOBUFS;
		return -1;
	}
	nanosleep(&ts, NULL);
	return 0;
}

void cb_set_timeout(int fd, int which, double seconds)
{
	struct timeval tv = { .tv_sec = (time_t)seconds,
			      .tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6) };

	setsockopt(fd, SOL_SOCKET, which, &tv, sizeof(tv));
}

const char *cb_peer_str(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
			    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, len, "%s:%s", host, port);
	return buf;
}

void cb_set_nodelay(int fd)
{
	int one = 1;

	/* rr answers one message per request: Nagle would hold a short last
	 * segment until the peer's delayed ACK, adding up to 40 ms. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int cb_tcp_acked(int fd, uint64_t *acked, int *closed)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	if (len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked)) {
		errno = ENOPROTOOPT;
		return -1;
	}
	*acked = ti.tcpi_bytes_acked;
	*closed = ti.tcpi_state == 7;        /* TCP_CLOSE (include/net/tcp_states.h) */
	return 0;
}

uint64_t cb_tcp_delack_ns(int fd)
{
	const uint64_t max_ns = 200000000ull;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	uint64_t ns;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || !ti.tcpi_ato)
		return max_ns;
	ns = (uint64_t)ti.tcpi_ato * 1000 + 10000000ull;
	return ns < max_ns ? ns : max_ns;
}
