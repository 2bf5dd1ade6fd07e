/*
 * tcp_count.so: an LD_PRELOAD shim for tests/t_numbers.sh. It reads the
 * kernel's own count of a TCP connection's bytes (TCP_INFO) at the last moment
 * the program still holds the socket: in close(). Nothing outside can: once the
 * last FIN is exchanged the socket leaves the kernel's tables (ss no longer
 * shows it), but its counters stay readable through the descriptor.
 *
 * For every TCP socket the program closes (not a listener) it appends one line
 * to the file named by CB_TCP_COUNT_LOG:
 *   tcp pid=P lport=L rport=R state=S bytes_received=N bytes_acked=N inq=N unacked=N notsent=N
 * lport/rport are remembered when connect() or accept()/accept4() hands the
 * socket out (after the last FIN getpeername fails). A socket whose own FIN is
 * not acknowledged yet (FIN_WAIT1, CLOSING, LAST_ACK: a server closing right
 * after its shutdown, data still queued or in flight before the FIN) is given
 * up to 10 s for the peer's ACK, so bytes_acked is final.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 65536
/* tcpi_state values (the kernel's include/net/tcp_states.h; no uapi header has them). */
#define STATE_FIN_WAIT1 4
#define STATE_LAST_ACK  9
#define STATE_LISTEN    10
#define STATE_CLOSING   11
static unsigned short lport[MAX_FD], rport[MAX_FD];
static int (*real_close)(int);

static unsigned short port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

static void remember(int fd)
{
	struct sockaddr_storage a = { 0 };
	socklen_t len = sizeof(a);

	if (fd < 0 || fd >= MAX_FD)
		return;
	if (getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		lport[fd] = port_of(&a);
	len = sizeof(a);
	if (getpeername(fd, (struct sockaddr *)&a, &len) == 0)
		rport[fd] = port_of(&a);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	int rc, err;

	if (!real)
		real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
	rc = real(fd, addr, len);
	err = errno;
	/* A non-blocking connect has its local port once it returns (EINPROGRESS). */
	if (fd >= 0 && fd < MAX_FD && (rc == 0 || err == EINPROGRESS)) {
		struct sockaddr_storage a = { 0 };
		socklen_t alen = sizeof(a);

		if (getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
			lport[fd] = port_of(&a);
		if (addr && len >= sizeof(struct sockaddr_in)) {
			memcpy(&a, addr, len < sizeof(a) ? len : sizeof(a));
			rport[fd] = port_of(&a);
		}
	}
	errno = err;
	return rc;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	static int (*real)(int, struct sockaddr *, socklen_t *, int);
	int nfd, err;

	if (!real)
		real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
	nfd = real(fd, addr, len, flags);
	err = errno;
	remember(nfd);
	errno = err;
	return nfd;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}

static int tcp_info_of(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);
	int type = 0;
	socklen_t tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM)
		return -1;
	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
}

static void log_counts(int fd)
{
	const char *path = getenv("CB_TCP_COUNT_LOG");
	struct tcp_info ti;
	char line[400];
	int inq = 0, n, out;

	if (!path || fd < 0 || fd >= MAX_FD || tcp_info_of(fd, &ti) < 0 || ti.tcpi_state == STATE_LISTEN)
		return;
	/* Our FIN, and so maybe data before it, not acknowledged yet: give the peer up to 10 s. */
	for (int i = 0; i < 1000 && (ti.tcpi_state == STATE_FIN_WAIT1 || ti.tcpi_state == STATE_CLOSING ||
				    ti.tcpi_state == STATE_LAST_ACK); i++) {
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
		if (tcp_info_of(fd, &ti) < 0)
			return;
	}
	if (ioctl(fd, SIOCINQ, &inq) < 0)
		inq = -1;
	n = snprintf(line, sizeof(line),
		     "tcp pid=%d lport=%u rport=%u state=%u bytes_received=%llu bytes_acked=%llu "
		     "inq=%d unacked=%u notsent=%u\n",
		     (int)getpid(), lport[fd], rport[fd], ti.tcpi_state,
		     (unsigned long long)ti.tcpi_bytes_received, (unsigned long long)ti.tcpi_bytes_acked,
		     inq, ti.tcpi_unacked, ti.tcpi_notsent_bytes);
	out = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (out < 0)
		return;
	/* One write per line, O_APPEND: lines of concurrent closes do not mix. */
	if (n > 0 && write(out, line, (size_t)n) < 0) {
		/* nothing to do: the test finds the line missing */
	}
	real_close(out);
}

int close(int fd)
{
	int err = errno;

	if (!real_close)
		real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	log_counts(fd);
	if (fd >= 0 && fd < MAX_FD)
		lport[fd] = rport[fd] = 0;
	errno = err;
	return real_close(fd);
}
