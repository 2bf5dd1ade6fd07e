/*
 * libFuzzer harness for the receiver's framing, cb_rx_feed.
 *
 * Input: byte 0-1 the message size (16 + n % 2048), byte 2 flags (bit 0
 * verify, bit 1 "well-formed" mode), byte 3 the chunking seed, the rest:
 *   raw mode: the byte stream itself, fed in arbitrary chunks;
 *   well-formed mode: byte 4 the message count (1..64); the rest pairs of
 *   (message, offset) bytes naming payload bytes to flip.
 * Invariants, after every chunk: off < msg_size, bytes == messages * size,
 * verify_errors <= messages, the return values sum to messages; the result
 * does not depend on the chunking (compared with a single-chunk feed and a
 * byte-at-a-time feed); in well-formed mode every message is counted and
 * verify_errors equals the number of messages with a flipped byte (verify)
 * or 0 (no verify: payload is not looked at).
 */
#include "hist.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); abort(); } } while (0)

static void invariants(const struct cb_rx *rx, uint64_t returned)
{
	CHECK(rx->off < rx->msg_size);
	CHECK(rx->bytes == rx->messages * rx->msg_size);
	CHECK(rx->verify_errors <= rx->messages);
	CHECK(returned == rx->messages);
}

static void feed_chunked(struct cb_rx *rx, const unsigned char *buf, size_t len, uint32_t seed)
{
	uint64_t returned = 0;

	while (len) {
		size_t take;

		seed = seed * 1103515245u + 12345u;
		switch ((seed >> 16) % 4) {
		case 0: take = 1; break;
		case 1: take = (seed >> 8) % 17; break;          /* around the header */
		case 2: take = (seed >> 4) % 5000; break;
		default: take = len; break;
		}
		if (take > len)
			take = len;
		returned += cb_rx_feed(rx, buf, take, 1000, NULL);  /* 0-length chunks too */
		buf += take;
		len -= take;
		invariants(rx, returned);
	}
}

static void same(const struct cb_rx *a, const struct cb_rx *b)
{
	CHECK(a->off == b->off && a->messages == b->messages && a->bytes == b->bytes &&
	      a->verify_errors == b->verify_errors && a->expect_seq == b->expect_seq &&
	      a->bad_in_msg == b->bad_in_msg && a->last_seq == b->last_seq &&
	      a->last_send_ns == b->last_send_ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cb_rx a, b, c;
	struct cb_hist *hist;
	uint32_t msg_size;
	bool verify, wellformed;
	uint32_t seed;
	unsigned char *stream = NULL;
	size_t len;
	uint64_t nmsg = 0, flipped = 0;

	if (size < 4)
		return 0;
	msg_size = 16 + ((uint32_t)data[0] << 8 | data[1]) % 2048;
	verify = data[2] & 1;
	wellformed = data[2] & 2;
	seed = data[3];
	data += 4;
	size -= 4;
	if (wellformed) {
		unsigned char *hit;

		if (size < 1)
			return 0;
		nmsg = 1 + data[0] % 64;
		len = nmsg * msg_size;
		stream = malloc(len);
		hit = calloc(nmsg, 1);
		CHECK(stream && hit);
		for (uint64_t m = 0; m < nmsg; m++) {
			unsigned char *p = stream + m * msg_size;
			uint8_t key = cb_seq_key(m);

			cb_put_be64(p, m);
			cb_put_be64(p + 8, 12345 + m);
			for (uint32_t k = CB_HDR_LEN; k < msg_size; k++)
				p[k] = cb_pattern(key, k);
		}
		for (size_t i = 1; i + 1 < size && msg_size > CB_HDR_LEN; i += 2) {
			uint64_t m = data[i] % nmsg;
			uint32_t off = CB_HDR_LEN + (uint32_t)(data[i + 1] * 7919u) % (msg_size - CB_HDR_LEN);

			/* Assign, not XOR: two flips of one byte must not cancel out. */
			stream[m * msg_size + off] = (unsigned char)(cb_pattern(cb_seq_key(m), off) ^
								      (1 + data[i + 1] % 255));
			if (!hit[m])
				flipped++;
			hit[m] = 1;
		}
		free(hit);
	} else {
		len = size;
		stream = malloc(len ? len : 1);
		CHECK(stream);
		memcpy(stream, data, len);
	}

	cb_rx_init(&a, msg_size, verify);
	feed_chunked(&a, stream, len, seed);

	/* The same bytes in one chunk, with a histogram, and byte by byte. */
	hist = calloc(1, sizeof(*hist));
	CHECK(hist);
	cb_rx_init(&b, msg_size, verify);
	CHECK(cb_rx_feed(&b, stream, len, 1000, hist) == b.messages);
	CHECK(hist->count == b.messages);
	invariants(&b, b.messages);
	same(&a, &b);
	if (len <= 4096) {
		cb_rx_init(&c, msg_size, verify);
		for (size_t i = 0; i < len; i++)
			cb_rx_feed(&c, stream + i, 1, 1000, NULL);
		same(&a, &c);
	}
	if (wellformed) {
		CHECK(a.messages == nmsg && a.off == 0);
		CHECK(a.verify_errors == (verify ? flipped : 0));
		CHECK(a.last_seq == nmsg - 1 && a.last_send_ns == 12345 + nmsg - 1);
	}
	free(hist);
	free(stream);
	return 0;
}
