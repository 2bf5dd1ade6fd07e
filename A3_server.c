/*
 * A3: zero-copy send. With SO_ZEROCOPY set, sendmsg(MSG_ZEROCOPY) pins the
 * user pages of the 8 fields instead of copying them; the kernel tells us
 * when it is done with them through the socket's error queue. Until then the
 * buffer belongs to the kernel: rewriting it (or freeing it: free() writes its
 * own bookkeeping into the bytes, and the memory can go to another connection)
 * would change bytes already "sent". So messages come from a pool, and a
 * slot is rewritten or freed only once the completion for its last send has
 * arrived, on every path: the normal end, a peer error, a timeout, the server
 * stopping. When completions do not come (a peer that stopped reading), the
 * pool is parked, never freed while the kernel may read it.
 *
 * On loopback and veth the receiver is local, so the kernel copies the pages
 * anyway when it hands the data over and flags the completion
 * SO_EE_CODE_ZEROCOPY_COPIED; we count those, we do not hide them.
 */
#define _GNU_SOURCE
#include "server.h"
#include "base.h"
#include "net.h"
#include "wire.h"
#include "zc.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

#define POOL_BASE_BYTES (2u << 20)  /* the pool may grow to at least this, */
#define POOL_CAP_BYTES  (32u << 20) /* never past this per connection (2 messages must fit) */
#define POOL_MAX_SLOTS  4096        /* ... nor past this many slots, beyond the footprint */
#define DRAIN_EVERY     32          /* sends between error-queue reads */
#define CLOSE_WAIT_MS   2000        /* at the end, wait this long for completions */

struct slot {
	uint32_t last_id;           /* completion id of the slot's last send */
};

/*
 * The pool grows on demand up to max_slots: a path that gives buffers back
 * quickly (loopback) uses a few, a long fat one as many as it keeps in
 * flight. `order` holds the slots in the order they were sent, oldest first,
 * so the oldest is the next to come back. With --footprint the pool first
 * grows to the footprint's fp_slots messages and then reuses the oldest, so
 * it rotates through at least the footprint, as A1 and A2 do.
 */
struct a3 {
	struct cb_zc zc;
	int fd;                     /* the connection's; a dup of it once parked */
	unsigned nslots, max_slots, fp_slots, since_drain;
	unsigned head, count;       /* `order` is a ring: count slots from head */
	uint64_t pool_bytes;        /* payload bytes of the slots in use */
	uint64_t cost;              /* budget charge per slot (cb_msg_cost) */
	uint64_t reserved;          /* taken from the server-wide budget (cb_mem_take) */
	struct a3 *next_parked;
	unsigned *order;
	struct slot *slots;
	struct cb_msgs msgs;        /* slot i sends msgs.msg[i]; msgs.n exist: nslots in use, the rest ready */
};

/* Stats in the result line, in this order (see the README's field table). */
enum { ZC_SENDS, ZC_COMPLETIONS, ZC_COPIED, ZC_ENOBUFS, ZC_ENOBUFS_OPTMEM, ZC_ENOBUFS_MEMLOCK,
       ZC_MISSING, ZC_BOGUS, ZC_PARKED, ZC_POOL_WAITS, ZC_POOL_SLOTS, ZC_POOL_BYTES };
static const struct cb_stat_def a3_stats[] = {
	[ZC_SENDS] = { "zc_sends", false },
	[ZC_COMPLETIONS] = { "zc_completions", false },
	[ZC_COPIED] = { "zc_copied", false },
	[ZC_ENOBUFS] = { "zc_enobufs", false },
	[ZC_ENOBUFS_OPTMEM] = { "zc_enobufs_optmem", false },
	[ZC_ENOBUFS_MEMLOCK] = { "zc_enobufs_memlock", false },
	[ZC_MISSING] = { "zc_missing", false },
	[ZC_BOGUS] = { "zc_bogus", false },
	[ZC_PARKED] = { "zc_parked", false },
	[ZC_POOL_WAITS] = { "zc_pool_waits", false },
	[ZC_POOL_SLOTS] = { "zc_pool_slots", true },
	[ZC_POOL_BYTES] = { "zc_pool_bytes", true },
	{ NULL, false },
};

/*
 * Without CAP_IPC_LOCK the kernel charges every pinned page to the user's
 * RLIMIT_MEMLOCK (8 MiB by default) and answers ENOBUFS past it, for all
 * the user's connections together: a non-root A3 run is throttled by it.
 */
static bool memlock_binds;
static uint64_t memlock_bytes;
static uint64_t wmem_max;           /* net.ipv4.tcp_wmem's limit, where the buffer can grow */
static uint64_t optmem_max;         /* net.core.optmem_max: per-socket notification memory */

static int zc_probe(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	struct rlimit rl;

	if (fd < 0)
		cb_die("socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0) {
		cb_warn("setsockopt(SO_ZEROCOPY): %s: this kernel does not support "
			"MSG_ZEROCOPY on TCP (Linux 4.14 or later is needed)", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (!cb_have_cap_ipc_lock() && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		memlock_binds = true;
		memlock_bytes = rl.rlim_cur;
		cb_warn("not privileged (no CAP_IPC_LOCK): MSG_ZEROCOPY's pinned pages count against "
			"RLIMIT_MEMLOCK, %llu KiB for all connections together (ulimit -l); expect ENOBUFS "
			"(zc_enobufs_memlock) and less throughput than as root",
			(unsigned long long)(memlock_bytes >> 10));
	}
	/* The send buffer's limit in this network namespace: the pool is sized from it. */
	wmem_max = cb_sysctl_u64("/proc/sys/net/ipv4/tcp_wmem", 2);
	optmem_max = cb_sysctl_u64("/proc/sys/net/core/optmem_max", 0);
	return 0;
}

static void zc_describe(struct cb_line *l)
{
	cb_line_add(l, "zc_memlock_binds", "%d", memlock_binds);
	if (memlock_binds)
		cb_line_add(l, "zc_memlock_bytes", "%llu", (unsigned long long)memlock_bytes);
}

static void pool_free(struct a3 *s)
{
	cb_msgs_free(&s->msgs);
	free(s->slots);
	free(s->order);
	cb_mem_give(s->reserved);
	free(s);
}

/*
 * Allocate the pool's messages now, before the hello is answered: the client
 * opens its window once every connection has its answer (filled after the
 * answer, 256 pools were still filling in the window and some connections
 * got no message). As many as the connection's share of the budget holds
 * (--mem-budget over --max-clients), up to what it may ever use (rr uses 33
 * slots, measured), and the footprint's messages at least (taken at open). Growing it inside the send loop instead cost a
 * malloc per field there, and glibc grows a thread arena a page at a time
 * with mprotect (no top pad outside the main arena): with 256 connections
 * that was ~50,000 mprotect calls and 16,000-56,000 futex waits (perf stat)
 * in a 3 s run, and some connections got not one message in the window while
 * others got 5,000 (t_scale; allocated here, the fewest got 130-1,600, as A1 and A2 do).
 * Beyond the share the pool still grows in the loop if the budget has room.
 */
static void prealloc(struct a3 *s, const struct cb_conn *c)
{
	uint64_t want = cb_mem_share() / s->cost, taken = s->reserved / s->cost;

	if (want > s->max_slots)
		want = s->max_slots;
	/* rr has one answer in flight, but completions are read every DRAIN_EVERY sends. */
	if (c->hello.mode == CB_RR && want > DRAIN_EVERY + 2)
		want = DRAIN_EVERY + 2;
	if (want > taken && !cb_mem_take((want - taken) * s->cost))
		want = taken;               /* what was taken at open, nothing more */
	else if (want > taken)
		s->reserved += (want - taken) * s->cost;
	if (want < taken)
		want = taken;               /* the footprint, at least */
	/* The footprint filled by the kernel (msgs.h: its first touch), the rest of the share copied. */
	cb_msgs_grow(&s->msgs, s->fp_slots);
	while (s->msgs.n < want && cb_msgs_add(&s->msgs))
		;
}

static void *a3_open(struct cb_conn *c)
{
	uint32_t size = c->hello.msg_size;
	unsigned fp = cb_footprint_messages(size), first = fp > 2 ? fp : 2;
	uint64_t limit = POOL_BASE_BYTES, cost = cb_msg_cost(size);
	int one = 1, sndbuf = 0;
	socklen_t sl = sizeof(sndbuf);
	struct a3 *s;

	/*
	 * The kernel holds a message until the peer has acknowledged it, so the
	 * pool must cover what the socket keeps in flight: its send buffer at
	 * most, which autotuning grows up to net.ipv4.tcp_wmem's limit (read at
	 * start), plus what waits to be read from the error queue.
	 */
	if (getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) == 0 && (uint64_t)sndbuf > limit)
		limit = (uint64_t)sndbuf;
	if (wmem_max > limit)
		limit = wmem_max;
	limit += (uint64_t)DRAIN_EVERY * size;
	if (memlock_binds && limit > memlock_bytes / 2)
		limit = memlock_bytes / 2;     /* more could not be pinned anyway */
	if (limit > POOL_CAP_BYTES)
		limit = POOL_CAP_BYTES;
	if ((uint64_t)size * 2 > POOL_CAP_BYTES) {
		c->status = CB_TOO_BIG;
		c->err_call = "pool: two messages exceed the per-connection cap";
		errno = EMSGSIZE;
		return NULL;
	}
	if (setsockopt(c->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0) {
		c->status = CB_NO_ZEROCOPY;
		c->err_call = "setsockopt(SO_ZEROCOPY)";
		return NULL;
	}
	/* Two slots, or the footprint, at least, from the server-wide budget; the rest as the pool grows. */
	if (!cb_conn_mem_take(c, first * cost))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		cb_mem_give(first * cost);
		c->err_call = "calloc";
		return NULL;
	}
	s->reserved = first * cost;
	s->cost = cost;
	s->fd = c->fd;
	s->fp_slots = fp;
	s->max_slots = (unsigned)(limit / size);
	if (s->max_slots > POOL_MAX_SLOTS)
		s->max_slots = POOL_MAX_SLOTS;
	if (s->max_slots < first)
		s->max_slots = first;
	s->slots = calloc(s->max_slots, sizeof(*s->slots));
	s->order = calloc(s->max_slots, sizeof(*s->order));
	if (!s->slots || !s->order || cb_msgs_init(&s->msgs, size, s->max_slots) < 0) {
		pool_free(s);
		c->err_call = "calloc";
		return NULL;
	}
	cb_zc_init(&s->zc);
	prealloc(s, c);
	return s;
}

/*
 * Read every notification waiting on the error queue of s->fd; never
 * blocks. Returns how many were read, or -1 (*err_call set) on a real error.
 */
static int drain(struct a3 *s, const char **err_call)
{
	int got = 0;

	for (;;) {
		char control[128];
		struct msghdr mh = { .msg_control = control, .msg_controllen = sizeof(control) };
		struct sock_extended_err *ee;
		struct cmsghdr *cm;

		if (recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			*err_call = "recvmsg(MSG_ERRQUEUE)";
			return -1;
		}
		cm = CMSG_FIRSTHDR(&mh);
		if (!cm || !((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			     (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR))) {
			*err_call = "recvmsg(MSG_ERRQUEUE): no IP_RECVERR control message";
			errno = EPROTO;
			return -1;
		}
		ee = (struct sock_extended_err *)CMSG_DATA(cm);
		if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee->ee_errno != 0) {
			/* Not a completion: a real socket error that rode the queue. */
			*err_call = "recvmsg(MSG_ERRQUEUE): socket error";
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
 * something. POLLHUP is not a completion: the kernel may still hold our
 * pages (queued behind a peer that does not read), so a hung-up socket is
 * waited on like any other, a few ms at a time.
 */
static int wait_completions(struct a3 *s, int timeout_ms, const char **err_call)
{
	struct pollfd p = { .fd = s->fd, .events = 0 };
	int got = drain(s, err_call);

	if (got != 0)
		return got;
	if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR) {
		*err_call = "poll";
		return -1;
	}
	got = drain(s, err_call);
	if (got == 0 && (p.revents & POLLHUP))
		poll(NULL, 0, timeout_ms < 10 ? timeout_ms : 10);   /* POLLHUP returns at once */
	return got;
}

static struct slot *slot_at(struct a3 *s, unsigned k)
{
	return &s->slots[s->order[(s->head + k) % s->max_slots]];
}

/* A slot never used yet, when the pool may grow (within the budget); -1 if not. */
static int grow(struct cb_conn *c, struct a3 *s)
{
	if (s->nslots == s->max_slots)
		return -1;
	if ((uint64_t)(s->nslots + 1) * s->cost > s->reserved) {
		if (!cb_mem_take(s->cost))
			return -1;
		s->reserved += s->cost;
	}
	if (s->nslots == s->msgs.n && !cb_msgs_add(&s->msgs))
		return -1;
	s->pool_bytes += c->hello.msg_size;
	c->stat[ZC_POOL_SLOTS] = s->nslots + 1;
	c->stat[ZC_POOL_BYTES] = s->pool_bytes;
	return (int)s->nslots++;
}

/*
 * The slot for the next message: a new one until the pool holds the
 * footprint (one slot by default), then the oldest one if the kernel has
 * given it back, else a new one while the pool may grow, else wait for the
 * oldest. Never more ids in flight than the completion ring tracks.
 */
static int take_slot(struct cb_conn *c, struct a3 *s)
{
	uint64_t stall_ms = 0;
	bool waited = false;
	int idx;

	for (;;) {
		bool room = cb_zc_inflight(&s->zc) < CB_ZC_RING - 2 * CB_NFIELDS;

		if (room && s->nslots < s->fp_slots && (idx = grow(c, s)) >= 0)
			return idx;
		if (room && s->count && cb_zc_is_done(&s->zc, slot_at(s, 0)->last_id)) {
			idx = (int)s->order[s->head];
			s->head = (s->head + 1) % s->max_slots;
			s->count--;
			return idx;
		}
		/* Grow within the budget: past it the pool waits for its oldest slot instead. */
		if (room && (idx = grow(c, s)) >= 0)
			return idx;
		if (!s->count) {                /* nothing in flight and no memory for a slot */
			c->err_call = "malloc (zero-copy pool)";
			errno = ENOMEM;
			return -1;
		}
		/* The rule of MSG_ZEROCOPY: never touch a buffer the kernel still holds. */
		if (!waited) {
			c->stat[ZC_POOL_WAITS]++;
			waited = true;
		}
		int got = wait_completions(s, 100, &c->err_call);

		if (got < 0)
			return -1;
		if (cb_now_ns() > cb_server_stop_deadline()) {
			c->err_call = "server stopping: no zero-copy buffer came back in time";
			errno = ETIMEDOUT;
			return -1;
		}
		/* A slot that never comes back ends the connection, as a stalled send would. */
		if (got == 0 && (stall_ms += 100) >= cb_server_idle_timeout() * 1000) {
			c->err_call = "waiting for zero-copy completions";
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

static int a3_send(struct cb_conn *c, void *state, uint64_t seq, uint64_t want_ns, size_t *sent)
{
	struct a3 *s = state;
	int idx = take_slot(c, s);
	struct iovec iov[CB_NFIELDS], *v = iov;
	int cnt = CB_NFIELDS;
	unsigned nobufs = 0;
	bool in_flight = false;

	if (idx < 0)
		return -1;
	struct slot *sl = &s->slots[idx];

	cb_msg_prepare(&s->msgs.msg[idx], seq, c->verify, want_ns);
	cb_msg_iov(&s->msgs.msg[idx], iov);
	for (;;) {
		uint32_t calls = 0;
		int rc = cb_sendmsg_all(c->fd, &v, &cnt, MSG_ZEROCOPY, &calls, sent);

		s->zc.next += calls;         /* each call that sent data took one id */
		c->stat[ZC_SENDS] += calls;
		if (calls) {
			/* The kernel holds these pages now, whatever happens next. */
			sl->last_id = s->zc.next - 1;
			in_flight = true;
			nobufs = 0;          /* progress: the pressure is not unbroken */
		}
		if (rc == 0)
			break;
		if (errno != ENOBUFS) {
			c->err_call = "sendmsg(MSG_ZEROCOPY)";
			goto held;
		}
		/*
		 * ENOBUFS has three causes: the socket's option memory
		 * (net.core.optmem_max) full of notifications and their
		 * bookkeeping; the pinned-page charge against RLIMIT_MEMLOCK when
		 * not privileged; memory pressure. The socket's own count of
		 * option memory (SO_MEMINFO) tells the first apart. Completions
		 * relieve the first two: read them, and retry; give up after a
		 * second without progress.
		 */
		c->stat[ZC_ENOBUFS]++;
		{
			uint32_t mi[SK_MEMINFO_VARS] = { 0 };
			socklen_t ml = sizeof(mi);

			if (optmem_max && getsockopt(c->fd, SOL_SOCKET, SO_MEMINFO, mi, &ml) == 0 &&
			    mi[SK_MEMINFO_OPTMEM] + 1024 > optmem_max)
				c->stat[ZC_ENOBUFS_OPTMEM]++;
			else if (memlock_binds)
				c->stat[ZC_ENOBUFS_MEMLOCK]++;
		}
		int got = wait_completions(s, cb_zc_inflight(&s->zc) ? 10 : 0, &c->err_call);

		if (got < 0)
			goto held;
		if (got > 0)
			continue;
		if (cb_wait_nobufs(&nobufs) < 0) {
			c->err_call = "sendmsg(MSG_ZEROCOPY)";
			goto held;
		}
	}
	s->order[(s->head + s->count++) % s->max_slots] = (unsigned)idx;
	if (++s->since_drain >= DRAIN_EVERY && drain(s, &c->err_call) < 0)
		return -1;
	return 0;
held:
	/* Part of it is in flight: the slot goes back in order, to be waited for at close. */
	if (in_flight)
		s->order[(s->head + s->count++) % s->max_slots] = (unsigned)idx;
	return -1;
}

/*
 * Pools whose completions had not all come back when their connection
 * ended: still pinned by the kernel, so neither freed nor reused. Each keeps
 * a dup of its socket so its error queue can still be read; whenever another
 * connection closes, the lot is looked at and what has come back is freed.
 */
static struct a3 *parked;
static unsigned n_parked;           /* written under parked_lock, read without it (atomic) */
static pthread_mutex_t parked_lock = PTHREAD_MUTEX_INITIALIZER;

/* Also the technique's tick: the main thread looks at the lot about once a second. */
static void reclaim_parked(void)
{
	const char *call = NULL;

	if (!__atomic_load_n(&n_parked, __ATOMIC_RELAXED))
		return;                        /* nothing parked: no lock */
	pthread_mutex_lock(&parked_lock);
	for (struct a3 **pp = &parked; *pp;) {
		struct a3 *s = *pp;

		/* An error riding the queue ends this read, not the wait: look again later. */
		if (drain(s, &call) < 0 || cb_zc_inflight(&s->zc)) {
			pp = &s->next_parked;
			continue;
		}
		*pp = s->next_parked;
		__atomic_sub_fetch(&n_parked, 1, __ATOMIC_RELAXED);
		close(s->fd);
		pool_free(s);
	}
	pthread_mutex_unlock(&parked_lock);
}

static void a3_close(struct cb_conn *c, void *state)
{
	struct a3 *s = state;
	uint64_t deadline = cb_now_ns() + CLOSE_WAIT_MS * 1000000ull;

	reclaim_parked();
	/* The socket must stay open until the kernel has given every buffer back. */
	while (cb_zc_inflight(&s->zc) && cb_now_ns() < deadline) {
		if (wait_completions(s, 50, &c->err_call) < 0) {
			cb_warn("client %s: %s: %s", c->peer, c->err_call, strerror(errno));
			break;
		}
	}
	c->stat[ZC_COMPLETIONS] = s->zc.completions;
	c->stat[ZC_COPIED] = s->zc.copied;
	c->stat[ZC_BOGUS] = s->zc.bogus;
	c->stat[ZC_MISSING] = cb_zc_inflight(&s->zc);
	if (!c->stat[ZC_MISSING]) {
		pool_free(s);
		return;
	}
	s->fd = dup(c->fd);
	c->stat[ZC_PARKED] = 1;
	cb_warn("client %s: %llu zero-copy sends not completed %d ms after the last one: "
		"parking its %llu-byte pool (never freed while the kernel may read it)%s", c->peer,
		(unsigned long long)c->stat[ZC_MISSING], CLOSE_WAIT_MS, (unsigned long long)s->pool_bytes,
		s->fd < 0 ? "; dup failed, so for good" : "");
	if (s->fd < 0)
		return;                        /* leaked on purpose: safer than a free */
	pthread_mutex_lock(&parked_lock);
	s->next_parked = parked;
	parked = s;
	__atomic_add_fetch(&n_parked, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&parked_lock);
}

static const struct cb_technique a3 = {
	.name = "A3", .impl = 3, .stats = a3_stats, .probe = zc_probe, .describe = zc_describe,
	.open = a3_open, .send = a3_send, .close = a3_close, .tick = reclaim_parked,
};

int main(int argc, char **argv)
{
	return cb_server_main(argc, argv, &a3);
}
