/*
 * copybench shared module: what the six A*_server / A*_client programs have
 * in common. Options, sockets and the hello protocol, the 8-field message
 * (fill, stamp, verify), the receiver's framing, latency histograms, the
 * zero-copy completion tracker and the result line live here once; each
 * A*_*.c holds only what makes its technique what it is.
 */
#ifndef COPYBENCH_COMMON_H
#define COPYBENCH_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* ---- defaults, in one place ------------------------------------------ */
#define CB_DEFAULT_PORT      5301
#define CB_DEFAULT_SIZE      65536
#define CB_DEFAULT_THREADS   1
#define CB_DEFAULT_DURATION  5.0
#define CB_MIN_SIZE          16          /* the header must fit */
#define CB_MAX_SIZE          (64u << 20)
#define CB_MAX_THREADS       1024
#define CB_MAX_CLIENTS_ARG   1000000
#define CB_NFIELDS           8
#define CB_HDR_LEN           16          /* u64 seq, u64 send time (ns) */
#define CB_RR_REQ_LEN        16          /* u64 seq, u64 reserved */
#define CB_RX_CHUNK          (256u << 10) /* receiver reads this much at once */
#define CB_DEFAULT_RCVLOWAT  0u           /* stream SO_RCVLOWAT: the kernel's, as iperf3 */

/* ---- the wire protocol (all integers big-endian) --------------------- */
#define CB_MAGIC             0x43504231u /* "CPB1" */
#define CB_VERSION           1
#define CB_HELLO_LEN         24
#define CB_REPLY_LEN         16
#define CB_FLAG_VERIFY       0x1u

enum cb_mode { CB_STREAM = 0, CB_RR = 1 };
enum cb_status {
	CB_OK = 0, CB_BAD_MAGIC = 1, CB_BAD_VERSION = 2, CB_BAD_SIZE = 3,
	CB_BAD_MODE = 4, CB_BAD_FLAGS = 5,
};

struct cb_hello {
	uint32_t magic;
	uint16_t version;
	uint16_t mode;
	uint32_t msg_size;
	uint32_t flags;
	uint64_t reserved;
};

struct cb_reply {
	uint32_t magic;
	uint16_t version;
	uint16_t status;
	uint16_t impl;      /* 1, 2 or 3: which technique the server runs */
	uint16_t reserved16;
	uint32_t reserved32;
};

void cb_hello_encode(const struct cb_hello *h, unsigned char out[CB_HELLO_LEN]);
void cb_hello_decode(const unsigned char in[CB_HELLO_LEN], struct cb_hello *h);
/* CB_OK or the reason the server refuses it. */
enum cb_status cb_hello_check(const struct cb_hello *h);
const char *cb_status_str(unsigned status);
void cb_reply_encode(const struct cb_reply *r, unsigned char out[CB_REPLY_LEN]);
void cb_reply_decode(const unsigned char in[CB_REPLY_LEN], struct cb_reply *r);

void cb_put_be64(unsigned char *p, uint64_t v);
uint64_t cb_get_be64(const unsigned char *p);

/* ---- errors ----------------------------------------------------------- */
extern const char *cb_prog;               /* program name for messages */
void cb_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void cb_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void cb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- options ----------------------------------------------------------- */
struct cb_server_opts {
	const char *bind_addr;
	unsigned port;
	long clients;               /* exit after this many; 0 = serve until a signal */
	bool quiet;
};

struct cb_client_opts {
	const char *host;
	unsigned port;
	unsigned size;
	unsigned threads;
	double duration;
	enum cb_mode mode;
	double interval;            /* 0: no live lines */
	unsigned rcvlowat;          /* SO_RCVLOWAT in stream mode; 0: the kernel's 1 byte */
	bool verify;
};

/*
 * Parse a number in [lo, hi]; on any error (empty, junk, out of range,
 * overflow) a usage error naming the option. Never atoi.
 */
long long cb_parse_ll(const char *opt, const char *arg, long long lo, long long hi);
double cb_parse_double(const char *opt, const char *arg, double lo, double hi);
/* Sizes accept K/M suffixes (powers of two): 64K = 65536. */
long long cb_parse_size(const char *opt, const char *arg, long long lo, long long hi);

/* Return 0, or exit (0 after --help, 2 on a usage error). */
void cb_server_parse(int argc, char **argv, const char *impl, struct cb_server_opts *o);
void cb_client_parse(int argc, char **argv, const char *impl, struct cb_client_opts *o);

/* ---- time ---------------------------------------------------------------- */
uint64_t cb_now_ns(void);       /* CLOCK_MONOTONIC */

/* ---- the message: 8 fields, each its own malloc ---------------------- */
struct cb_message {
	uint32_t size;
	uint32_t len[CB_NFIELDS];
	unsigned char *field[CB_NFIELDS];
};

/* size/8 bytes per field, the remainder in the last. Exits on ENOMEM. */
void cb_msg_alloc(struct cb_message *m, uint32_t size);
void cb_msg_free(struct cb_message *m);
/*
 * The payload pattern: byte `off` of message `seq` is cb_pattern(key, off)
 * with key = cb_seq_key(seq). It depends on both, so a byte from the wrong
 * message or the wrong offset is caught; it is cheap, so --verify can keep up.
 */
static inline uint8_t cb_seq_key(uint64_t seq)
{
	return (uint8_t)((seq * 0x9E3779B97F4A7C15ull) >> 56);
}
static inline uint8_t cb_pattern(uint8_t key, uint32_t off)
{
	return (uint8_t)(key ^ (off * 0x9Du) ^ (off >> 8) ^ (off >> 16));
}
/* Fill every byte after the header with the pattern of `seq`. */
void cb_msg_fill(struct cb_message *m, uint64_t seq);
/* Write the header (seq, send time) into the first CB_HDR_LEN bytes. */
void cb_msg_stamp(struct cb_message *m, uint64_t seq, uint64_t send_ns);
/* Per message: refill the payload (only under --verify), then stamp. */
void cb_msg_prepare(struct cb_message *m, uint64_t seq, bool fill);
/* iovec over the 8 fields. */
void cb_msg_iov(const struct cb_message *m, struct iovec iov[CB_NFIELDS]);
/*
 * After a partial write of `done` bytes, advance (*iov, *iovcnt) past them:
 * drop whole entries, trim the first partial one. Returns bytes left.
 */
size_t cb_iov_advance(struct iovec **iov, int *iovcnt, size_t done);

/* ---- latency histogram: log-linear, <1.6% relative error, fixed size -- */
#define CB_HIST_SUB_BITS 6
#define CB_HIST_BUCKETS  ((64 - CB_HIST_SUB_BITS) * (1 << CB_HIST_SUB_BITS) + (1 << CB_HIST_SUB_BITS))
struct cb_hist {
	uint64_t count;
	uint64_t max;
	uint64_t bucket[CB_HIST_BUCKETS];
};
static inline unsigned cb_hist_index(uint64_t v)
{
	if (v < (2u << CB_HIST_SUB_BITS))
		return (unsigned)v;
	unsigned shift = 63 - (unsigned)__builtin_clzll(v) - CB_HIST_SUB_BITS;
	return (shift << CB_HIST_SUB_BITS) + (unsigned)(v >> shift);
}
static inline void cb_hist_add(struct cb_hist *h, uint64_t v)
{
	h->bucket[cb_hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}
void cb_hist_merge(struct cb_hist *into, const struct cb_hist *from);
/* The value at quantile q (0..1): the midpoint of its bucket, capped at max. */
uint64_t cb_hist_quantile(const struct cb_hist *h, double q);

/* ---- the receiver's framing and verification -------------------------- */
struct cb_rx {
	uint32_t msg_size;
	bool verify;              /* check every payload byte, not only the header */
	uint32_t off;             /* offset inside the current message */
	uint64_t expect_seq;
	unsigned char hdr[CB_HDR_LEN];
	/* results */
	uint64_t messages;        /* whole messages received */
	uint64_t bytes;           /* bytes of whole messages */
	uint64_t verify_errors;   /* messages with a wrong seq or a wrong byte */
	uint64_t bad_in_msg;      /* wrong bytes seen in the current message */
	uint64_t last_send_ns;    /* send time stamped in the last whole message */
	uint64_t last_seq;
};
void cb_rx_init(struct cb_rx *rx, uint32_t msg_size, bool verify);
/*
 * Feed received bytes. Calls no function per byte when !verify; returns the
 * number of whole messages completed by this chunk. For each completed
 * message the send time is passed to hist (now_ns - send time) if hist.
 */
uint64_t cb_rx_feed(struct cb_rx *rx, const unsigned char *buf, size_t len,
		    uint64_t now_ns, struct cb_hist *hist);

/* ---- sockets ------------------------------------------------------------- */
/* Bound, listening socket; exits 1 naming the call on failure. Reports port. */
int cb_listen(const char *addr, unsigned port, unsigned *bound_port);
/* Connected socket, or -1 with a message in err (getaddrinfo/connect text). */
int cb_connect(const char *host, unsigned port, char *err, size_t errlen);
/* Loops on short transfers and EINTR; 0 ok, -1 errno set (0 = EOF for read). */
int cb_write_all(int fd, const void *buf, size_t len);
int cb_read_all(int fd, void *buf, size_t len);
/*
 * cb_read_all within `seconds` in all: a per-recv timeout alone would let a
 * peer that drips one byte at a time hold the reader for ever. -1 with
 * errno EAGAIN when the time is up (SO_RCVTIMEO is left cleared).
 */
int cb_read_all_within(int fd, void *buf, size_t len, double seconds);
/*
 * sendmsg until the iovec is empty, advancing it; 0, or -1 with errno set
 * and the iovec describing what is left. *calls counts calls that sent data
 * (each zero-copy one takes a completion id). EINTR is retried; ENOBUFS of
 * a plain send waits and retries, of a zero-copy send goes to the caller.
 */
int cb_sendmsg_all(int fd, struct iovec **iov, int *iovcnt, int flags, uint32_t *calls);
/*
 * Sleep a millisecond after ENOBUFS; -1 (errno ENOBUFS) once *streak says a
 * second of them came back to back. The caller zeroes *streak whenever a
 * send makes progress, so only an unbroken run of failures gives up.
 */
int cb_wait_nobufs(unsigned *streak);
void cb_set_timeout(int fd, int which, double seconds);  /* SO_RCVTIMEO/SO_SNDTIMEO */
const char *cb_peer_str(int fd, char *buf, size_t len);

/* ---- zero-copy completion tracking (pure bookkeeping, unit-tested) ---- */
/*
 * Every successful sendmsg(MSG_ZEROCOPY) on a TCP socket takes the next
 * 32-bit id; the error queue reports completed ranges [lo, hi]. Ranges may
 * come out of order, so completion is tracked per id in a ring and `low`
 * is the first id not yet completed: every id below it is done, and a
 * buffer whose last send used id L may be reused once L < low.
 */
#define CB_ZC_RING 8192u        /* ids in flight at most; power of two */
struct cb_zc {
	uint32_t next;            /* id the next zero-copy send will take */
	uint32_t low;             /* lowest id not completed */
	uint64_t completions;     /* ids reported complete (sum of hi - lo + 1) */
	uint64_t copied;          /* of those, flagged SO_EE_CODE_ZEROCOPY_COPIED */
	uint64_t notifications;   /* error-queue messages read */
	uint64_t bogus;           /* ids reported that were not in flight */
	unsigned char done[CB_ZC_RING];
};
void cb_zc_init(struct cb_zc *z);
static inline uint32_t cb_zc_inflight(const struct cb_zc *z) { return z->next - z->low; }
/* True once the send that used `id` has completed. */
static inline bool cb_zc_is_done(const struct cb_zc *z, uint32_t id)
{
	return (int32_t)(z->low - id) > 0;
}
/* Record a completion range reported by the kernel. */
void cb_zc_complete(struct cb_zc *z, uint32_t lo, uint32_t hi, bool copied);

/* ---- result line ----------------------------------------------------------- */
/* Appends " key=value" to a line buffer; printed at once by cb_line_print. */
struct cb_line { char buf[1024]; size_t len; };
void cb_line_start(struct cb_line *l, const char *first);
void cb_line_add(struct cb_line *l, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cb_line_print(struct cb_line *l);

/* ---- the server frame (common_run.c) -------------------------------------- */
struct cb_conn {
	/* set by the accept loop */
	int fd;
	char peer[64];
	pthread_t thread;
	struct cb_conn *next;
	int finished;             /* written once by the thread, under __atomic */
	/* written by the connection's thread only, read after join */
	struct cb_hello hello;
	bool verify;
	bool accepted;            /* the hello was good */
	bool failed;              /* ended by an error, not by the client leaving */
	uint64_t bytes, messages;
	uint64_t zc_sends, zc_completions, zc_copied, zc_enobufs, zc_missing, zc_bogus;
	const char *err_call;     /* the call that failed */
	int err;                  /* its errno */
};

struct cb_technique {
	const char *name;         /* "A1" */
	unsigned impl;            /* 1, 2, 3 */
	bool zerocopy;            /* report zc_* fields */
	int (*probe)(void);       /* optional: 0 if the kernel supports it */
	/* Per-connection state once the hello is accepted; NULL = c->err set. */
	void *(*open)(struct cb_conn *c);
	/* Send message `seq` whole: 0, or -1 with c->err_call and errno. */
	int (*send)(struct cb_conn *c, void *state, uint64_t seq);
	/* After the last message: wait for what is pending, free the state. */
	void (*close)(struct cb_conn *c, void *state);
};

/* Parse options, listen, serve until -n N connections or a signal. */
int cb_server_main(int argc, char **argv, const struct cb_technique *t);
/* The whole client: every technique's receiver is the same program. */
int cb_client_main(int argc, char **argv, const char *impl, unsigned impl_num);

/* ---- CPU accounting ------------------------------------------------------- */
double cb_cpu_seconds(void);    /* user + system time of this process */

#endif
