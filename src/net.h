/*
 * net: sockets. Listening and connecting by name, reading and writing whole
 * buffers through short transfers and EINTR, sendmsg of a whole iovec, the
 * wait after ENOBUFS, timeouts and the peer's address for log lines.
 */
#ifndef COPYBENCH_NET_H
#define COPYBENCH_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* ---- sockets ------------------------------------------------------------- */
/* Bound, listening socket; exits 1 naming the call on failure. Reports port. */
int cb_listen(const char *addr, unsigned port, unsigned *bound_port);
/*
 * Connected socket, or -1 with a message in err (getaddrinfo/connect text,
 * "no answer within N s", "interrupted"). Gives up after timeout_s, or
 * within 100 ms of *stop becoming non-zero (stop may be NULL).
 */
int cb_connect(const char *host, unsigned port, double timeout_s, const int *stop,
	       char *err, size_t errlen);
/*
 * The deadline every send of this process keeps (CLOCK_MONOTONIC ns; the
 * value UINT64_MAX: none), read with a relaxed load before each send call:
 * the server points it at its stop deadline. A blocked send outlives it only
 * until a signal interrupts it (the server sends SIGUSR1 every 100 ms while
 * stopping); a retry after EINTR does not restart SO_SNDTIMEO past it.
 */
void cb_net_send_deadline(const uint64_t *deadline_ns);
/*
 * Loops on short transfers and EINTR; 0 ok, -1 errno set (0 = EOF for read;
 * ETIMEDOUT: the send deadline passed). *done (if not NULL) grows by the
 * bytes written, also when it fails half way.
 */
int cb_write_all(int fd, const void *buf, size_t len, size_t *done);
int cb_read_all(int fd, void *buf, size_t len);
/*
 * cb_read_all within `seconds` in all: a per-recv timeout alone would let a
 * peer that drips one byte at a time hold the reader for ever. -1 with
 * errno EAGAIN when the time is up (SO_RCVTIMEO is left cleared); -1 with
 * errno EINTR within 100 ms of *stop becoming non-zero (stop may be NULL).
 */
int cb_read_all_within(int fd, void *buf, size_t len, double seconds, const int *stop);
/*
 * After a partial write of `done` bytes, advance (*iov, *iovcnt) past them:
 * drop whole entries, trim the first partial one. Returns bytes left.
 */
size_t cb_iov_advance(struct iovec **iov, int *iovcnt, size_t done);
/*
 * sendmsg until the iovec is empty, advancing it; 0, or -1 with errno set
 * and the iovec describing what is left. *calls counts calls that sent data
 * (each zero-copy one takes a completion id). EINTR is retried until the
 * send deadline; ENOBUFS of a plain send waits and retries, of a zero-copy
 * send goes to the caller. A zero-copy send returns 0 after every call that
 * sent data, the iovec advanced, so that its caller can bound the ids in
 * flight; it loops while *iovcnt > 0. *done (if not NULL) grows by the bytes sent.
 */
int cb_sendmsg_all(int fd, struct iovec **iov, int *iovcnt, int flags, uint32_t *calls,
		   size_t *done);
/*
 * Sleep a millisecond after ENOBUFS; -1 (errno ENOBUFS) once *streak says a
 * second of them came back to back. The caller zeroes *streak whenever a
 * send makes progress, so only an unbroken run of failures gives up.
 */
int cb_wait_nobufs(unsigned *streak);
void cb_set_timeout(int fd, int which, double seconds);  /* SO_RCVTIMEO/SO_SNDTIMEO */
const char *cb_peer_str(int fd, char *buf, size_t len);
/* TCP_NODELAY: rr answers one message per request, Nagle would hold it. */
void cb_set_nodelay(int fd);
/*
 * What the peer's TCP has acknowledged of everything this socket sent
 * (TCP_INFO tcpi_bytes_acked, the SYN not counted, a FIN counted 1), and
 * whether the connection is over (reset or closed): 0, or -1 (errno) when
 * the kernel does not say (before Linux 4.1: no tcpi_bytes_acked).
 */
int cb_tcp_acked(int fd, uint64_t *acked, int *closed);
/*
 * How long the kernel may hold back its ACK of data this socket received:
 * its current delayed-ACK timeout (TCP_INFO tcpi_ato) and a 10 ms tick of
 * margin, never more than Linux's longest, 200 ms (TCP_DELACK_MAX).
 */
uint64_t cb_tcp_delack_ns(int fd);

#endif
