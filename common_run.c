/*
 * copybench shared module, part two: the server frame (accept loop, one
 * thread per connection, the hello, stream and request/response loops,
 * the summary) and the client (one receiving thread per connection, the
 * measured window, live lines, the result line). A technique plugs into the
 * server frame through struct cb_technique; the receiver is the same for all
 * three techniques on purpose, so that what differs between A1, A2 and A3
 * results is the sender alone.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define HELLO_TIMEOUT_S   10.0   /* a client must say hello within this */
#define SEND_STALL_S      60.0   /* a peer that reads nothing for this long is dropped */
#define THREAD_STACK      (256u << 10)
#define REPLY_GRACE_NS    10000000000ull /* after the window, wait this long for a server */

static void set_nodelay(int fd)
{
	int one = 1;

	/* rr answers one message per request: Nagle would hold a short last
	 * segment until the peer's delayed ACK, adding up to 40 ms. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static const char *prog_name(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return slash ? slash + 1 : argv0;
}

/* ======================================================================
 * Server
 * ====================================================================== */

static const struct cb_technique *tech;
static struct cb_server_opts sopts;
static int wake_fd = -1;            /* eventfd: a connection thread finished */
static int server_stopping;         /* set by the main thread on a signal */

static void conn_log(const struct cb_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void conn_log(const struct cb_conn *c, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (sopts.quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cb_warn("client %s: %s", c->peer, msg);
}

static void conn_fail(struct cb_conn *c, const char *call, int err)
{
	c->err_call = call;
	c->err = err;
	c->failed = true;
}

/* Read and answer the hello; true when the connection may go on. */
static bool handshake(struct cb_conn *c)
{
	unsigned char in[CB_HELLO_LEN], out[CB_REPLY_LEN];
	struct cb_reply r = { .magic = CB_MAGIC, .version = CB_VERSION, .impl = (uint16_t)tech->impl };
	enum cb_status st;

	if (cb_read_all_within(c->fd, in, sizeof(in), HELLO_TIMEOUT_S) < 0) {
		conn_log(c, "no hello: %s; closing", errno == 0 ? "connection closed" :
			 errno == EAGAIN ? "timed out" : strerror(errno));
		return false;
	}
	cb_hello_decode(in, &c->hello);
	st = cb_hello_check(&c->hello);
	r.status = (uint16_t)st;
	cb_reply_encode(&r, out);
	/* The reply says why, so the client can print it; best effort. */
	if (cb_write_all(c->fd, out, sizeof(out)) < 0 && st == CB_OK) {
		conn_log(c, "send reply: %s; closing", strerror(errno));
		return false;
	}
	if (st != CB_OK) {
		conn_log(c, "bad hello: %s (magic 0x%08x version %u size %u mode %u); closing",
			 cb_status_str(st), c->hello.magic, c->hello.version,
			 c->hello.msg_size, c->hello.mode);
		return false;
	}
	c->verify = c->hello.flags & CB_FLAG_VERIFY;
	/* A peer that stops reading must not pin this thread forever. */
	cb_set_timeout(c->fd, SO_SNDTIMEO, SEND_STALL_S);
	return true;
}

/*
 * Stream mode ends when the client shuts down its side: a zero-byte read.
 * Checked with a non-blocking peek about once per MiB sent (every 1024
 * messages of 1 KiB, every 16 of 64 KiB): one extra syscall per 1024 sends
 * at worst, while the end is still seen within a millisecond at 10 Gbit/s.
 */
#define EOF_CHECK_BYTES (1u << 20)
static bool client_left(struct cb_conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_DONTWAIT);

	if (n == 0)
		return true;
	if (n > 0) {
		conn_log(c, "sent data in stream mode; closing");
		conn_fail(c, "recv", EPROTO);
		return true;
	}
	if (errno == EAGAIN || errno == EINTR)
		return false;
	conn_fail(c, "recv", errno);
	return true;
}

static void serve_stream(struct cb_conn *c, void *state)
{
	uint32_t size = c->hello.msg_size;
	uint64_t every = size >= EOF_CHECK_BYTES ? 1 : EOF_CHECK_BYTES / size, countdown = 1;

	for (uint64_t seq = 0;; seq++) {
		if (--countdown == 0) {
			if (client_left(c))
				return;
			countdown = every;
		}
		if (tech->send(c, state, seq) < 0) {
			conn_fail(c, c->err_call, errno);
			return;
		}
		c->messages++;
		c->bytes += size;
	}
}

static void serve_rr(struct cb_conn *c, void *state)
{
	unsigned char req[CB_RR_REQ_LEN];

	set_nodelay(c->fd);
	for (;;) {
		if (cb_read_all(c->fd, req, sizeof(req)) < 0) {
			if (errno != 0)        /* 0: the client left cleanly */
				conn_fail(c, "recv", errno);
			return;
		}
		if (tech->send(c, state, cb_get_be64(req)) < 0) {
			conn_fail(c, c->err_call, errno);
			return;
		}
		c->messages++;
		c->bytes += c->hello.msg_size;
	}
}

static void *conn_main(void *arg)
{
	struct cb_conn *c = arg;
	uint64_t one = 1;

	if (handshake(c)) {
		void *state;

		c->accepted = true;
		conn_log(c, "connected: %s, %u B messages%s",
			 c->hello.mode == CB_RR ? "rr" : "stream", c->hello.msg_size,
			 c->verify ? ", verify" : "");
		state = tech->open(c);
		if (!state) {
			conn_fail(c, c->err_call, errno);
		} else {
			if (c->hello.mode == CB_RR)
				serve_rr(c, state);
			else
				serve_stream(c, state);
			tech->close(c, state);
		}
		/* Everything sent, then EOF: the client counts every byte. */
		shutdown(c->fd, SHUT_WR);
		if (c->failed && __atomic_load_n(&server_stopping, __ATOMIC_RELAXED))
			c->failed = false;     /* we cut it ourselves */
		if (c->failed)
			conn_log(c, "ended: %s: %s (%llu messages, %llu bytes sent)",
				 c->err_call ? c->err_call : "send", strerror(c->err),
				 (unsigned long long)c->messages, (unsigned long long)c->bytes);
		else
			conn_log(c, "done: %llu messages, %llu bytes sent",
				 (unsigned long long)c->messages, (unsigned long long)c->bytes);
	}
	__atomic_store_n(&c->finished, 1, __ATOMIC_RELEASE);
	if (write(wake_fd, &one, sizeof(one)) < 0) {
		/* eventfd writes only fail on overflow; the main loop polls anyway */
	}
	return NULL;
}

struct totals {
	uint64_t clients, rejected, errors, bytes, messages;
	uint64_t zc_sends, zc_completions, zc_copied, zc_enobufs, zc_missing, zc_bogus;
};

static void merge_conn(struct totals *t, const struct cb_conn *c)
{
	if (c->accepted)
		t->clients++;
	else
		t->rejected++;
	t->errors += c->failed;
	t->bytes += c->bytes;
	t->messages += c->messages;
	t->zc_sends += c->zc_sends;
	t->zc_completions += c->zc_completions;
	t->zc_copied += c->zc_copied;
	t->zc_enobufs += c->zc_enobufs;
	t->zc_missing += c->zc_missing;
	t->zc_bogus += c->zc_bogus;
}

/* Join finished connection threads (all of them if `all`); returns how many. */
static long reap(struct cb_conn **list, struct totals *t, bool all)
{
	long n = 0;

	for (struct cb_conn **pp = list; *pp;) {
		struct cb_conn *c = *pp;

		if (!all && !__atomic_load_n(&c->finished, __ATOMIC_ACQUIRE)) {
			pp = &c->next;
			continue;
		}
		pthread_join(c->thread, NULL);
		merge_conn(t, c);
		close(c->fd);
		*pp = c->next;
		free(c);
		n++;
	}
	return n;
}

static void print_server_result(const struct totals *t)
{
	struct cb_line l;

	cb_line_start(&l, "result");
	cb_line_add(&l, "impl", "%s", tech->name);
	cb_line_add(&l, "side", "server");
	cb_line_add(&l, "clients", "%llu", (unsigned long long)t->clients);
	cb_line_add(&l, "rejected", "%llu", (unsigned long long)t->rejected);
	cb_line_add(&l, "errors", "%llu", (unsigned long long)t->errors);
	cb_line_add(&l, "bytes", "%llu", (unsigned long long)t->bytes);
	cb_line_add(&l, "messages", "%llu", (unsigned long long)t->messages);
	cb_line_add(&l, "cpu_s", "%.3f", cb_cpu_seconds());
	if (tech->zerocopy) {
		cb_line_add(&l, "zc_sends", "%llu", (unsigned long long)t->zc_sends);
		cb_line_add(&l, "zc_completions", "%llu", (unsigned long long)t->zc_completions);
		cb_line_add(&l, "zc_copied", "%llu", (unsigned long long)t->zc_copied);
		cb_line_add(&l, "zc_enobufs", "%llu", (unsigned long long)t->zc_enobufs);
		cb_line_add(&l, "zc_missing", "%llu", (unsigned long long)t->zc_missing);
		cb_line_add(&l, "zc_bogus", "%llu", (unsigned long long)t->zc_bogus);
	}
	cb_line_print(&l);
}

int cb_server_main(int argc, char **argv, const struct cb_technique *t)
{
	struct cb_conn *live = NULL;
	struct totals tot = { 0 };
	long accepted = 0, finished = 0;
	pthread_attr_t attr;
	sigset_t sigs;
	unsigned port;
	int lfd, sfd;

	cb_prog = prog_name(argv[0]);
	tech = t;
	cb_server_parse(argc, argv, t->name, &sopts);
	signal(SIGPIPE, SIG_IGN);
	if (t->probe && t->probe() < 0)
		exit(1);
	/* Signals go to a signalfd the accept loop polls; no thread is interrupted. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sfd < 0 || wake_fd < 0)
		cb_die("signalfd/eventfd: %s", strerror(errno));
	lfd = cb_listen(sopts.bind_addr, sopts.port, &port);
	printf("listening addr=%s port=%u\n", sopts.bind_addr, port);
	fflush(stdout);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);

	while (!sopts.clients || finished < sopts.clients) {
		struct pollfd pfd[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = wake_fd, .events = POLLIN },
			{ .fd = lfd, .events = POLLIN },
		};
		int n = poll(pfd, lfd >= 0 ? 3 : 2, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			cb_die("poll: %s", strerror(errno));
		}
		if (pfd[0].revents & POLLIN)
			break;             /* SIGINT or SIGTERM: stop serving */
		if (pfd[1].revents & POLLIN) {
			uint64_t v;

			if (read(wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				cb_die("read eventfd: %s", strerror(errno));
			finished += reap(&live, &tot, false);
		}
		if (lfd >= 0 && (pfd[2].revents & POLLIN)) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			struct cb_conn *c;
			int err;

			if (fd < 0) {
				if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
					/* Out of descriptors: say so and let finishing clients free some. */
					cb_warn("accept: %s (waiting for connections to finish)", strerror(errno));
					poll(NULL, 0, 100);
				} else if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
					cb_die("accept: %s", strerror(errno));
				}
				continue;
			}
			c = calloc(1, sizeof(*c));
			if (!c)
				cb_die("calloc: %s", strerror(errno));
			c->fd = fd;
			cb_peer_str(fd, c->peer, sizeof(c->peer));
			err = pthread_create(&c->thread, &attr, conn_main, c);
			if (err) {
				cb_warn("client %s: pthread_create: %s; closing", c->peer, strerror(err));
				close(fd);
				free(c);
				tot.rejected++;
				continue;
			}
			c->next = live;
			live = c;
			if (sopts.clients && ++accepted == sopts.clients) {
				close(lfd);    /* -n N: no connection beyond the Nth */
				lfd = -1;
			}
		}
	}
	/* Stop: cut every live connection so blocked sends return, then join. */
	__atomic_store_n(&server_stopping, 1, __ATOMIC_RELAXED);
	for (struct cb_conn *c = live; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	reap(&live, &tot, true);
	if (lfd >= 0)
		close(lfd);
	print_server_result(&tot);
	return 0;
}

/* ======================================================================
 * Client
 * ====================================================================== */

struct worker {
	pthread_t th;
	int fd;
	struct cb_rx rx;
	uint64_t win_bytes, win_msgs;   /* inside the measured window */
	uint64_t raw_bytes;             /* every byte received */
	uint64_t pub_bytes, pub_msgs;   /* published now and then for -i lines */
	bool failed;
	char errmsg[200];
	struct cb_hist hist;
};

static struct cb_client_opts copts;
static const char *client_impl;
static unsigned client_impl_num;
static pthread_barrier_t ready, go;
static uint64_t t0, t_end;
static int client_stop;            /* set by main on a signal or a failed start */
static unsigned workers_left;      /* running workers; main stops early at 0 */

static void wfail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wfail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return;                    /* the first error is the cause */
	va_start(ap, fmt);
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
	w->failed = true;
}

static const char *recv_error(int n)
{
	return n == 0 ? "server closed the connection" : strerror(errno);
}

static bool client_handshake(struct worker *w)
{
	struct cb_hello h = { .magic = CB_MAGIC, .version = CB_VERSION, .mode = (uint16_t)copts.mode,
			      .msg_size = copts.size, .flags = copts.verify ? CB_FLAG_VERIFY : 0 };
	unsigned char out[CB_HELLO_LEN], in[CB_REPLY_LEN];
	struct cb_reply r;
	char err[200];

	w->fd = cb_connect(copts.host, copts.port, err, sizeof(err));
	if (w->fd < 0) {
		wfail(w, "%s", err);
		return false;
	}
	if (copts.mode == CB_RR)
		set_nodelay(w->fd);
	cb_hello_encode(&h, out);
	cb_set_timeout(w->fd, SO_SNDTIMEO, HELLO_TIMEOUT_S);
	if (cb_write_all(w->fd, out, sizeof(out)) < 0) {
		wfail(w, "send hello: %s", strerror(errno));
		return false;
	}
	cb_set_timeout(w->fd, SO_SNDTIMEO, 0);
	if (cb_read_all_within(w->fd, in, sizeof(in), HELLO_TIMEOUT_S) < 0) {
		wfail(w, "recv hello reply: %s", errno == 0 ? "server closed the connection" :
		      errno == EAGAIN ? "timed out" : strerror(errno));
		return false;
	}
	cb_reply_decode(in, &r);
	if (r.magic != CB_MAGIC) {
		wfail(w, "recv hello reply: not a copybench server (magic 0x%08x)", r.magic);
		return false;
	}
	if (r.status != CB_OK) {
		wfail(w, "server refused the hello: %s", cb_status_str(r.status));
		return false;
	}
	if (r.impl != client_impl_num) {
		/* Results are labelled by technique: a mismatch would mislabel them. */
		wfail(w, "the server runs A%u, this is the %s client: use A%u_client", r.impl,
		      client_impl, r.impl);
		return false;
	}
	/* Wake up now and then to look at the clock and the stop flag. */
	cb_set_timeout(w->fd, SO_RCVTIMEO, 0.2);
	/*
	 * This receiver is fast enough to be asleep most of the time, so with
	 * the kernel's low-water mark of one byte nearly every segment the
	 * sender queues wakes it, and on a VM that cross-CPU wake-up costs the
	 * sender more than the send itself: --rcvlowat 32K took A2 at 4 KiB
	 * from 12.5 to 22 Gbit/s on loopback. It is off by default because on
	 * a 1500-byte-MTU path small segments carry so much buffer overhead
	 * that the window fills before the mark is reached: 1 KiB messages
	 * over veth fell from 5.5 to 1.6 Gbit/s with it. The mark is not a
	 * deadline: SO_RCVTIMEO, EOF and errors still end a recv early.
	 */
	if (copts.mode == CB_STREAM && copts.rcvlowat) {
		int lw = (int)copts.rcvlowat;

		if (setsockopt(w->fd, SOL_SOCKET, SO_RCVLOWAT, &lw, sizeof(lw)) < 0) {
			wfail(w, "setsockopt(SO_RCVLOWAT %d): %s", lw, strerror(errno));
			return false;
		}
	}
	return true;
}

static bool should_stop(uint64_t now)
{
	/* A relaxed load is a plain load on every architecture we run on: no
	 * lock, no fence in the receive loop. */
	return now >= t_end || __atomic_load_n(&client_stop, __ATOMIC_RELAXED);
}

static void publish(struct worker *w)
{
	__atomic_store_n(&w->pub_bytes, w->win_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&w->pub_msgs, w->win_msgs, __ATOMIC_RELAXED);
}

/* After the window: tell the server, then count what is still in flight. */
static void drain(struct worker *w, unsigned char *buf)
{
	uint64_t deadline = cb_now_ns() + REPLY_GRACE_NS;

	shutdown(w->fd, SHUT_WR);
	for (;;) {
		ssize_t n = recv(w->fd, buf, CB_RX_CHUNK, 0);

		if (n > 0) {
			w->raw_bytes += (uint64_t)n;
			cb_rx_feed(&w->rx, buf, (size_t)n, 0, NULL);
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) && cb_now_ns() < deadline))
			continue;
		wfail(w, "recv after the window: %s", errno == EAGAIN ? "server did not finish within 10 s"
								   : strerror(errno));
		return;
	}
	if (w->rx.off) {
		wfail(w, "server closed the connection in the middle of a message");
		w->rx.verify_errors++;
	}
}

static void run_stream(struct worker *w, unsigned char *buf)
{
	/* Without -i nothing reads the published counters: never publish. */
	uint64_t pub_every = copts.interval > 0 ? (uint64_t)(copts.interval * 1e9 / 16) : 0;
	uint64_t next_pub = pub_every ? t0 + pub_every : UINT64_MAX;

	for (;;) {
		ssize_t n = recv(w->fd, buf, CB_RX_CHUNK, 0);
		uint64_t now = cb_now_ns();

		if (n > 0) {
			w->raw_bytes += (uint64_t)n;
			if (should_stop(now)) {
				cb_rx_feed(&w->rx, buf, (size_t)n, now, NULL);
				break;
			}
			cb_rx_feed(&w->rx, buf, (size_t)n, now, &w->hist);
			w->win_bytes = w->rx.bytes;
			w->win_msgs = w->rx.messages;
			if (now >= next_pub) {
				publish(w);
				next_pub = now + pub_every;
			}
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (should_stop(now))
				break;
			continue;
		}
		wfail(w, "recv: %s", recv_error((int)n));
		return;
	}
	drain(w, buf);
}

static void run_rr(struct worker *w, unsigned char *buf)
{
	unsigned char req[CB_RR_REQ_LEN] = { 0 };

	for (uint64_t seq = 0; !should_stop(cb_now_ns()); seq++) {
		uint64_t start = cb_now_ns(), left = copts.size;

		cb_put_be64(req, seq);
		if (cb_write_all(w->fd, req, sizeof(req)) < 0) {
			wfail(w, "send request: %s", strerror(errno));
			return;
		}
		while (left) {
			ssize_t n = recv(w->fd, buf, left < CB_RX_CHUNK ? left : CB_RX_CHUNK, 0);

			if (n > 0) {
				w->raw_bytes += (uint64_t)n;
				cb_rx_feed(&w->rx, buf, (size_t)n, 0, NULL);
				left -= (uint64_t)n;
				continue;
			}
			if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
				/* A reply is owed; wait for it, but not forever. */
				if (__atomic_load_n(&client_stop, __ATOMIC_RELAXED))
					return;
				if (cb_now_ns() > t_end + REPLY_GRACE_NS) {
					wfail(w, "recv reply: no reply %.0f s after the window ended",
					      REPLY_GRACE_NS / 1e9);
					return;
				}
				continue;
			}
			wfail(w, "recv reply: %s", recv_error((int)n));
			return;
		}
		cb_hist_add(&w->hist, cb_now_ns() - start);
		w->win_bytes = w->rx.bytes;
		w->win_msgs = w->rx.messages;
		if (copts.interval > 0)
			publish(w);
	}
	drain(w, buf);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned char *buf = NULL;
	bool ok = client_handshake(w);

	if (ok) {
		buf = malloc(CB_RX_CHUNK);
		if (!buf)
			wfail(w, "malloc: %s", strerror(errno));
	}
	pthread_barrier_wait(&ready);    /* every connection is set up */
	pthread_barrier_wait(&go);       /* main has stamped t0 */
	if (buf && !w->failed) {
		if (copts.mode == CB_RR)
			run_rr(w, buf);
		else
			run_stream(w, buf);
	}
	free(buf);
	__atomic_sub_fetch(&workers_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void live_line(struct worker *ws, double from, double to, uint64_t *last_b, uint64_t *last_m)
{
	uint64_t b = 0, m = 0;
	double dt = to - from;

	for (unsigned i = 0; i < copts.threads; i++) {
		b += __atomic_load_n(&ws[i].pub_bytes, __ATOMIC_RELAXED);
		m += __atomic_load_n(&ws[i].pub_msgs, __ATOMIC_RELAXED);
	}
	printf("[%6.2f-%6.2f s] %9.3f Gbps %11.0f msg/s\n", from, to,
	       (double)(b - *last_b) * 8 / dt / 1e9, (double)(m - *last_m) / dt);
	fflush(stdout);
	*last_b = b;
	*last_m = m;
}

int cb_client_main(int argc, char **argv, const char *impl, unsigned impl_num)
{
	struct worker *ws;
	struct cb_hist *all;
	struct cb_line l;
	uint64_t bytes = 0, msgs = 0, raw = 0, verr = 0, stop_ns, last_b = 0, last_m = 0;
	double cpu0, cpu1, dur, next_tick, last_tick = 0;
	unsigned failed = 0;
	bool interrupted = false;
	sigset_t sigs;
	int rc = 0;

	cb_prog = prog_name(argv[0]);
	client_impl = impl;
	client_impl_num = impl_num;
	cb_client_parse(argc, argv, impl, &copts);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);   /* the main thread takes them with sigtimedwait */

	ws = calloc(copts.threads, sizeof(*ws));
	all = calloc(1, sizeof(*all));
	if (!ws || !all)
		cb_die("calloc: %s", strerror(errno));
	pthread_barrier_init(&ready, NULL, copts.threads + 1);
	pthread_barrier_init(&go, NULL, copts.threads + 1);
	workers_left = copts.threads;
	for (unsigned i = 0; i < copts.threads; i++) {
		pthread_attr_t attr;
		int err;

		ws[i].fd = -1;
		cb_rx_init(&ws[i].rx, copts.size, copts.verify);
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, THREAD_STACK);
		err = pthread_create(&ws[i].th, &attr, worker_main, &ws[i]);
		pthread_attr_destroy(&attr);
		if (err)
			cb_die("pthread_create (thread %u of %u): %s", i + 1, copts.threads, strerror(err));
	}
	pthread_barrier_wait(&ready);
	for (unsigned i = 0; i < copts.threads; i++)
		failed += ws[i].failed;
	t0 = cb_now_ns();
	t_end = t0 + (uint64_t)(copts.duration * 1e9);
	if (failed)
		__atomic_store_n(&client_stop, 1, __ATOMIC_RELAXED);   /* nothing to measure */
	cpu0 = cb_cpu_seconds();
	pthread_barrier_wait(&go);

	next_tick = copts.interval > 0 ? copts.interval : copts.duration;
	while (!failed) {
		uint64_t now = cb_now_ns();
		double el = (double)(now - t0) / 1e9, until;
		struct timespec ts;
		int sig;

		/* Every connection ended early (say the server died): stop now. */
		if (now >= t_end || __atomic_load_n(&workers_left, __ATOMIC_ACQUIRE) == 0)
			break;
		until = (next_tick < copts.duration ? next_tick : copts.duration) - el;
		if (until < 0)
			until = 0;
		if (until > 0.1)
			until = 0.1;       /* look at workers_left now and then */
		ts.tv_sec = (time_t)until;
		ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM) {
			interrupted = true;
			__atomic_store_n(&client_stop, 1, __ATOMIC_RELAXED);
			break;
		}
		el = (double)(cb_now_ns() - t0) / 1e9;
		if (copts.interval > 0 && el >= next_tick) {
			live_line(ws, last_tick, el, &last_b, &last_m);
			last_tick = el;
			next_tick += copts.interval;
		}
	}
	stop_ns = cb_now_ns();
	if (stop_ns > t_end)
		stop_ns = t_end;
	cpu1 = cb_cpu_seconds();
	dur = (double)(stop_ns - t0) / 1e9;

	for (unsigned i = 0; i < copts.threads; i++) {
		struct worker *w = &ws[i];

		pthread_join(w->th, NULL);
		bytes += w->win_bytes;
		msgs += w->win_msgs;
		raw += w->raw_bytes;
		verr += w->rx.verify_errors;
		cb_hist_merge(all, &w->hist);
		if (w->failed) {
			/* One line, the first cause: 256 threads would flood the terminal. */
			if (rc == 0)
				cb_warn("%s", w->errmsg);
			rc = 1;
		}
		if (w->fd >= 0)
			close(w->fd);
	}
	failed = 0;
	for (unsigned i = 0; i < copts.threads; i++)
		failed += ws[i].failed;
	if (failed > 1)
		cb_warn("%u of %u connections failed", failed, copts.threads);

	cb_line_start(&l, "result");
	cb_line_add(&l, "impl", "%s", impl);
	cb_line_add(&l, "side", "client");
	cb_line_add(&l, "mode", "%s", copts.mode == CB_RR ? "rr" : "stream");
	cb_line_add(&l, "size", "%u", copts.size);
	cb_line_add(&l, "threads", "%u", copts.threads);
	cb_line_add(&l, "duration_s", "%.3f", dur);
	cb_line_add(&l, "verify", "%d", copts.verify);
	cb_line_add(&l, "rcvlowat", "%u", copts.mode == CB_STREAM ? copts.rcvlowat : 0);
	cb_line_add(&l, "bytes", "%llu", (unsigned long long)bytes);
	cb_line_add(&l, "messages", "%llu", (unsigned long long)msgs);
	cb_line_add(&l, "total_bytes", "%llu", (unsigned long long)raw);
	cb_line_add(&l, "gbps", "%.3f", dur > 0 ? (double)bytes * 8 / dur / 1e9 : 0.0);
	cb_line_add(&l, "msgs_per_s", "%.0f", dur > 0 ? (double)msgs / dur : 0.0);
	cb_line_add(&l, "lat_p50_us", "%.3f", (double)cb_hist_quantile(all, 0.50) / 1e3);
	cb_line_add(&l, "lat_p99_us", "%.3f", (double)cb_hist_quantile(all, 0.99) / 1e3);
	cb_line_add(&l, "lat_max_us", "%.3f", (double)all->max / 1e3);
	cb_line_add(&l, "lat_samples", "%llu", (unsigned long long)all->count);
	cb_line_add(&l, "verify_errors", "%llu", (unsigned long long)verr);
	cb_line_add(&l, "errors", "%u", failed);
	cb_line_add(&l, "cpu_pct", "%.1f", dur > 0 ? (cpu1 - cpu0) / dur * 100 : 0.0);
	cb_line_print(&l);
	free(all);
	free(ws);
	if (rc == 0 && verr)
		rc = 1;
	return rc ? rc : interrupted ? 130 : 0;
}
