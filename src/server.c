/* server: see server.h. */
#define _GNU_SOURCE
#include "server.h"

#include "base.h"
#include "net.h"
#include "opts.h"
#include "result.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define HELLO_TIMEOUT_S   10.0   /* a client must say hello within this */
#define START_TIMEOUT_S   60.0   /* ... and start within this (its other connections first) */
#define STOP_GRACE_S      2.0    /* on SIGINT/SIGTERM, to finish the message in progress */
#define STOP_HARD_S       5.0    /* then cut what is left (A3 waits for completions meanwhile) */
#define THREAD_STACK      (256u << 10) /* plus one guard page below it */

static const struct cb_technique *tech;
static struct cb_server_opts sopts;
static int wake_fd = -1;            /* eventfd: a connection thread finished */
static int server_stopping;         /* set once by the main thread on a signal */
static uint64_t stop_deadline;      /* written before server_stopping is set */
static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t mem_used, mem_peak; /* message buffers taken from the budget, under mem_lock */
static uint64_t busy;               /* connections told "busy", under busy_lock */
static uint64_t busy_unlogged, busy_logged_ns;
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;

bool cb_mem_take(uint64_t bytes)
{
	bool ok;

	pthread_mutex_lock(&mem_lock);
	ok = mem_used + bytes <= sopts.mem_budget;
	if (ok) {
		mem_used += bytes;
		if (mem_used > mem_peak)
			mem_peak = mem_used;
	}
	pthread_mutex_unlock(&mem_lock);
	return ok;
}

uint64_t cb_mem_share(void)
{
	return sopts.mem_budget / (sopts.max_clients ? sopts.max_clients : 1);
}

void cb_mem_give(uint64_t bytes)
{
	pthread_mutex_lock(&mem_lock);
	mem_used -= bytes < mem_used ? bytes : mem_used;
	pthread_mutex_unlock(&mem_lock);
}

unsigned cb_footprint_messages(uint32_t msg_size)
{
	uint64_t n = (sopts.footprint + msg_size - 1) / msg_size;

	return n < 1 ? 1 : n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
}

bool cb_conn_mem_take(struct cb_conn *c, uint64_t bytes)
{
	if (cb_mem_take(bytes))
		return true;
	c->status = bytes > sopts.mem_budget ? CB_NO_ROOM : CB_BUSY;
	return false;
}

bool cb_conn_msgs_open(struct cb_conn *c, struct cb_msgs *m, uint64_t extra)
{
	uint32_t size = c->hello.msg_size;
	unsigned n = cb_footprint_messages(size);
	uint64_t bytes = (uint64_t)n * cb_msg_cost(size) + extra;

	if (!cb_conn_mem_take(c, bytes))
		return false;
	if (cb_msgs_alloc(m, size, n) < 0) {
		cb_mem_give(bytes);
		c->err_call = "malloc";
		return false;
	}
	return true;
}

void cb_conn_msgs_close(struct cb_msgs *m, uint64_t extra)
{
	uint64_t bytes = (uint64_t)m->n * cb_msg_cost(m->size) + extra;

	cb_msgs_free(m);
	cb_mem_give(bytes);
}

/*
 * A connection refused as busy: counted, and logged at most once a second
 * (a crowd of thousands must not flood the log or slow the accept loop).
 */
static void note_busy(const char *why)
{
	uint64_t now = cb_now_ns(), n = 0;

	pthread_mutex_lock(&busy_lock);
	busy++;
	busy_unlogged++;
	if (now - busy_logged_ns >= 1000000000ull) {
		n = busy_unlogged;
		busy_unlogged = 0;
		busy_logged_ns = now;
	}
	pthread_mutex_unlock(&busy_lock);
	if (n)
		cb_warn("busy: %llu connection%s refused in the last second or so (%s)",
			(unsigned long long)n, n == 1 ? "" : "s", why);
}

bool cb_server_stopping(void)
{
	return __atomic_load_n(&server_stopping, __ATOMIC_ACQUIRE);
}

uint64_t cb_server_stop_deadline(void)
{
	return cb_server_stopping() ? stop_deadline : UINT64_MAX;
}

double cb_server_idle_timeout(void)
{
	return sopts.idle_timeout;
}

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

static const char *read_error(void)
{
	return errno == 0 ? "connection closed" : errno == EAGAIN ? "timed out" :
	       errno == EINTR ? "server stopping" : strerror(errno);
}

/*
 * The hello, the technique's state, the reply, the start. Returns the state
 * (the connection goes on), or NULL (refused or gone; logged).
 */
static void *handshake(struct cb_conn *c)
{
	unsigned char in[CB_HELLO_LEN], out[CB_REPLY_LEN], start[CB_START_LEN];
	struct cb_reply r = { .magic = CB_MAGIC, .version = CB_VERSION, .impl = (uint16_t)tech->impl };
	enum cb_status st;
	void *state = NULL;

	if (cb_read_all_within(c->fd, in, sizeof(in), HELLO_TIMEOUT_S, &server_stopping) < 0) {
		conn_log(c, "no hello: %s; closing", read_error());
		return NULL;
	}
	cb_hello_decode(in, &c->hello);
	c->verify = c->hello.flags & CB_FLAG_VERIFY;
	st = cb_hello_check(&c->hello);
	if (st == CB_OK) {
		/* Before the reply: a connection we cannot serve is told why, not just closed. */
		c->status = CB_NO_MEMORY;
		state = tech->open(c);
		if (!state && c->status == CB_BUSY) {
			st = CB_BUSY;
			note_busy("memory budget");
		} else if (!state && c->status == CB_NO_ROOM) {
			st = CB_NO_ROOM;
			conn_log(c, "cannot serve %u B messages: --footprint %llu needs %u messages, more than "
				 "--mem-budget %llu; refusing", c->hello.msg_size, sopts.footprint,
				 cb_footprint_messages(c->hello.msg_size), sopts.mem_budget);
		} else if (!state) {
			st = c->status;
			conn_log(c, "cannot serve %u B messages: %s (%s: %s); refusing", c->hello.msg_size,
				 cb_status_str(st), c->err_call ? c->err_call : "open", strerror(errno));
		}
	}
	r.status = (uint16_t)st;
	cb_reply_encode(&r, out);
	/* The reply says why, so the client can print it; best effort. */
	if (cb_write_all(c->fd, out, sizeof(out), NULL) < 0 && st == CB_OK) {
		conn_log(c, "send reply: %s; closing", strerror(errno));
		tech->close(c, state);
		return NULL;
	}
	if (st != CB_OK) {
		if (!state && st < CB_TOO_BIG)
			conn_log(c, "bad hello: %s (magic 0x%08x version %u size %u mode %u); closing",
				 cb_status_str(st), c->hello.magic, c->hello.version,
				 c->hello.msg_size, c->hello.mode);
		return NULL;
	}
	c->accepted = true;
	/* Nothing is sent before the client's start: its window opens only then. */
	if (cb_read_all_within(c->fd, start, sizeof(start), START_TIMEOUT_S, &server_stopping) < 0) {
		conn_log(c, "no start: %s; closing", read_error());
		tech->close(c, state);
		return NULL;
	}
	if (!cb_start_check(start)) {
		conn_log(c, "no start: not a start message; closing");
		tech->close(c, state);
		return NULL;
	}
	conn_log(c, "connected: %s, %u B messages%s",
		 c->hello.mode == CB_RR ? "rr" : "stream", c->hello.msg_size,
		 c->verify ? ", verify" : "");
	/* A peer that stops reading must not pin this thread forever. */
	cb_set_timeout(c->fd, SO_SNDTIMEO, sopts.idle_timeout);
	return state;
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

/*
 * One message, stamped with the time the frame wants to send it. Bytes are
 * counted as the kernel accepts them; whole messages follow from the bytes
 * (the stream is in order), so a technique that queues messages (A4) counts
 * none it has not handed over.
 */
static bool send_one(struct cb_conn *c, void *state, uint64_t seq)
{
	size_t sent = 0;
	int rc = tech->send(c, state, seq, cb_now_ns(), &sent);

	c->bytes += sent;
	if (rc < 0) {
		conn_fail(c, c->err_call, errno);
		return false;
	}
	return true;
}

static void serve_stream(struct cb_conn *c, void *state)
{
	uint32_t size = c->hello.msg_size;
	uint64_t every = size >= EOF_CHECK_BYTES ? 1 : EOF_CHECK_BYTES / size, countdown = 1;

	/* A relaxed load per message: no new message once the server stops. */
	for (uint64_t seq = 0; !__atomic_load_n(&server_stopping, __ATOMIC_RELAXED); seq++) {
		if (--countdown == 0) {
			if (client_left(c))
				return;
			countdown = every;
		}
		if (!send_one(c, state, seq))
			return;
	}
}

/* The next 16-byte request: 1 read, 0 the client left, -1 error or stop (c->failed says). */
static int read_request(struct cb_conn *c, unsigned char req[CB_RR_REQ_LEN])
{
	size_t got = 0;

	while (got < CB_RR_REQ_LEN) {
		ssize_t n = recv(c->fd, req + got, CB_RR_REQ_LEN - got, 0);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			if (got)
				conn_fail(c, "recv request", EPROTO);   /* half a request, then EOF */
			return got ? -1 : 0;
		}
		if (errno == EINTR && !__atomic_load_n(&server_stopping, __ATOMIC_RELAXED))
			continue;
		if (errno == EINTR)
			return -1;             /* stopping: no new reply */
		conn_fail(c, errno == EAGAIN ? "no request within the idle timeout" : "recv request",
			  errno == EAGAIN ? ETIMEDOUT : errno);
		return -1;
	}
	return 1;
}

static void serve_rr(struct cb_conn *c, void *state)
{
	unsigned char req[CB_RR_REQ_LEN];

	cb_set_nodelay(c->fd);
	/* The same idle rule as stream: a peer that asks for nothing that long is dropped. */
	cb_set_timeout(c->fd, SO_RCVTIMEO, sopts.idle_timeout);
	while (read_request(c, req) > 0) {
		if (cb_get_be64(req + 8)) {        /* reserved means 0, as in the hello and the start */
			conn_log(c, "request with a reserved byte not 0; closing");
			conn_fail(c, "recv request", EPROTO);
			return;
		}
		if (!send_one(c, state, cb_get_be64(req)))
			return;
	}
}

static void *conn_main(void *arg)
{
	struct cb_conn *c = arg;
	uint64_t one = 1;
	void *state = handshake(c);

	if (state) {
		/* The loop's own CPU time, apart from setting up and freeing the footprint (which
		 * for hundreds of MiB costs as much as seconds of sending). Not per message. */
		uint64_t cpu0 = cb_thread_cpu_ns();

		if (c->hello.mode == CB_RR)
			serve_rr(c, state);
		else
			serve_stream(c, state);
		c->send_cpu_ns = cb_thread_cpu_ns() - cpu0;
		tech->close(c, state);
		c->messages = c->bytes / c->hello.msg_size;
		if (c->failed && c->err == EPROTO) {
			/*
			 * The peer broke the protocol (data in stream mode, a bad
			 * request): a reset when the socket closes, for every
			 * technique alike. A FIN here would race the close's reset
			 * (unread input) and end A1 with one, A3 (which waits for
			 * completions first) cleanly.
			 */
			struct linger now = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
		} else {
			/* Everything sent, then EOF: the client counts every byte. */
			shutdown(c->fd, SHUT_WR);
		}
		if (c->failed)
			conn_log(c, "ended: %s: %s (%llu messages, %llu bytes sent)%s",
				 c->err_call ? c->err_call : "send", strerror(c->err),
				 (unsigned long long)c->messages, (unsigned long long)c->bytes,
				 cb_server_stopping() ? " while stopping" : "");
		else
			conn_log(c, "done: %llu messages, %llu bytes sent%s",
				 (unsigned long long)c->messages, (unsigned long long)c->bytes,
				 cb_server_stopping() ? " (server stopping)" : "");
		/* Cut by our own stop, after the grace to finish: not the peer's error. */
		if (c->failed && cb_server_stopping())
			c->failed = false;
	}
	__atomic_store_n(&c->finished, 1, __ATOMIC_RELEASE);
	if (write(wake_fd, &one, sizeof(one)) < 0) {
		/* eventfd writes only fail on overflow; the main loop polls anyway */
	}
	return NULL;
}

struct totals {
	uint64_t clients, rejected, errors, bytes, messages, send_cpu_ns;
	uint64_t stat[CB_STAT_MAX];
};

static void merge_conn(struct totals *t, const struct cb_conn *c)
{
	if (c->accepted)
		t->clients++;
	else if (c->status != CB_BUSY)     /* busy ones are counted in `busy` */
		t->rejected++;
	t->errors += c->failed;
	t->bytes += c->bytes;
	t->messages += c->messages;
	t->send_cpu_ns += c->send_cpu_ns;
	for (int i = 0; tech->stats && tech->stats[i].name; i++)
		if (!tech->stats[i].max)
			t->stat[i] += c->stat[i];
		else if (c->stat[i] > t->stat[i])
			t->stat[i] = c->stat[i];
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
		munmap(c->stack, THREAD_STACK + (size_t)sysconf(_SC_PAGESIZE));
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
	cb_line_add(&l, "send_cpu_s", "%.3f", t->send_cpu_ns / 1e9);
	cb_line_add(&l, "busy", "%llu", (unsigned long long)busy);
	cb_line_add(&l, "mem_peak", "%llu", (unsigned long long)mem_peak);
	cb_line_add(&l, "mem_budget", "%llu", sopts.mem_budget);
	cb_line_add(&l, "max_clients", "%u", sopts.max_clients);
	cb_line_add(&l, "footprint", "%llu", sopts.footprint);
	for (int i = 0; tech->stats && tech->stats[i].name; i++)
		cb_line_add(&l, tech->stats[i].name, "%llu", (unsigned long long)t->stat[i]);
	if (tech->describe)
		tech->describe(&l);
	cb_line_print(&l);
}

/*
 * Connections refused as busy: the reply is written at once (a fresh socket's
 * buffer always takes 16 bytes), then the socket lingers here, its input read
 * and dropped, until the client closes or 2 s pass. Closing at once with the
 * client's hello unread would send a reset, which can destroy the reply
 * before the client reads it. All non-blocking: the accept loop never waits.
 */
#define BUSY_MAX     4096
#define BUSY_LINGER_NS 2000000000ull
struct busy_sock { int fd; uint64_t until; };
static struct busy_sock busy_socks[BUSY_MAX];
static unsigned n_busy_socks;

static void refuse_busy(int fd, const char *why)
{
	unsigned char out[CB_REPLY_LEN];
	struct cb_reply r = { .magic = CB_MAGIC, .version = CB_VERSION, .status = CB_BUSY,
			      .impl = (uint16_t)tech->impl };

	note_busy(why);
	cb_reply_encode(&r, out);
	if (send(fd, out, sizeof(out), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 || n_busy_socks == BUSY_MAX) {
		close(fd);
		return;
	}
	shutdown(fd, SHUT_WR);
	busy_socks[n_busy_socks++] = (struct busy_sock){ fd, cb_now_ns() + BUSY_LINGER_NS };
}

/* Read and drop what the busy sockets have; close those done or out of time. */
static void tend_busy(void)
{
	uint64_t now = cb_now_ns();

	for (unsigned i = 0; i < n_busy_socks;) {
		char buf[512];
		ssize_t n;

		while ((n = recv(busy_socks[i].fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
		    now >= busy_socks[i].until) {
			close(busy_socks[i].fd);
			busy_socks[i] = busy_socks[--n_busy_socks];
			continue;
		}
		i++;
	}
}

/*
 * Give freed memory back to the system after connections end (glibc keeps
 * an arena's free pages; malloc_trim hands whole free pages back). At most
 * once a second, from the main thread: never in a send loop. Measured with
 * 3000 never-reading A3 peers (tests/t_crowd.sh): with this, two arenas
 * (M_ARENA_MAX, set at start) and thread stacks of our own (glibc caches up
 * to 40 MiB of dead threads' stacks), RSS went back from 271 MB to 2.1 MB
 * (idle 1.9 MB); with glibc's defaults it stayed at 5.2 MB, with one arena 8.6.
 */
static bool trim_pending;           /* connections ended since the last trim */

static void trim_memory(void)
{
	static uint64_t last;
	uint64_t now = cb_now_ns();

	if (now - last >= 1000000000ull) {
		last = now;
		trim_pending = false;
		malloc_trim(0);
	} else {
		trim_pending = true;        /* the main loop comes back for it within a second */
	}
}

/* SIGUSR1 only interrupts a connection thread's blocking call (no SA_RESTART). */
static void on_wakeup(int sig) { (void)sig; }

/*
 * Stop: no connection starts a new message. The one in progress gets
 * STOP_GRACE_S to finish (a cut message would be a verify error at the
 * client); a thread blocked in send or recv is woken with SIGUSR1 (again
 * every 100 ms, in case it was between checks) and its send timeout cut to
 * the grace. After STOP_HARD_S what is left is shut down.
 */
static void stop_all(struct cb_conn **live, struct totals *tot)
{
	uint64_t hard;

	stop_deadline = cb_now_ns() + (uint64_t)(STOP_GRACE_S * 1e9);
	hard = cb_now_ns() + (uint64_t)(STOP_HARD_S * 1e9);
	__atomic_store_n(&server_stopping, 1, __ATOMIC_RELEASE);
	for (struct cb_conn *c = *live; c; c = c->next)
		cb_set_timeout(c->fd, SO_SNDTIMEO, STOP_GRACE_S);
	while (*live) {
		struct pollfd p = { .fd = wake_fd, .events = POLLIN };
		uint64_t v;

		for (struct cb_conn *c = *live; c; c = c->next)
			if (!__atomic_load_n(&c->finished, __ATOMIC_ACQUIRE))
				pthread_kill(c->thread, SIGUSR1);
		if (cb_now_ns() >= hard)
			for (struct cb_conn *c = *live; c; c = c->next)
				shutdown(c->fd, SHUT_RDWR);
		if (poll(&p, 1, 100) > 0 && read(wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			cb_die("read eventfd: %s", strerror(errno));
		reap(live, tot, false);
	}
}

int cb_server_main(int argc, char **argv, const struct cb_technique *t)
{
	struct cb_conn *live = NULL;
	struct totals tot = { 0 };
	long accepted = 0, finished = 0, n_live = 0;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct sigaction sa = { .sa_handler = on_wakeup };
	struct cb_line first;
	pthread_attr_t attr;
	unsigned port;
	int lfd, sfd;

	cb_set_prog(argv[0]);
	tech = t;
	cb_server_parse(argc, argv, t->name, t->opts, &sopts);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	{
		unsigned long fds = cb_raise_nofile();

		/* Beyond the limit accept() fails with EMFILE (survived, but slow to read as a cause). */
		if (fds < CB_MAX_THREADS + CB_FD_SPARE)
			cb_warn("open-file limit is %lu (ulimit -n, hard limit included): at most about %lu "
				"clients at once", fds, fds > CB_FD_SPARE ? fds - CB_FD_SPARE : 0);
	}
	if (t->probe && t->probe() < 0)
		exit(1);
	/* Signals go to a signalfd the accept loop polls; no thread is interrupted. */
	sfd = cb_stop_signalfd();
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake_fd < 0)
		cb_die("eventfd: %s", strerror(errno));
	lfd = cb_listen(sopts.bind_addr, sopts.port, &port);
	cb_line_start(&first, "listening");
	cb_line_add(&first, "addr", "%s", sopts.bind_addr);
	cb_line_add(&first, "port", "%u", port);
	cb_line_add(&first, "max_clients", "%u", sopts.max_clients);
	cb_line_add(&first, "mem_budget", "%llu", sopts.mem_budget);
	cb_line_add(&first, "footprint", "%llu", sopts.footprint);
	if (t->describe)
		t->describe(&first);
	cb_line_print(&first);
	pthread_attr_init(&attr);
	/* Connections come and go: two malloc arenas, not one per thread, keep what they
	 * leave behind small; nothing allocates in a send loop (A3 allocates its pool's share
	 * of the budget at open), so nothing contends. */
	mallopt(M_ARENA_MAX, 2);
	/* ... and free memory goes back at once, not kept as a top pad: the soak measured
	 * A1 idling at 5.9 MiB with glibc's defaults, 2.1 MiB with these (and its idle RSS
	 * jittering less between quiesces: within +-1.2 % over two 60 s soaks of the three servers, +11.6 % once
	 * without them). */
	mallopt(M_TRIM_THRESHOLD, 0);
	mallopt(M_TOP_PAD, 0);

	while (!sopts.clients || finished < sopts.clients) {
		struct pollfd pfd[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = wake_fd, .events = POLLIN },
			{ .fd = lfd, .events = POLLIN },
		};
		/* Busy sockets lingering: wake every 100 ms to tend them; a technique's
		 * tick: every second. */
		int n = poll(pfd, lfd >= 0 ? 3 : 2, n_busy_socks ? 100 : t->tick || trim_pending ? 1000 : -1);

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
			long done = reap(&live, &tot, false);

			finished += done;
			n_live -= done;
			if (done)
				trim_memory();
		}
		if (n_busy_socks)
			tend_busy();
		if (trim_pending)
			trim_memory();
		if (t->tick)
			t->tick();
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
			if (n_live >= (long)sopts.max_clients) {
				refuse_busy(fd, "--max-clients reached");
				continue;
			}
			c = calloc(1, sizeof(*c));
			if (!c) {
				refuse_busy(fd, "calloc failed");
				continue;
			}
			c->fd = fd;
			cb_peer_str(fd, c->peer, sizeof(c->peer));
			/* A stack of our own, so it is gone when the thread is (see trim_memory). */
			c->stack = mmap(NULL, THREAD_STACK + page, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (c->stack == MAP_FAILED) {
				free(c);
				refuse_busy(fd, "mmap of a thread stack failed");
				continue;
			}
			mprotect(c->stack, page, PROT_NONE);      /* the guard page */
			pthread_attr_setstack(&attr, (char *)c->stack + page, THREAD_STACK);
			err = pthread_create(&c->thread, &attr, conn_main, c);
			if (err) {
				/* EAGAIN: the thread limit (RLIMIT_NPROC, pids.max). Refuse this one, go on. */
				munmap(c->stack, THREAD_STACK + page);
				free(c);
				refuse_busy(fd, err == EAGAIN ? "pthread_create: no more threads (EAGAIN)" :
					    "pthread_create failed");
				continue;
			}
			c->next = live;
			live = c;
			n_live++;
			if (sopts.clients && ++accepted == sopts.clients) {
				close(lfd);    /* -n N: no connection beyond the Nth */
				lfd = -1;
			}
		}
	}
	stop_all(&live, &tot);
	while (n_busy_socks)
		close(busy_socks[--n_busy_socks].fd);
	if (lfd >= 0)
		close(lfd);
	print_server_result(&tot);
	return 0;
}
