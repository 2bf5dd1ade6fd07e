/* wire: see wire.h. */
#define _GNU_SOURCE
#include "wire.h"


#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- big-endian helpers and the hello -------------------------------- */

static void put_be16(unsigned char *p, uint16_t v) { p[0] = v >> 8; p[1] = (unsigned char)v; }
static void put_be32(unsigned char *p, uint32_t v) { put_be16(p, v >> 16); put_be16(p + 2, (uint16_t)v); }
void cb_put_be64(unsigned char *p, uint64_t v) { put_be32(p, v >> 32); put_be32(p + 4, (uint32_t)v); }
static uint16_t get_be16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get_be32(const unsigned char *p) { return (uint32_t)get_be16(p) << 16 | get_be16(p + 2); }
uint64_t cb_get_be64(const unsigned char *p) { return (uint64_t)get_be32(p) << 32 | get_be32(p + 4); }

void cb_hello_encode(const struct cb_hello *h, unsigned char out[CB_HELLO_LEN])
{
	put_be32(out, h->magic);
	put_be16(out + 4, h->version);
	put_be16(out + 6, h->mode);
	put_be32(out + 8, h->msg_size);
	put_be32(out + 12, h->flags);
	cb_put_be64(out + 16, h->reserved);
}

void cb_hello_decode(const unsigned char in[CB_HELLO_LEN], struct cb_hello *h)
{
	h->magic = get_be32(in);
	h->version = get_be16(in + 4);
	h->mode = get_be16(in + 6);
	h->msg_size = get_be32(in + 8);
	h->flags = get_be32(in + 12);
	h->reserved = cb_get_be64(in + 16);
}

enum cb_status cb_hello_check(const struct cb_hello *h)
{
	if (h->magic != CB_MAGIC)
		return CB_BAD_MAGIC;
	if (h->version != CB_VERSION)
		return CB_BAD_VERSION;
	if (h->msg_size < CB_MIN_SIZE || h->msg_size > CB_MAX_SIZE)
		return CB_BAD_SIZE;
	if (h->mode != CB_STREAM && h->mode != CB_RR)
		return CB_BAD_MODE;
	/* Reserved means 0, in every message of the protocol: a receiver refuses anything else. */
	if ((h->flags & ~CB_FLAG_VERIFY) || h->reserved)
		return CB_BAD_FLAGS;
	return CB_OK;
}

const char *cb_status_str(unsigned status)
{
	switch (status) {
	case CB_OK: return "ok";
	case CB_BAD_MAGIC: return "bad magic (not a copybench client)";
	case CB_BAD_VERSION: return "unsupported protocol version";
	case CB_BAD_SIZE: return "message size out of range";
	case CB_BAD_MODE: return "unknown mode";
	case CB_BAD_FLAGS: return "unknown flags, or a reserved byte not 0";
	case CB_TOO_BIG: return "message size too large for this technique's per-connection buffers";
	case CB_NO_MEMORY: return "the server could not allocate the message buffers";
	case CB_NO_ZEROCOPY: return "the server cannot use MSG_ZEROCOPY on this connection";
	case CB_BUSY: return "server busy (its --max-clients or memory budget is reached); try later";
	case CB_NO_ROOM: return "the server's --footprint at this message size needs more than its whole "
		"memory budget (--mem-budget)";
	case CB_UNAVAILABLE: return "this technique is unavailable on the server's host (A4: io_uring refused; the server's first lines say why)";
	}
	return "unknown status";
}

void cb_reply_encode(const struct cb_reply *r, unsigned char out[CB_REPLY_LEN])
{
	put_be32(out, r->magic);
	put_be16(out + 4, r->version);
	put_be16(out + 6, r->status);
	put_be16(out + 8, r->impl);
	put_be16(out + 10, r->reserved16);
	put_be32(out + 12, r->reserved32);
}

void cb_reply_decode(const unsigned char in[CB_REPLY_LEN], struct cb_reply *r)
{
	r->magic = get_be32(in);
	r->version = get_be16(in + 4);
	r->status = get_be16(in + 6);
	r->impl = get_be16(in + 8);
	r->reserved16 = get_be16(in + 10);
	r->reserved32 = get_be32(in + 12);
}

void cb_start_encode(unsigned char out[CB_START_LEN])
{
	put_be32(out, CB_START_MAGIC);
	put_be32(out + 4, 0);
}

bool cb_start_check(const unsigned char in[CB_START_LEN])
{
	return get_be32(in) == CB_START_MAGIC && get_be32(in + 4) == 0;
}

/* ---- the message ---------------------------------------------------------- */

int cb_msg_alloc(struct cb_message *m, uint32_t size)
{
	uint32_t each = size / CB_NFIELDS;

	m->size = size;
	for (int i = 0; i < CB_NFIELDS; i++) {
		m->len[i] = each + (i == CB_NFIELDS - 1 ? size % CB_NFIELDS : 0);
		m->field[i] = calloc(1, m->len[i] ? m->len[i] : 1);
		if (!m->field[i]) {
			while (i-- > 0) {
				free(m->field[i]);
				m->field[i] = NULL;
			}
			errno = ENOMEM;
			return -1;
		}
	}
	return 0;
}

uint64_t cb_msg_cost(uint32_t size)
{
	uint64_t cost = sizeof(struct cb_message);

	for (int i = 0; i < CB_NFIELDS; i++) {
		uint64_t len = size / CB_NFIELDS + (i == CB_NFIELDS - 1 ? size % CB_NFIELDS : 0);
		uint64_t chunk = (len + 8 + 15) & ~15ull;

		cost += chunk < 32 ? 32 : chunk;
	}
	return cost;
}

void cb_msg_free(struct cb_message *m)
{
	for (int i = 0; i < CB_NFIELDS; i++) {
		free(m->field[i]);
		m->field[i] = NULL;
	}
}

/* Calls fn(dst, msg_offset, n) over message bytes [from, to), field by field. */
#define FOR_EACH_SPAN(m, from, to, body)                                          \
	do {                                                                      \
		uint32_t base_ = 0;                                               \
		for (int i_ = 0; i_ < CB_NFIELDS; base_ += (m)->len[i_], i_++) {  \
			uint32_t lo_ = base_ > (from) ? base_ : (from);           \
			uint32_t hi_ = base_ + (m)->len[i_] < (to) ? base_ + (m)->len[i_] : (to); \
			if (lo_ >= hi_)                                           \
				continue;                                         \
			unsigned char *dst = (m)->field[i_] + (lo_ - base_);      \
			uint32_t off = lo_, n = hi_ - lo_;                        \
			body;                                                     \
		}                                                                 \
	} while (0)

void cb_msg_fill(struct cb_message *m, uint64_t seq)
{
	uint8_t key = cb_seq_key(seq);

	FOR_EACH_SPAN(m, CB_HDR_LEN, m->size, {
		for (uint32_t k = 0; k < n; k++)
			dst[k] = cb_pattern(key, off + k);
	});
}

void cb_msg_copy(struct cb_message *dst, const struct cb_message *src)
{
	for (int i = 0; i < CB_NFIELDS; i++)
		memcpy(dst->field[i], src->field[i], src->len[i]);
}

void cb_msg_stamp(struct cb_message *m, uint64_t seq, uint64_t send_ns)
{
	unsigned char hdr[CB_HDR_LEN];

	cb_put_be64(hdr, seq);
	cb_put_be64(hdr + 8, send_ns);
	if (m->len[0] >= CB_HDR_LEN) {       /* every size >= 128: the fast path */
		memcpy(m->field[0], hdr, CB_HDR_LEN);
		return;
	}
	FOR_EACH_SPAN(m, 0, CB_HDR_LEN, memcpy(dst, hdr + off, n));
}

void cb_msg_prepare(struct cb_message *m, uint64_t seq, bool fill, uint64_t send_ns)
{
	if (fill)
		cb_msg_fill(m, seq);
	cb_msg_stamp(m, seq, send_ns);
}

void cb_msg_iov(const struct cb_message *m, struct iovec iov[CB_NFIELDS])
{
	for (int i = 0; i < CB_NFIELDS; i++) {
		iov[i].iov_base = m->field[i];
		iov[i].iov_len = m->len[i];
	}
}


/* ---- receiver framing ------------------------------------------------------- */

void cb_rx_init(struct cb_rx *rx, uint32_t msg_size, bool verify)
{
	memset(rx, 0, sizeof(*rx));
	rx->msg_size = msg_size;
	rx->verify = verify;
}

uint64_t cb_rx_feed(struct cb_rx *rx, const unsigned char *buf, size_t len,
		    uint64_t now_ns, struct cb_hist *hist)
{
	uint64_t done = 0;

	while (len) {
		size_t take;

		if (rx->off < CB_HDR_LEN) {
			take = CB_HDR_LEN - rx->off;
			if (take > len)
				take = len;
			memcpy(rx->hdr + rx->off, buf, take);
			rx->off += (uint32_t)take;
			if (rx->off == CB_HDR_LEN) {
				rx->last_seq = cb_get_be64(rx->hdr);
				rx->last_send_ns = cb_get_be64(rx->hdr + 8);
				if (rx->last_seq != rx->expect_seq)
					rx->bad_in_msg++;
			}
		} else {
			take = rx->msg_size - rx->off;
			if (take > len)
				take = len;
			if (rx->verify) {
				uint8_t key = cb_seq_key(rx->last_seq);
				uint64_t bad = 0;

				for (size_t k = 0; k < take; k++)
					bad += buf[k] != cb_pattern(key, rx->off + (uint32_t)k);
				rx->bad_in_msg += bad;
			}
			rx->off += (uint32_t)take;
		}
		buf += take;
		len -= take;
		if (rx->off == rx->msg_size) {
			rx->messages++;
			rx->bytes += rx->msg_size;
			if (rx->bad_in_msg)
				rx->verify_errors++;
			if (hist) {
				cb_hist_add(hist, now_ns > rx->last_send_ns ? now_ns - rx->last_send_ns : 0);
				rx->early += rx->last_send_ns < rx->window_start_ns;
			}
			/* Resynchronise on the header, so one bad message counts once. */
			rx->expect_seq = rx->last_seq + 1;
			rx->off = 0;
			rx->bad_in_msg = 0;
			done++;
		}
	}
	return done;
}

bool cb_rx_end(struct cb_rx *rx)
{
	if (!rx->off || rx->cut)
		return rx->cut;
	rx->cut = true;
	rx->verify_errors++;
	return true;
}
