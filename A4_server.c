/*
 * A4: io_uring zero-copy send. The same message and the same 8-entry iovec
 * as A2 and A3, handed to the kernel as IORING_OP_SENDMSG_ZC requests
 * through a ring of the connection's own: up to --queue-depth messages go
 * in with one io_uring_enter, and "the buffer is yours again" comes back as
 * a notification CQE (IORING_CQE_F_NOTIF) instead of an error-queue read.
 *
 * The buffer rule is A3's: a slot is rewritten or freed only once every
 * notification its sends owe has come, on every path (the normal end, a
 * peer error, a timeout, the server stopping). A pool whose notifications
 * do not come is parked with its ring, never freed while the kernel may read it.
 *
 * Order: two sends on one TCP socket in flight at once may run out of order
 * (one waits for buffer space while the next finds some), so a batch is one
 * IOSQE_IO_LINK chain of sends with MSG_WAITALL (a short send then breaks the
 * chain rather than letting the next run: io_uring_prep_sendmsg(3)), and the
 * next batch goes in only once this one has completed. A send cut short, or
 * failed for want of memory the notifications give back, is submitted again
 * from where it stopped, with the ones cancelled behind it, in order.
 *
 * On loopback and veth the kernel copies for the local receiver anyway and
 * says so in the notification (IORING_SEND_ZC_REPORT_USAGE): counted as A3
 * counts SO_EE_CODE_ZEROCOPY_COPIED, never hidden.
 */
#define _GNU_SOURCE
#include "server.h"
#include "base.h"
#include "net.h"
#include "wire.h"
#include "zc.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* Linux 6.2's; liburing 2.3's copy of the kernel header predates them. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

#define DEPTH_DEFAULT   32          /* sends per submission: measured, docs/performance.md (A4) */
#define DEPTH_MAX       256
#define POOL_BASE_BYTES (2u << 20)  /* the pool may grow to at least this, */
#define POOL_CAP_BYTES  (32u << 20) /* never past this per connection (2 messages must fit) */
#define POOL_MAX_SLOTS  4096
#define WAIT_MS         100         /* one wait for completions, at most */
#define CLOSE_WAIT_MS   2000        /* at the end, wait this long for notifications */
#define CANCEL_TAG      UINT64_MAX  /* user_data of a cancel request */
#ifndef A4_EXTRA_FLAGS
#define A4_EXTRA_FLAGS 0
#endif

static long long cfg_depth = DEPTH_DEFAULT;
static const struct cb_tech_opt a4_opts[] = {
	{ "queue-depth", "sends per io_uring submission, one linked chain", 1, DEPTH_MAX, &cfg_depth },
	{ NULL, NULL, 0, 0, NULL },
};

struct slot {
	struct cb_message msg;
	struct iovec iov[CB_NFIELDS], *v;  /* v, cnt: what is left to send */
	int cnt;
	struct msghdr mh;           /* stable until submitted (IORING_FEAT_SUBMIT_STABLE) */
	size_t left;                /* bytes of the message the kernel has not accepted */
	int res;                    /* its last send's result */
	struct cb_zcq_slot zq;      /* busy, notifications owed (zc.h) */
};

/*
 * The pool grows on demand up to max_slots, as A3's: `order` holds the slots
 * in the order they were sent, oldest first, so the oldest is the next to
 * come back; reusing it rotates through every slot the pool holds.
 */
struct a4 {
	struct io_uring ring;
	int fd;
	unsigned depth;             /* sends in one chain, at most */
	unsigned nslots, max_slots, allocated; /* allocated: slots whose message exists */
	unsigned head, count;       /* `order` is a ring: count slots from head */
	unsigned nbatch;            /* slots queued for the next chain, in batch[] */
	struct cb_zcq q;            /* sends in flight, notifications owed and come (zc.h) */
	uint64_t waits;             /* io_uring_enter calls to wait: nothing was ready */
	uint64_t pool_bytes;
	uint64_t reserved;          /* taken from the server-wide budget (cb_mem_take) */
	struct a4 *next_parked;
	unsigned *order, *batch;
	struct slot *slots;
};

/* Stats in the result line, in this order (see docs/programs.md). The first
 * three are A3's, so the sweep's zero-copy columns fill the same way. */
enum { ZC_SENDS, ZC_COMPLETIONS, ZC_COPIED, ZC_ENOBUFS, ZC_ENOMEM, ZC_MISSING, ZC_BOGUS, ZC_STRAYS,
       ZC_PARKED, ZC_POOL_WAITS, ZC_POOL_SLOTS, ZC_POOL_BYTES, URING_SUBMITS, URING_WAITS };
static const struct cb_stat_def a4_stats[] = {
	[ZC_SENDS] = { "zc_sends", false },
	[ZC_COMPLETIONS] = { "zc_completions", false },
	[ZC_COPIED] = { "zc_copied", false },
	[ZC_ENOBUFS] = { "zc_enobufs", false },
	[ZC_ENOMEM] = { "zc_enomem", false },
	[ZC_MISSING] = { "zc_missing", false },
	[ZC_BOGUS] = { "zc_bogus", false },
	[ZC_STRAYS] = { "zc_strays", false },
	[ZC_PARKED] = { "zc_parked", false },
	[ZC_POOL_WAITS] = { "zc_pool_waits", false },
	[ZC_POOL_SLOTS] = { "zc_pool_slots", true },
	[ZC_POOL_BYTES] = { "zc_pool_bytes", true },
	[URING_SUBMITS] = { "uring_submits", false },
	[URING_WAITS] = { "uring_waits", false },
	{ NULL, false },
};

static bool uring_ok;               /* io_uring and SENDMSG_ZC work here (probed at start) */
static int uring_err;               /* else why: the errno */
/*
 * Without CAP_IPC_LOCK, io_uring charges each zero-copy send's pages to the
 * user's RLIMIT_MEMLOCK and fails the send with ENOMEM past it.
 */
static bool memlock_binds;
static uint64_t memlock_bytes;
static uint64_t wmem_max;           /* net.ipv4.tcp_wmem's limit, where the buffer can grow */

static const char *errname(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "unknown";
}

/*
 * Whether this host lets us use io_uring's zero-copy send. If not, the
 * server still starts, says why in one line, and refuses every client with
 * CB_UNAVAILABLE: a sweep then skips A4 instead of failing.
 */
static int a4_probe(void)
{
	struct io_uring ring;
	struct io_uring_probe *p;
	struct rlimit rl;
	int rc;

	/*
	 * A4 sends from its pool of in-flight slots, which does not yet rotate through a
	 * footprint (A3's does): refused rather than sending hot data labelled cold.
	 */
	if (cb_footprint_messages(1) > 1)
		cb_usage_error("option --footprint: not supported by A4 yet (A1, A2 and A3 take it)");
	rc = io_uring_queue_init(2, &ring, 0);
	if (rc < 0) {
		uint64_t disabled = cb_sysctl_u64("/proc/sys/kernel/io_uring_disabled", 0);

		uring_err = -rc;
		cb_warn("io_uring unavailable: io_uring_setup: %s (%s): refusing every client with "
			"status %d, technique unavailable", strerror(-rc),
			disabled ? (disabled == 1 ? "kernel.io_uring_disabled=1: only its group may use it" :
				     "kernel.io_uring_disabled=2") :
			-rc == ENOSYS ? "a kernel without io_uring, or a seccomp profile that hides it" :
			"a seccomp profile, as containers have, or a security module forbids it",
			CB_UNAVAILABLE);
		return 0;
	}
	p = io_uring_get_probe_ring(&ring);
	rc = p && io_uring_opcode_supported(p, IORING_OP_SENDMSG_ZC);
	if (p)
		io_uring_free_probe(p);
	io_uring_queue_exit(&ring);
	if (!rc) {
		uring_err = EOPNOTSUPP;
		cb_warn("io_uring unavailable: this kernel has no IORING_OP_SENDMSG_ZC (Linux 6.1 or "
			"later): refusing every client with status %d, technique unavailable", CB_UNAVAILABLE);
		return 0;
	}
	uring_ok = true;
	if (!cb_have_cap_ipc_lock() && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		memlock_binds = true;
		memlock_bytes = rl.rlim_cur;
		cb_warn("not privileged (no CAP_IPC_LOCK): io_uring charges each zero-copy send's pages "
			"to RLIMIT_MEMLOCK, %llu KiB for all connections together (ulimit -l); expect ENOMEM "
			"(zc_enomem) and less throughput than as root", (unsigned long long)(memlock_bytes >> 10));
	}
	wmem_max = cb_sysctl_u64("/proc/sys/net/ipv4/tcp_wmem", 2);
	return 0;
}

static unsigned n_parked;           /* pools parked now (see reclaim_parked) */

static void a4_describe(struct cb_line *l)
{
	cb_line_add(l, "queue_depth", "%lld", cfg_depth);
	/* In the result line: pools still parked at the end (their notifications never came). */
	cb_line_add(l, "zc_parked_left", "%u", __atomic_load_n(&n_parked, __ATOMIC_RELAXED));
	cb_line_add(l, "uring", "%d", uring_ok);
	if (!uring_ok)
		cb_line_add(l, "uring_error", "%s", errname(uring_err));
	cb_line_add(l, "zc_memlock_binds", "%d", memlock_binds);
	if (memlock_binds)
		cb_line_add(l, "zc_memlock_bytes", "%llu", (unsigned long long)memlock_bytes);
}

static void pool_free(struct a4 *s)
{
	for (unsigned i = 0; i < s->allocated; i++)
		cb_msg_free(&s->slots[i].msg);
	free(s->slots);
	free(s->order);
	free(s->batch);
	cb_mem_give(s->reserved);
	free(s);
}

/* One more message, its bytes copied from the first (as A3's, and for the same reasons). */
static bool add_message(struct a4 *s, uint32_t size)
{
	struct cb_message *m = &s->slots[s->allocated].msg;

	if (cb_msg_alloc(m, size) != 0)
		return false;
	if (s->allocated)
		cb_msg_copy(m, &s->slots[0].msg);
	else
		cb_msg_fill(m, 0);
	s->allocated++;
	return true;
}

/*
 * The pool's messages, allocated before the hello is answered, as A3 does
 * (see prealloc there): the connection's share of the budget, up to what it
 * may use. rr has one message in flight and reads its notifications at every
 * send: a chain's worth and a few more.
 */
static void prealloc(struct a4 *s, const struct cb_conn *c)
{
	uint32_t size = c->hello.msg_size;
	uint64_t want = cb_mem_share() / size;

	if (want > s->max_slots)
		want = s->max_slots;
	if (c->hello.mode == CB_RR && want > s->depth + 4)
		want = s->depth + 4;
	if (want > 2 && !cb_mem_take((want - 2) * size))
		want = 2;                   /* the two taken at open, nothing more */
	else if (want > 2)
		s->reserved += (want - 2) * size;
	while (s->allocated < want && add_message(s, size))
		;
}

static void *a4_open(struct cb_conn *c)
{
	uint32_t size = c->hello.msg_size;
	uint64_t limit = POOL_BASE_BYTES;
	int sndbuf = 0, rc;
	socklen_t sl = sizeof(sndbuf);
	/* SUBMIT_ALL: a send the kernel refuses at submission still consumes the rest of its
	 * chain (cancelled, each with a CQE), so none is left to run later out of order. */
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | A4_EXTRA_FLAGS };
	struct a4 *s;

	if (!uring_ok) {
		c->status = CB_UNAVAILABLE;
		c->err_call = "io_uring_setup at start-up";
		errno = uring_err;
		return NULL;
	}
	if ((uint64_t)size * 2 > POOL_CAP_BYTES) {
		c->status = CB_TOO_BIG;
		c->err_call = "pool: two messages exceed the per-connection cap";
		errno = EMSGSIZE;
		return NULL;
	}
	/* As A3's: the pool covers what the socket keeps in flight, plus a chain. */
	if (getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) == 0 && (uint64_t)sndbuf > limit)
		limit = (uint64_t)sndbuf;
	if (wmem_max > limit)
		limit = wmem_max;
	limit += (uint64_t)cfg_depth * size;
	if (memlock_binds && limit > memlock_bytes / 2)
		limit = memlock_bytes / 2;     /* more could not be pinned anyway */
	if (limit > POOL_CAP_BYTES)
		limit = POOL_CAP_BYTES;
	if (!cb_mem_take(2ull * size)) {
		c->status = CB_BUSY;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		cb_mem_give(2ull * size);
		c->err_call = "calloc";
		return NULL;
	}
	s->reserved = 2ull * size;
	s->fd = c->fd;
	s->max_slots = (unsigned)(limit / size);
	if (s->max_slots < 2)
		s->max_slots = 2;
	if (s->max_slots > POOL_MAX_SLOTS)
		s->max_slots = POOL_MAX_SLOTS;
	/* A chain needs a slot per send: a pool of two big messages sends two at a time. */
	s->depth = (unsigned)cfg_depth < s->max_slots ? (unsigned)cfg_depth : s->max_slots;
	s->slots = calloc(s->max_slots, sizeof(*s->slots));
	s->order = calloc(s->max_slots, sizeof(*s->order));
	s->batch = calloc(s->depth, sizeof(*s->batch));
	if (!s->slots || !s->order || !s->batch) {
		pool_free(s);
		c->err_call = "calloc";
		return NULL;
	}
	/*
	 * A chain and its cancel fit the submission queue. The completion queue
	 * holds a chain's CQEs and the notifications that come meanwhile; one
	 * that overflows loses nothing (IORING_FEAT_NODROP), it is slower.
	 */
	p.cq_entries = 4 * s->depth < 256 ? 256 : 4 * s->depth;
	rc = io_uring_queue_init_params(s->depth + 1, &s->ring, &p);
	if (rc < 0) {
		pool_free(s);
		errno = -rc;
		c->err_call = "io_uring_setup";
		if (errno == EPERM || errno == ENOSYS)
			c->status = CB_UNAVAILABLE;
		return NULL;
	}
	prealloc(s, c);
	return s;
}

/*
 * Every CQE ready now, without a system call: a send's result (and whether
 * it owes a notification: IORING_CQE_F_MORE), or a notification that gives
 * its slot back. Returns how many were read.
 */
static unsigned uring_reap(struct a4 *s)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&s->ring, head, cqe) {
		uint64_t data = io_uring_cqe_get_data64(cqe);
		uint32_t i = (uint32_t)data, gen = (uint32_t)(data >> 32);
		struct slot *sl = i < s->nslots ? &s->slots[i] : NULL;

		n++;
		if (data == CANCEL_TAG)
			continue;
		if (!sl)
			s->q.bogus++;
		else if (cqe->flags & IORING_CQE_F_NOTIF)
			cb_zcq_notif(&s->q, &sl->zq, gen, (unsigned)cqe->res & IORING_NOTIF_USAGE_ZC_COPIED);
		else if (cb_zcq_result(&s->q, &sl->zq, gen, cqe->flags & IORING_CQE_F_MORE))
			sl->res = cqe->res;
	}
	io_uring_cq_advance(&s->ring, n);
	return n;
}

/*
 * Read what is ready; if nothing is, wait up to ms for a CQE (one system
 * call, which also runs the kernel's pending completion work). Returns the
 * CQEs read, or -1 with errno.
 */
static int uring_wait(struct a4 *s, unsigned ms)
{
	struct __kernel_timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long long)(ms % 1000) * 1000000 };
	struct io_uring_cqe *cqe;
	unsigned n = uring_reap(s);
	int rc;

	if (n)
		return (int)n;
	s->waits++;
	rc = io_uring_wait_cqe_timeout(&s->ring, &cqe, &ts);
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN) {
		errno = -rc;
		return -1;
	}
	return (int)uring_reap(s);
}

/* Cancel every request on the socket: the sends of the chain, cut where they are. */
static void cancel_all(struct a4 *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

	if (!sqe)
		return;
	io_uring_prep_cancel_fd(sqe, s->fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, CANCEL_TAG);
	io_uring_submit(&s->ring);
}

/*
 * Submit what the submission queue holds; an interrupted or busy kernel is
 * waited out (the entries stay published: any later io_uring_enter submits
 * them, so a failure here leaves them in flight, not forgotten).
 */
static int uring_submit(struct cb_conn *c, struct a4 *s)
{
	for (unsigned tries = 0;; tries++) {
		int rc = io_uring_submit(&s->ring);

		c->stat[URING_SUBMITS]++;
		if (rc >= 0)
			return 0;
		if ((rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) || tries == 100) {
			errno = -rc;
			c->err_call = "io_uring_enter (submit)";
			return -1;
		}
		if (uring_wait(s, 10) < 0) {
			c->err_call = "io_uring_enter (wait)";
			return -1;
		}
	}
}

/*
 * Wait until every send of the chain has its CQE. A peer that takes nothing
 * for --idle-timeout, or the server's stop deadline passing, cancels the
 * chain (the cut sends still report what they sent); then their CQEs are
 * waited for. Returns 0, or -1 with c->err_call and errno: after a cancel
 * (in_flight 0), or when the CQEs never came (in_flight not 0: those
 * requests may still hold their slots).
 */
static int wait_chain(struct cb_conn *c, struct a4 *s)
{
	uint64_t stall_ms = 0, cancelled_at = 0;
	const char *why = NULL;

	while (s->q.in_flight) {
		int got = uring_wait(s, WAIT_MS);

		if (got < 0) {
			c->err_call = "io_uring_enter (wait)";
			return -1;
		}
		stall_ms = got ? 0 : stall_ms + WAIT_MS;
		if (cancelled_at) {
			if (cb_now_ns() - cancelled_at > CLOSE_WAIT_MS * 1000000ull) {
				c->err_call = "io_uring: cancelled sends did not complete";
				errno = ETIMEDOUT;
				return -1;
			}
			continue;
		}
		if (cb_now_ns() > cb_server_stop_deadline())
			why = "server stopping: the sends in flight did not complete in time";
		else if (stall_ms >= cb_server_idle_timeout() * 1000)
			why = "io_uring sendmsg_zc: the peer took nothing within the idle timeout";
		if (why) {
			cancel_all(s);
			cancelled_at = cb_now_ns();
		}
	}
	if (why) {
		uint64_t took_ms = (cb_now_ns() - cancelled_at) / 1000000;

		/* Cancelled sends report within a wait or two; when they do not, say how
		 * long (it is time past the stop deadline, or past the idle timeout). */
		if (took_ms > 2ull * WAIT_MS)
			cb_warn("client %s: the cancelled sends took %llu ms to report what they sent",
				c->peer, (unsigned long long)took_ms);
		c->err_call = why;
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

/* Queue slot k of the batch as the next send of the chain (linked unless last). */
static void uring_prep_send(struct a4 *s, unsigned k, bool last)
{
	struct slot *sl = &s->slots[s->batch[k]];
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring); /* the queue holds a chain */

	sl->mh = (struct msghdr){ .msg_iov = sl->v, .msg_iovlen = (size_t)sl->cnt };
	io_uring_prep_sendmsg_zc(sqe, s->fd, &sl->mh, MSG_WAITALL | MSG_NOSIGNAL);
	sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE;
	cb_zcq_submitted(&s->q, &sl->zq);    /* a new generation: checked by the caller */
	io_uring_sqe_set_data64(sqe, cb_zcq_data(&sl->zq, s->batch[k]));
	if (!last)
		sqe->flags |= IOSQE_IO_LINK;
	sl->res = 0;
}

/*
 * Hand the queued batch to the kernel as one chain and wait for its sends.
 * *sent grows by the bytes the kernel accepted, in stream order. A send cut
 * short or refused for want of memory (ENOBUFS; ENOMEM: RLIMIT_MEMLOCK when
 * not privileged), and the ones cancelled behind it, go in again from where
 * it stopped once notifications have given memory back; a second without
 * progress gives up. 0, or -1 with c->err_call and errno; the batch is
 * empty afterwards either way.
 */
static int uring_flush(struct cb_conn *c, struct a4 *s, size_t *sent)
{
	unsigned from = 0, nobufs = 0;
	int rc = 0;

	while (from < s->nbatch) {
		bool progress = false;
		unsigned k;

		/* Never reached in practice: a message sent again 32 times with notifications pending. */
		for (k = from; k < s->nbatch; k++)
			if (!cb_zcq_can_submit(&s->slots[s->batch[k]].zq)) {
				c->err_call = "io_uring sendmsg_zc: one message resubmitted too often";
				errno = EAGAIN;
				s->nbatch = 0;
				return -1;
			}
		for (k = from; k < s->nbatch; k++)
			uring_prep_send(s, k, k + 1 == s->nbatch);
		rc = uring_submit(c, s);
		if (rc == 0)
			rc = wait_chain(c, s);
		if (rc < 0 && s->q.in_flight) {
			rc = -1;           /* the slots stay busy: never reused, parked at close */
			break;
		}
		/* The results, in order: whole messages, then the first that is not. */
		for (k = from; k < s->nbatch; k++) {
			struct slot *sl = &s->slots[s->batch[k]];

			if (sl->res > 0) {
				*sent += (size_t)sl->res;
				sl->left -= (size_t)sl->res;
				cb_iov_advance(&sl->v, &sl->cnt, (size_t)sl->res);
				progress = true;
			}
			if (sl->left)
				break;
		}
		from = k;
		if (from == s->nbatch || rc < 0)
			break;
		if (progress)
			nobufs = 0;        /* the pressure is not unbroken */
		int res = s->slots[s->batch[from]].res;

		if (res >= 0 || res == -ECANCELED || res == -EINTR || res == -EAGAIN) {
			/* Cut short without a cause of its own: the rest again, at once
			 * after progress, else after a pause (a second of them gives up). */
			if (!progress && cb_wait_nobufs(&nobufs) < 0) {
				c->err_call = "io_uring sendmsg_zc: no progress";
				errno = res < 0 ? -res : EIO;
				rc = -1;
				break;
			}
			continue;
		}
		if (res != -ENOBUFS && res != -ENOMEM) {
			c->err_call = "io_uring sendmsg_zc";
			errno = -res;
			rc = -1;
			break;
		}
		c->stat[res == -ENOMEM ? ZC_ENOMEM : ZC_ENOBUFS]++;
		/* Notifications give memory back (pinned pages, the MEMLOCK charge). */
		if (cb_zcq_owed(&s->q)) {
			if (uring_wait(s, 10) < 0) {
				c->err_call = "io_uring_enter (wait)";
				rc = -1;
				break;
			}
		} else if (cb_wait_nobufs(&nobufs) < 0) {
			c->err_call = "io_uring sendmsg_zc";
			errno = -res;
			rc = -1;
			break;
		}
	}
	s->nbatch = 0;
	return rc;
}

static struct slot *slot_at(struct a4 *s, unsigned k)
{
	return &s->slots[s->order[(s->head + k) % s->max_slots]];
}

/*
 * The slot for the next message: the oldest if the kernel has given it
 * back, else a new one while the pool may grow, else hand over the queued
 * batch and wait for notifications. *sent grows by what that batch sent.
 */
static struct slot *take_slot(struct cb_conn *c, struct a4 *s, size_t *sent)
{
	uint64_t stall_ms = 0;
	bool waited = false;
	unsigned idx;

	for (;;) {
		struct slot *old = s->count ? slot_at(s, 0) : NULL;

		if (old && cb_zcq_free(&old->zq)) {
			idx = s->order[s->head];
			s->head = (s->head + 1) % s->max_slots;
			s->count--;
			break;
		}
		/* Grow within the budget: past it the pool waits for its oldest slot instead. */
		if (s->nslots < s->max_slots &&
		    (s->pool_bytes + c->hello.msg_size <= s->reserved ||
		     (cb_mem_take(c->hello.msg_size) && (s->reserved += c->hello.msg_size))) &&
		    (s->nslots < s->allocated || add_message(s, c->hello.msg_size))) {
			idx = s->nslots++;
			s->pool_bytes += c->hello.msg_size;
			c->stat[ZC_POOL_SLOTS] = s->nslots;
			c->stat[ZC_POOL_BYTES] = s->pool_bytes;
			break;
		}
		if (s->nbatch) {
			if (uring_flush(c, s, sent) < 0)
				return NULL;
			continue;
		}
		if (!s->count) {                /* nothing in flight and no memory for a slot */
			c->err_call = "malloc (zero-copy pool)";
			errno = ENOMEM;
			return NULL;
		}
		/* The rule of zero-copy: never touch a buffer the kernel still holds. */
		if (!waited) {
			c->stat[ZC_POOL_WAITS]++;
			waited = true;
		}
		int got = uring_wait(s, WAIT_MS);

		if (got < 0) {
			c->err_call = "io_uring_enter (wait)";
			return NULL;
		}
		if (cb_now_ns() > cb_server_stop_deadline()) {
			c->err_call = "server stopping: no zero-copy buffer came back in time";
			errno = ETIMEDOUT;
			return NULL;
		}
		/* A slot that never comes back ends the connection, as a stalled send would. */
		if (got == 0 && (stall_ms += WAIT_MS) >= cb_server_idle_timeout() * 1000) {
			c->err_call = "waiting for zero-copy notifications";
			errno = ETIMEDOUT;
			return NULL;
		}
	}
	s->order[(s->head + s->count++) % s->max_slots] = idx;
	return &s->slots[idx];
}

static int a4_send(struct cb_conn *c, void *state, uint64_t seq, uint64_t want_ns, size_t *sent)
{
	struct a4 *s = state;
	struct slot *sl = take_slot(c, s, sent);

	if (!sl)
		return -1;
	cb_msg_prepare(&sl->msg, seq, c->verify, want_ns);
	cb_msg_iov(&sl->msg, sl->iov);
	sl->v = sl->iov;
	sl->cnt = CB_NFIELDS;
	sl->left = c->hello.msg_size;
	sl->zq.busy = true;             /* queued: its send goes with the batch */
	s->batch[s->nbatch++] = (unsigned)(sl - s->slots);
	/* rr answers one request at a time: every message goes at once. */
	if (s->nbatch < s->depth && c->hello.mode == CB_STREAM)
		return 0;
	return uring_flush(c, s, sent);
}

/*
 * Pools whose notifications had not all come when their connection ended:
 * the kernel may still read them, so neither freed nor reused. Each keeps
 * its ring, where the notifications still arrive (the kernel posts them
 * itself once the thread that submitted is gone); whenever another
 * connection closes, and about once a second, the lot is looked at.
 */
static struct a4 *parked;           /* n_parked: written under parked_lock, read without it */
static pthread_mutex_t parked_lock = PTHREAD_MUTEX_INITIALIZER;

/* Also the technique's tick. */
static void reclaim_parked(void)
{
	if (!__atomic_load_n(&n_parked, __ATOMIC_RELAXED))
		return;                        /* nothing parked: no lock */
	pthread_mutex_lock(&parked_lock);
	for (struct a4 **pp = &parked; *pp;) {
		struct a4 *s = *pp;

		uring_reap(s);
		if (cb_zcq_owed(&s->q) || s->q.in_flight) {
			pp = &s->next_parked;
			continue;
		}
		*pp = s->next_parked;
		__atomic_sub_fetch(&n_parked, 1, __ATOMIC_RELAXED);
		io_uring_queue_exit(&s->ring);
		pool_free(s);
	}
	pthread_mutex_unlock(&parked_lock);
}

static void a4_close(struct cb_conn *c, void *state)
{
	struct a4 *s = state;
	uint64_t deadline;
	size_t sent = 0;

	reclaim_parked();
	/* Messages still queued are handed over: the client reads to the end. */
	if (s->nbatch && uring_flush(c, s, &sent) < 0 && !c->failed) {
		c->failed = true;
		c->err = errno;
	}
	c->bytes += sent;
	/* The ring must stay until the kernel has given every buffer back; the wait
	 * is inside the server's stop grace, like everything else. */
	deadline = cb_now_ns() + CLOSE_WAIT_MS * 1000000ull;
	if (deadline > cb_server_stop_deadline())
		deadline = cb_server_stop_deadline();
	while ((cb_zcq_owed(&s->q) || s->q.in_flight) && cb_now_ns() < deadline) {
		if (uring_wait(s, 50) < 0) {
			cb_warn("client %s: io_uring_enter (wait): %s", c->peer, strerror(errno));
			break;
		}
	}
	c->stat[ZC_SENDS] = s->q.sends;
	c->stat[ZC_COMPLETIONS] = s->q.completions;
	c->stat[ZC_COPIED] = s->q.copied;
	c->stat[ZC_BOGUS] = s->q.bogus;
	c->stat[ZC_STRAYS] = s->q.strays;
	c->stat[URING_WAITS] = s->waits;
	c->stat[ZC_MISSING] = cb_zcq_owed(&s->q) + s->q.in_flight;
	if (!c->stat[ZC_MISSING]) {
		io_uring_queue_exit(&s->ring);
		pool_free(s);
		return;
	}
	c->stat[ZC_PARKED] = 1;
	cb_warn("client %s: %llu zero-copy notifications not come %d ms (at most) after the last send: "
		"parking its %llu-byte pool with its ring (never freed while the kernel may read it)",
		c->peer, (unsigned long long)c->stat[ZC_MISSING], CLOSE_WAIT_MS,
		(unsigned long long)s->pool_bytes);
	pthread_mutex_lock(&parked_lock);
	s->next_parked = parked;
	parked = s;
	__atomic_add_fetch(&n_parked, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&parked_lock);
}

static const struct cb_technique a4 = {
	.name = "A4", .impl = 4, .stats = a4_stats, .opts = a4_opts, .probe = a4_probe,
	.describe = a4_describe, .open = a4_open, .send = a4_send, .close = a4_close,
	.tick = reclaim_parked,
};

int main(int argc, char **argv)
{
	return cb_server_main(argc, argv, &a4);
}
