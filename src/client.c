/* client: see client.h. */
#define _GNU_SOURCE
#include "client.h"

#include "base.h"
#include "hist.h"
#include "net.h"
#include "opts.h"
#include "result.h"
#include "wire.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
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
#include <sys/syscall.h>
#include <unistd.h>

#define HELLO_TIMEOUT_NS  10000000000ull /* give up when no hello has been answered this long */
#define THREAD_STACK      (256u << 10)
#define REPLY_GRACE_NS    10000000000ull /* after the window, wait this long for a server */
#define STOP_GRACE_NS     250000000ull   /* after Ctrl-C, read what is in flight this long */
/*
 * The most one recv() asks for. 256 KiB cost the receiver 2.6x the CPU per
 * byte of 64 KiB at 64 KiB messages on a 2-vCPU AMD EPYC guest (512 KiB of L2
 * per core; 84% of its samples in the kernel's copy to user) and made it the
 * bottleneck (1.47x less throughput, 5 alternating rounds); 64 KiB also cost
 * less at 1 KiB and 16 KiB. iperf3 reads -l bytes, 128 KiB by default.
 */
#define CB_RX_CHUNK       (64u << 10)

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
static uint64_t t0, t_end;
static int client_stop;            /* set by main on a signal or a failed start */
static int event_fd = -1;          /* a worker is ready, or has finished */
static uint64_t last_answer_ns;    /* when the server last answered one of our hellos (atomic) */

/*
 * The gate: workers wait at it once set up; main opens it after stamping t0
 * and sending every connection's start. A futex woken for all at once: a
 * condition variable would hand its mutex from one woken thread to the next,
 * and with 256 connections already streaming, that chain of 256 wake-ups
 * took up to 6 s (measured), so half the connections missed a 3 s window.
 */
static int gate_open;              /* 0, then 1 for good (atomic, futex word) */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned n_ready, n_done;   /* under gate_lock */

static void vwfail(struct worker *w, const char *fmt, va_list ap)
{
	if (w->failed)
		return;                    /* the first error is the cause */
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	w->failed = true;
}

static void wfail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wfail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwfail(w, fmt, ap);
	va_end(ap);
}

static bool stopping(void)
{
	/* A relaxed load is a plain load on every architecture we run on: no
	 * lock, no fence in the receive loop. */
	return __atomic_load_n(&client_stop, __ATOMIC_RELAXED);
}

/*
 * A connection that could not be set up because main asked every worker to
 * stop (during set-up that is only SIGINT/SIGTERM) did not fail: the user
 * stopped the run. Counting it in errors= would make an interrupted client
 * look broken, and a script that stops clients (the soak) count them failed.
 */
static void set_up_failed(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_up_failed(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (stopping())
		return;
	va_start(ap, fmt);
	vwfail(w, fmt, ap);
	va_end(ap);
}

static const char *recv_error(int n)
{
	return n == 0 ? "server closed the connection" : strerror(errno);
}

/* Tell main something changed (ready, done): one eventfd write. */
static void notify(unsigned *counter)
{
	uint64_t one = 1;

	pthread_mutex_lock(&gate_lock);
	(*counter)++;
	pthread_mutex_unlock(&gate_lock);
	if (write(event_fd, &one, sizeof(one)) < 0) {
		/* only on overflow; main polls with a timeout anyway */
	}
}

/*
 * Wait until the hello's answer can be read. A server sets each connection up
 * before answering (A3 allocates and fills its buffer pool: 256 connections
 * fault in 1 GiB, 4-5 s on a quiet 2-vCPU VM and three times that beside
 * other work), so with many connections the last answers come long after the
 * first. What proves a server stuck is not one slow answer but none at all:
 * give up when no connection of this client has had an answer for 10 s since
 * this one said hello. 0, or -1 with errno EAGAIN (timed out), EINTR
 * (stopped) or poll's.
 */
static int wait_answer(int fd)
{
	uint64_t asked = cb_now_ns();

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t last = __atomic_load_n(&last_answer_ns, __ATOMIC_RELAXED);
		int n;

		if (stopping()) {
			errno = EINTR;
			return -1;
		}
		if (cb_now_ns() > (last > asked ? last : asked) + HELLO_TIMEOUT_NS) {
			errno = EAGAIN;
			return -1;
		}
		n = poll(&p, 1, 100);      /* look at the stop flag and the clock 10 times a second */
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static bool client_handshake(struct worker *w)
{
	struct cb_hello h = { .magic = CB_MAGIC, .version = CB_VERSION, .mode = (uint16_t)copts.mode,
			      .msg_size = copts.size, .flags = copts.verify ? CB_FLAG_VERIFY : 0 };
	unsigned char out[CB_HELLO_LEN], in[CB_REPLY_LEN];
	struct cb_reply r;
	char err[200];

	w->fd = cb_connect(copts.host, copts.port, copts.connect_timeout, &client_stop, err, sizeof(err));
	if (w->fd < 0) {
		set_up_failed(w, "%s", err);
		return false;
	}
	if (copts.mode == CB_RR)
		cb_set_nodelay(w->fd);
	cb_hello_encode(&h, out);
	cb_set_timeout(w->fd, SO_SNDTIMEO, HELLO_TIMEOUT_NS / 1e9);
	if (cb_write_all(w->fd, out, sizeof(out), NULL) < 0) {
		set_up_failed(w, "send hello: %s", strerror(errno));
		return false;
	}
	cb_set_timeout(w->fd, SO_SNDTIMEO, 0);
	if (wait_answer(w->fd) < 0 ||
	    cb_read_all_within(w->fd, in, sizeof(in), HELLO_TIMEOUT_NS / 1e9, &client_stop) < 0) {
		set_up_failed(w, "recv hello reply: %s", errno == 0 ? "server closed the connection" :
		      errno == EAGAIN ? "timed out" : errno == EINTR ? "interrupted" : strerror(errno));
		return false;
	}
	__atomic_store_n(&last_answer_ns, cb_now_ns(), __ATOMIC_RELAXED);
	cb_reply_decode(in, &r);
	if (r.magic != CB_MAGIC) {
		wfail(w, "recv hello reply: not a copybench server (magic 0x%08x)", r.magic);
		return false;
	}
	if (r.reserved16 || r.reserved32) {     /* reserved means 0 (docs/protocol.md) */
		wfail(w, "recv hello reply: a reserved byte is not 0 (another protocol?)");
		return false;
	}
	if (r.status == CB_BAD_VERSION) {
		wfail(w, "server refused the hello: %s (the server speaks version %u, this client %u)",
		      cb_status_str(r.status), r.version, CB_VERSION);
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
	return now >= t_end || stopping();
}

static void publish(struct worker *w)
{
	__atomic_store_n(&w->pub_bytes, w->win_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&w->pub_msgs, w->win_msgs, __ATOMIC_RELAXED);
}

/*
 * The stream ended (EOF: n == 0, or an error): a message cut short is counted
 * once (cb_rx_end) and named as the cause.
 */
static void stream_ended(struct worker *w, const char *what, ssize_t n)
{
	if (cb_rx_end(&w->rx))
		wfail(w, "%s: server closed the connection in the middle of a message", what);
	else if (n <= 0)
		wfail(w, "%s: %s", what, recv_error((int)n));
}

/*
 * After the window: tell the server, then count what is still in flight,
 * to its EOF, so total_bytes equals what the server's send calls accepted.
 * After a Ctrl-C only STOP_GRACE_NS more, so the client ends within a second.
 */
static void drain(struct worker *w, unsigned char *buf)
{
	uint64_t deadline = cb_now_ns() + REPLY_GRACE_NS;
	bool cut_short = false;

	shutdown(w->fd, SHUT_WR);
	cb_set_timeout(w->fd, SO_RCVTIMEO, 0.1);   /* look at the stop flag 10 times a second */
	for (;;) {
		ssize_t n = recv(w->fd, buf, CB_RX_CHUNK, 0);
		uint64_t now;

		if (n > 0) {
			w->raw_bytes += (uint64_t)n;
			cb_rx_feed(&w->rx, buf, (size_t)n, 0, NULL);
			continue;
		}
		if (n == 0)
			break;
		now = cb_now_ns();
		if (stopping() && !cut_short) {
			cut_short = true;
			if (deadline > now + STOP_GRACE_NS)
				deadline = now + STOP_GRACE_NS;
		}
		if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) && now < deadline))
			continue;
		if (cut_short)
			return;            /* interrupted: what arrived is counted, no more */
		if (errno == EAGAIN)
			wfail(w, "recv after the window: server did not finish within 10 s");
		stream_ended(w, "recv after the window", n);
		return;
	}
	if (cb_rx_end(&w->rx))
		wfail(w, "recv after the window: server closed the connection in the middle of a message");
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
		stream_ended(w, "recv", n);
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
		if (cb_write_all(w->fd, req, sizeof(req), NULL) < 0) {
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
				if (stopping())
					goto out;      /* the drain reads the rest of it */
				if (cb_now_ns() > t_end + REPLY_GRACE_NS) {
					wfail(w, "recv reply: no reply %.0f s after the window ended",
					      REPLY_GRACE_NS / 1e9);
					stream_ended(w, "recv reply", 1);
					return;
				}
				continue;
			}
			stream_ended(w, "recv reply", n);
			return;
		}
		cb_hist_add(&w->hist, cb_now_ns() - start);
		w->win_bytes = w->rx.bytes;
		w->win_msgs = w->rx.messages;
		if (copts.interval > 0)
			publish(w);
	}
out:
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
	/* Set up (or failed): wait at the gate until main has stamped t0 and sent the starts. */
	notify(&n_ready);
	while (!__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &gate_open, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (buf && !w->failed && !stopping()) {
		if (copts.mode == CB_RR)
			run_rr(w, buf);
		else
			run_stream(w, buf);
	}
	free(buf);
	notify(&n_done);
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

static unsigned counted(unsigned *counter)
{
	unsigned v;

	pthread_mutex_lock(&gate_lock);
	v = *counter;
	pthread_mutex_unlock(&gate_lock);
	return v;
}

/*
 * Wait up to `ms` for a signal (true: SIGINT or SIGTERM arrived) or a worker
 * event. Main never blocks anywhere else, so Ctrl-C is seen in every phase.
 */
static bool wait_event(int sfd, int ms)
{
	struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = event_fd, .events = POLLIN } };
	uint64_t v;

	if (poll(p, 2, ms) < 0 && errno != EINTR)
		cb_die("poll: %s", strerror(errno));
	if (p[1].revents & POLLIN) {
		if (read(event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			cb_die("read eventfd: %s", strerror(errno));
	}
	if (p[0].revents & POLLIN) {
		struct signalfd_siginfo si;

		if (read(sfd, &si, sizeof(si)) < 0 && errno != EAGAIN)
			cb_die("read signalfd: %s", strerror(errno));
		return true;
	}
	return false;
}

/*
 * After t0: every connection's start message, sent by main in one quick loop
 * (the servers begin within a millisecond of each other, however late the
 * scheduler runs each worker), then every worker let through at once.
 */
static void open_gate(struct worker *ws, bool send_starts)
{
	unsigned char start[CB_START_LEN];

	cb_start_encode(start);
	for (unsigned i = 0; send_starts && i < copts.threads; i++)
		if (cb_write_all(ws[i].fd, start, sizeof(start), NULL) < 0)
			wfail(&ws[i], "send start: %s", strerror(errno));   /* the worker waits: no race */
	__atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &gate_open, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

int cb_client_main(int argc, char **argv, const char *impl, unsigned impl_num)
{
	struct worker *ws;
	struct cb_hist *all;
	struct cb_line l;
	uint64_t bytes = 0, msgs = 0, raw = 0, verr = 0, early = 0, stop_ns, last_b = 0, last_m = 0;
	uint64_t min_conn_msgs = UINT64_MAX;
	double cpu0 = 0, cpu1 = 0, dur, next_tick, last_tick = 0;
	unsigned failed = 0;
	bool interrupted = false, window = false;
	int rc = 0, sfd;

	/*
	 * Signals go to main's signalfd, in every phase; worker threads inherit the
	 * mask. Blocked before anything else: a SIGTERM that arrives while the options
	 * are parsed would otherwise kill the client outright (exit 143, no result
	 * line) instead of stopping it (exit 130, result printed).
	 */
	sfd = cb_stop_signalfd();
	cb_set_prog(argv[0]);
	client_impl = impl;
	client_impl_num = impl_num;
	cb_client_parse(argc, argv, impl, &copts);
	signal(SIGPIPE, SIG_IGN);
	{
		unsigned long fds = cb_raise_nofile();

		/* Say it now, not as EMFILE on connection 1013 after a minute of setting up. */
		if (fds < (unsigned long)copts.threads + CB_FD_SPARE)
			cb_die("-t %u needs about %u open files, but this process may open only %lu "
			       "(ulimit -n, hard limit included): raise it or use fewer threads",
			       copts.threads, copts.threads + CB_FD_SPARE, fds);
	}
	event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ws = calloc(copts.threads, sizeof(*ws));
	all = calloc(1, sizeof(*all));
	if (event_fd < 0 || !ws || !all)
		cb_die("eventfd/calloc: %s", strerror(errno));
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

	/* Set-up: every connection's hello, or Ctrl-C. */
	while (counted(&n_ready) < copts.threads)
		if (wait_event(sfd, 100) && !interrupted) {
			interrupted = true;
			__atomic_store_n(&client_stop, 1, __ATOMIC_RELAXED);
		}
	pthread_mutex_lock(&gate_lock);
	for (unsigned i = 0; i < copts.threads; i++)
		failed += ws[i].failed;
	pthread_mutex_unlock(&gate_lock);
	t0 = cb_now_ns();
	t_end = t0 + (uint64_t)(copts.duration * 1e9);
	for (unsigned i = 0; i < copts.threads; i++)
		ws[i].rx.window_start_ns = t0;
	if (failed || interrupted)
		__atomic_store_n(&client_stop, 1, __ATOMIC_RELAXED);   /* nothing to measure */
	else
		window = true;
	cpu0 = cb_cpu_seconds();
	open_gate(ws, window);

	/* The window: live lines, until its end, a signal, or every connection gone. */
	next_tick = copts.interval > 0 ? copts.interval : copts.duration;
	while (window) {
		uint64_t now = cb_now_ns();
		double el = (double)(now - t0) / 1e9, until;

		/* Every connection ended early (say the server died): stop now. */
		if (now >= t_end || counted(&n_done) == copts.threads)
			break;
		until = (next_tick < copts.duration ? next_tick : copts.duration) - el;
		if (until < 0)
			until = 0;
		if (wait_event(sfd, (int)(until * 1000) + 1)) {
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
	stop_ns = window ? cb_now_ns() : t0;
	if (stop_ns > t_end)
		stop_ns = t_end;
	cpu1 = cb_cpu_seconds();
	dur = (double)(stop_ns - t0) / 1e9;

	/* The drain: each worker reads to its server's EOF; a signal cuts it short. */
	while (counted(&n_done) < copts.threads)
		if (wait_event(sfd, 100) && !interrupted) {
			interrupted = true;
			__atomic_store_n(&client_stop, 1, __ATOMIC_RELAXED);
		}

	for (unsigned i = 0; i < copts.threads; i++) {
		struct worker *w = &ws[i];

		pthread_join(w->th, NULL);
		bytes += w->win_bytes;
		msgs += w->win_msgs;
		raw += w->raw_bytes;
		verr += w->rx.verify_errors;
		early += w->rx.early;
		if (w->win_msgs < min_conn_msgs)
			min_conn_msgs = w->win_msgs;
		cb_hist_merge(all, &w->hist);
		if (w->fd >= 0)
			close(w->fd);
	}
	/* One line, the first cause and how many it hit: 256 threads would flood the terminal. */
	failed = 0;
	for (unsigned i = 0; i < copts.threads; i++)
		failed += ws[i].failed;
	for (unsigned i = 0; i < copts.threads; i++) {
		if (!ws[i].failed)
			continue;
		if (failed > 1)
			cb_warn("%s (%u of %u connections failed)", ws[i].errmsg, failed, copts.threads);
		else
			cb_warn("%s", ws[i].errmsg);
		rc = 1;
		break;
	}

	cb_line_start(&l, "result");
	cb_line_add(&l, "impl", "%s", impl);
	cb_line_add(&l, "side", "client");
	cb_line_add(&l, "mode", "%s", copts.mode == CB_RR ? "rr" : "stream");
	cb_line_add(&l, "size", "%u", copts.size);
	cb_line_add(&l, "threads", "%u", copts.threads);
	cb_line_add(&l, "duration_s", "%.3f", dur);
	cb_line_add(&l, "verify", "%d", copts.verify);
	cb_line_add(&l, "rcvlowat", "%u", copts.mode == CB_STREAM ? copts.rcvlowat : 0);
	cb_line_add(&l, "recv_chunk", "%u", CB_RX_CHUNK);
	cb_line_add(&l, "bytes", "%llu", (unsigned long long)bytes);
	cb_line_add(&l, "messages", "%llu", (unsigned long long)msgs);
	cb_line_add(&l, "min_conn_messages", "%llu", (unsigned long long)min_conn_msgs);
	cb_line_add(&l, "total_bytes", "%llu", (unsigned long long)raw);
	/* No rate over an empty window: a run that failed while setting up leaves them empty. */
	if (dur > 0) {
		cb_line_add(&l, "gbps", "%.3f", (double)bytes * 8 / dur / 1e9);
		cb_line_add(&l, "msgs_per_s", "%.0f", (double)msgs / dur);
	} else {
		cb_line_add(&l, "gbps", "%s", "");
		cb_line_add(&l, "msgs_per_s", "%s", "");
	}
	if (all->count) {
		cb_line_add(&l, "lat_p50_us", "%.3f", (double)cb_hist_quantile(all, 0.50) / 1e3);
		cb_line_add(&l, "lat_p99_us", "%.3f", (double)cb_hist_quantile(all, 0.99) / 1e3);
		cb_line_add(&l, "lat_max_us", "%.3f", (double)all->max / 1e3);
	} else {                           /* no sample, no percentile */
		cb_line_add(&l, "lat_p50_us", "%s", "");
		cb_line_add(&l, "lat_p99_us", "%s", "");
		cb_line_add(&l, "lat_max_us", "%s", "");
	}
	cb_line_add(&l, "lat_samples", "%llu", (unsigned long long)all->count);
	cb_line_add(&l, "early_messages", "%llu", (unsigned long long)early);
	cb_line_add(&l, "verify_errors", "%llu", (unsigned long long)verr);
	cb_line_add(&l, "errors", "%u", failed);
	if (dur > 0)
		cb_line_add(&l, "cpu_pct", "%.1f", (cpu1 - cpu0) / dur * 100);
	else
		cb_line_add(&l, "cpu_pct", "%s", "");
	cb_line_print(&l);
	free(all);
	free(ws);
	if (rc == 0 && verr)
		rc = 1;
	return interrupted ? 130 : rc;
}
