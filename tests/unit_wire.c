/*
 * Unit tests of src/wire.c: the hello and reply codecs, the payload pattern
 * against known answers, message fill/stamp and the receiver's framing and
 * verification in every chunking. Prints TAP; no timing is asserted.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "hist.h"
#include "wire.h"

/* ---- hello -------------------------------------------------------------------- */

static void test_hello(void)
{
	struct cb_hello h = { CB_MAGIC, CB_VERSION, CB_RR, 4096, CB_FLAG_VERIFY, 0 }, back;
	unsigned char buf[CB_HELLO_LEN];

	cb_hello_encode(&h, buf);
	ok(buf[0] == 0x43 && buf[1] == 0x50 && buf[2] == 0x42 && buf[3] == 0x31, "hello starts with 'CPB1'");
	ok(buf[8] == 0 && buf[9] == 0 && buf[10] == 0x10 && buf[11] == 0, "msg_size is big-endian at offset 8");
	cb_hello_decode(buf, &back);
	ok(!memcmp(&h, &back, sizeof(h)), "hello round trip");
	ok(cb_hello_check(&h) == CB_OK, "good hello accepted");
	back.magic ^= 1;
	ok(cb_hello_check(&back) == CB_BAD_MAGIC, "bad magic refused");
	back = h, back.version = 1;
	ok(cb_hello_check(&back) == CB_BAD_VERSION, "version 1 (no start message) refused");
	back = h, back.version = 3;
	ok(cb_hello_check(&back) == CB_BAD_VERSION, "version 3 refused");
	{
		unsigned char st[CB_START_LEN];

		cb_start_encode(st);
		ok(!memcmp(st, "CPBS\0\0\0\0", CB_START_LEN) && cb_start_check(st),
		   "start message: 'CPBS' and 4 zero bytes, checked");
		st[7] = 1;
		ok(!cb_start_check(st), "a start message with a non-zero reserved byte is refused");
	}
	for (unsigned st = CB_OK; st <= CB_UNAVAILABLE; st++)
		ok(strcmp(cb_status_str(st), "unknown status") != 0, "status %u has a text: %s", st,
		   cb_status_str(st));
	ok(strcmp(cb_status_str(CB_UNAVAILABLE + 1), "unknown status") == 0, "a status past the last is unknown");
	back = h, back.msg_size = CB_MIN_SIZE - 1;
	ok(cb_hello_check(&back) == CB_BAD_SIZE, "size below minimum refused");
	back = h, back.msg_size = 0xffffffffu;
	ok(cb_hello_check(&back) == CB_BAD_SIZE, "absurd size refused");
	back = h, back.mode = 7;
	ok(cb_hello_check(&back) == CB_BAD_MODE, "unknown mode refused");
	back = h, back.flags = 0x80;
	ok(cb_hello_check(&back) == CB_BAD_FLAGS, "unknown flags refused");
	back = h, back.reserved = 1ull << 63;
	ok(cb_hello_check(&back) == CB_BAD_FLAGS, "a reserved byte not 0 refused, as in the start");

	struct cb_reply r = { CB_MAGIC, CB_VERSION, CB_BAD_SIZE, 3, 0, 0 }, rb;
	unsigned char rbuf[CB_REPLY_LEN];
	cb_reply_encode(&r, rbuf);
	cb_reply_decode(rbuf, &rb);
	ok(!memcmp(&r, &rb, sizeof(r)) && rbuf[7] == CB_BAD_SIZE && rbuf[9] == 3, "reply round trip");
}

/* ---- message and receiver ----------------------------------------------------- */


/* Builds `count` messages starting at seq 0, as one stream. */
static unsigned char *make_stream(uint32_t size, unsigned count, uint64_t t)
{
	struct cb_message m;
	unsigned char *s = malloc((size_t)size * count);

	cb_msg_alloc(&m, size);
	for (unsigned i = 0; i < count; i++) {
		cb_msg_fill(&m, i);
		cb_msg_stamp(&m, i, t + i);
		unsigned char *f = flatten(&m);
		memcpy(s + (size_t)i * size, f, size);
		free(f);
	}
	cb_msg_free(&m);
	return s;
}

/*
 * Known answers for the payload pattern, computed outside this code (Python)
 * from the README's formula: byte i = key ^ (i * 0x9D) ^ (i >> 8) ^ (i >> 16)
 * (low 8 bits), key = (seq * 0x9E3779B97F4A7C15 mod 2^64) >> 56. Every other
 * test builds its expectation with cb_pattern itself, so a pattern that
 * ignored the offset (or the seq) would pass them all; not this one.
 */
static void test_pattern_known_answers(void)
{
	static const uint32_t offs[] = { 16, 17, 100, 255, 256, 257, 1000, 65535, 65536, 70000 };
	static const struct { uint64_t seq; uint8_t want[10]; } kat[] = {
		{ 0ull, { 0xd0, 0x6d, 0x54, 0x63, 0x01, 0x9c, 0x4b, 0x9c, 0x01, 0xa0 } },
		{ 1ull, { 0x4e, 0xf3, 0xca, 0xfd, 0x9f, 0x02, 0xd5, 0x02, 0x9f, 0x3e } },
		{ 7ull, { 0x83, 0x3e, 0x07, 0x30, 0x52, 0xcf, 0x18, 0xcf, 0x52, 0xf3 } },
		{ 12345ull, { 0x71, 0xcc, 0xf5, 0xc2, 0xa0, 0x3d, 0xea, 0x3d, 0xa0, 0x01 } },
		{ 1099511627779ull, { 0xf5, 0x48, 0x71, 0x46, 0x24, 0xb9, 0x6e, 0xb9, 0x24, 0x85 } },
	};
	struct cb_message m;

	cb_msg_alloc(&m, 70001);
	for (size_t k = 0; k < sizeof(kat) / sizeof(kat[0]); k++) {
		bool same = true;

		cb_msg_fill(&m, kat[k].seq);
		for (size_t j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
			uint32_t off = offs[j], base = 0;
			int f = 0;

			while (off - base >= m.len[f])       /* the field holding byte `off` */
				base += m.len[f++];
			same &= m.field[f][off - base] == kat[k].want[j];
		}
		ok(same, "payload of seq %llu matches the README formula's bytes at 10 offsets",
		   (unsigned long long)kat[k].seq);
	}
	cb_msg_free(&m);
}

static void test_message(void)
{
	static const uint32_t sizes[] = { 16, 17, 64, 100, 127, 128, 1000, 4096, 65536, 65543 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t size = sizes[k], sum = 0;
		struct cb_message m;
		bool eq = true;

		cb_msg_alloc(&m, size);
		for (int i = 0; i < CB_NFIELDS; i++) {
			sum += m.len[i];
			if (i < CB_NFIELDS - 1)
				eq &= m.len[i] == size / CB_NFIELDS;
		}
		ok(sum == size && eq && m.len[7] == size / 8 + size % 8,
		   "size %u: 8 fields of size/8, remainder in the last", size);
		cb_msg_free(&m);

		/* A stream of 5 messages fed in every chunking from 1 byte up. */
		unsigned count = 5;
		unsigned char *s = make_stream(size, count, 1000);
		size_t total = (size_t)size * count;
		static const size_t chunks[] = { 1, 3, 7, 16, 1000, 65536, 1 << 20 };
		bool all_ok = true;

		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			struct cb_rx rx;
			struct cb_hist *h = calloc(1, sizeof(*h));
			uint64_t done = 0;

			cb_rx_init(&rx, size, true);
			for (size_t off = 0; off < total; off += chunks[c]) {
				size_t n = total - off < chunks[c] ? total - off : chunks[c];
				done += cb_rx_feed(&rx, s + off, n, 2000, h);
			}
			all_ok &= done == count && rx.messages == count && rx.bytes == total &&
				  rx.verify_errors == 0 && rx.off == 0 && h->count == count &&
				  h->max == 1000 && rx.last_seq == count - 1;
			free(h);
		}
		ok(all_ok, "size %u: 5 messages verify in every chunking, latency from the header", size);

		/* One flipped payload byte (the sequence number for a header-only
		 * message; the send time cannot be checked) is one bad message. */
		struct cb_rx rx;
		s[size + (size > CB_HDR_LEN ? (size / 2 > CB_HDR_LEN ? size / 2 : CB_HDR_LEN) : 7)] ^= 0x40;
		cb_rx_init(&rx, size, true);
		cb_rx_feed(&rx, s, total, 0, NULL);
		/* A bad sequence number also makes the next one look wrong. */
		ok(rx.verify_errors == (size > CB_HDR_LEN ? 1u : 2u) && rx.messages == count,
		   "size %u: a flipped byte in message 1 is caught", size);
		free(s);
	}

	/* Without --verify only the header's sequence is checked. */
	unsigned char *s = make_stream(4096, 3, 0);
	struct cb_rx rx;
	s[4096 + 100] ^= 1;
	cb_rx_init(&rx, 4096, false);
	cb_rx_feed(&rx, s, 3 * 4096, 0, NULL);
	ok(rx.verify_errors == 0 && rx.messages == 3, "without verify the payload is not checked");
	cb_put_be64(s + 4096, 7);                 /* message 1 claims seq 7 */
	cb_rx_init(&rx, 4096, false);
	cb_rx_feed(&rx, s, 3 * 4096, 0, NULL);
	ok(rx.verify_errors == 2, "a wrong sequence number is caught (and the next one after it)");
	free(s);

	/* Payload from the wrong message is caught even with the right header. */
	s = make_stream(1024, 2, 0);
	memcpy(s + 1024 + CB_HDR_LEN, s + CB_HDR_LEN, 1024 - CB_HDR_LEN);
	cb_rx_init(&rx, 1024, true);
	cb_rx_feed(&rx, s, 2048, 0, NULL);
	ok(rx.verify_errors == 1, "a payload of another message is caught");
	free(s);
}

/* A3 fills its pool by copying its first message: every byte, every field, also the odd last one. */
static void test_copy(void)
{
	static const uint32_t sizes[] = { 16, 17, 100, 65543 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct cb_message a, b;

		cb_msg_alloc(&a, sizes[k]);
		cb_msg_alloc(&b, sizes[k]);
		cb_msg_fill(&a, 5);
		cb_msg_stamp(&a, 5, 77);
		cb_msg_copy(&b, &a);
		unsigned char *fa = flatten(&a), *fb = flatten(&b);

		ok(!memcmp(fa, fb, sizes[k]), "cb_msg_copy: %u-byte message copied whole", sizes[k]);
		free(fa);
		free(fb);
		cb_msg_free(&a);
		cb_msg_free(&b);
	}
}

int main(void)
{
	test_hello();
	test_pattern_known_answers();
	test_message();
	test_copy();
	return done_testing();
}
