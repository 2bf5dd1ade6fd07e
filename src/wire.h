/*
 * wire: everything that crosses the network, as the README's protocol section
 * describes it. The hello and its reply (encode, decode, check), the message
 * (8 separately allocated fields: fill, stamp, the payload pattern, the iovec
 * over the fields) and the receiver's framing, which finds message boundaries
 * in a byte stream and verifies what it gets.
 */
#ifndef COPYBENCH_WIRE_H
#define COPYBENCH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "hist.h"

#define CB_MIN_SIZE          16          /* the header must fit */
#define CB_MAX_SIZE          (64u << 20)
#define CB_NFIELDS           8
#define CB_HDR_LEN           16          /* u64 seq, u64 send time (ns) */
#define CB_RR_REQ_LEN        16          /* u64 seq, u64 reserved */

/* ---- the wire protocol (all integers big-endian) --------------------- */
#define CB_MAGIC             0x43504231u /* "CPB1" */
#define CB_VERSION           2           /* 2: the client says "start" (see cb_start_*) */
#define CB_HELLO_LEN         24
#define CB_REPLY_LEN         16
#define CB_FLAG_VERIFY       0x1u
/*
 * Start, client -> server, once every connection of the client has its reply:
 * the server sends nothing before it, so nothing sent before the client's
 * window opens can be counted in it.
 */
#define CB_START_MAGIC       0x43504253u /* "CPBS" */
#define CB_START_LEN         8           /* magic, 4 reserved bytes (0) */

enum cb_mode { CB_STREAM = 0, CB_RR = 1 };
enum cb_status {
	CB_OK = 0, CB_BAD_MAGIC = 1, CB_BAD_VERSION = 2, CB_BAD_SIZE = 3,
	CB_BAD_MODE = 4, CB_BAD_FLAGS = 5,
	/* the hello is well formed, but this server cannot serve it */
	CB_TOO_BIG = 6,      /* past the technique's per-connection memory cap */
	CB_NO_MEMORY = 7,    /* the server could not allocate the buffers */
	CB_NO_ZEROCOPY = 8,  /* SO_ZEROCOPY refused on this connection */
	CB_BUSY = 9,         /* --max-clients or the memory budget reached: try later */
	CB_NO_ROOM = 10,     /* --footprint at this size needs more than the whole memory budget */
	CB_UNAVAILABLE = 11, /* the technique cannot run on this host (A4: io_uring refused) */
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
	uint16_t impl;      /* 1..4: which technique the server runs */
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
void cb_start_encode(unsigned char out[CB_START_LEN]);
bool cb_start_check(const unsigned char in[CB_START_LEN]);

void cb_put_be64(unsigned char *p, uint64_t v);
uint64_t cb_get_be64(const unsigned char *p);

/* ---- the message: 8 fields, each its own malloc ---------------------- */
struct cb_message {
	uint32_t size;
	uint32_t len[CB_NFIELDS];
	unsigned char *field[CB_NFIELDS];
};

/*
 * size/8 bytes per field, the remainder in the last, zeroed. 0, or -1 (errno
 * ENOMEM) with nothing left allocated: one connection's failure is its own.
 */
int cb_msg_alloc(struct cb_message *m, uint32_t size);
void cb_msg_free(struct cb_message *m);
/*
 * What one message of `size` takes from the heap: its struct and its 8
 * fields as malloc chunks (glibc: an 8-byte header, 16-byte granules, 32
 * bytes at least). What the memory budget is charged per message: for small
 * messages it is several times the payload (16 B messages: 360 bytes each).
 */
uint64_t cb_msg_cost(uint32_t size);
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
/* Copy src's bytes into dst, a message of the same size: a pool filled by
 * copying one filled message is filled at memcpy speed, not a byte at a time. */
void cb_msg_copy(struct cb_message *dst, const struct cb_message *src);
/* Write the header (seq, send time) into the first CB_HDR_LEN bytes. */
void cb_msg_stamp(struct cb_message *m, uint64_t seq, uint64_t send_ns);
/*
 * Per message: refill the payload (only under --verify), then stamp it with
 * send_ns, the time the sender wanted to send it (the server frame takes it
 * before the technique's send, so a wait for buffer space or a pool slot is
 * inside the latency for every technique alike).
 */
void cb_msg_prepare(struct cb_message *m, uint64_t seq, bool fill, uint64_t send_ns);
/* iovec over the 8 fields. */
void cb_msg_iov(const struct cb_message *m, struct iovec iov[CB_NFIELDS]);

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
	uint64_t window_start_ns; /* messages stamped before it are "early" (one clock only) */
	uint64_t early;           /* of those counted with a hist, stamped before window_start_ns */
	bool cut;                 /* the stream ended inside a message (counted once) */
};
void cb_rx_init(struct cb_rx *rx, uint32_t msg_size, bool verify);
/*
 * Feed received bytes. Calls no function per byte when !verify; returns the
 * number of whole messages completed by this chunk. For each completed
 * message the send time is passed to hist (now_ns - send time) if hist.
 */
uint64_t cb_rx_feed(struct cb_rx *rx, const unsigned char *buf, size_t len,
		    uint64_t now_ns, struct cb_hist *hist);
/*
 * The stream has ended (EOF, reset, stop). A message cut short counts once in
 * verify_errors, however many paths call this; returns true when there was one.
 */
bool cb_rx_end(struct cb_rx *rx);

#endif
