/*
 * libFuzzer harness for the hello protocol: cb_hello_decode, cb_hello_check,
 * cb_status_str, the reply round trip and the start message, on arbitrary bytes.
 * Invariants: decode/encode is the identity on 24 bytes; cb_hello_check
 * agrees with the protocol's rules, in their order; the reply for the
 * status round-trips bit for bit; every status has a real description.
 * Build and run: make fuzz (tests/extra.mk), or tests/t_fuzz.sh.
 */
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); abort(); } } while (0)

static enum cb_status expected(const struct cb_hello *h)
{
	if (h->magic != 0x43504231u) return CB_BAD_MAGIC;
	if (h->version != 2) return CB_BAD_VERSION;
	if (h->msg_size < 16 || h->msg_size > 64u * 1024 * 1024) return CB_BAD_SIZE;
	if (h->mode > 1) return CB_BAD_MODE;
	if ((h->flags & ~1u) || h->reserved) return CB_BAD_FLAGS;
	return CB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char in[CB_HELLO_LEN] = { 0 }, out[CB_HELLO_LEN], rout[CB_REPLY_LEN], rin[CB_REPLY_LEN];
	struct cb_hello h, h2;
	struct cb_reply r, r2;
	enum cb_status st;
	const char *s;

	/* Short inputs are zero-padded: a truncated hello decodes to something too. */
	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	cb_hello_decode(in, &h);
	cb_hello_encode(&h, out);
	CHECK(memcmp(in, out, sizeof(in)) == 0);
	cb_hello_decode(out, &h2);
	CHECK(h.magic == h2.magic && h.version == h2.version && h.mode == h2.mode &&
	      h.msg_size == h2.msg_size && h.flags == h2.flags && h.reserved == h2.reserved);
	CHECK(h.magic == ((uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3]));
	CHECK(h.msg_size == ((uint32_t)in[8] << 24 | (uint32_t)in[9] << 16 | (uint32_t)in[10] << 8 | in[11]));

	st = cb_hello_check(&h);
	CHECK(st == expected(&h));
	s = cb_status_str(st);
	CHECK(s && *s && strcmp(s, "unknown status") != 0);
	CHECK((st == CB_OK) == !strcmp(s, "ok"));

	/* The server's reply for this hello, and the client's reading of it. */
	r = (struct cb_reply){ .magic = CB_MAGIC, .version = CB_VERSION, .status = (uint16_t)st,
			       .impl = (uint16_t)(size > CB_HELLO_LEN ? data[CB_HELLO_LEN] % 4 : 1) };
	cb_reply_encode(&r, rout);
	cb_reply_decode(rout, &r2);
	CHECK(r2.magic == CB_MAGIC && r2.version == CB_VERSION && r2.status == st &&
	      r2.impl == r.impl && r2.reserved16 == 0 && r2.reserved32 == 0);

	/* Any 16 bytes as a reply: decode/encode is the identity too. */
	memset(rin, 0, sizeof(rin));
	if (size > CB_HELLO_LEN)
		memcpy(rin, data + CB_HELLO_LEN, size - CB_HELLO_LEN < sizeof(rin) ? size - CB_HELLO_LEN : sizeof(rin));
	cb_reply_decode(rin, &r);
	cb_reply_encode(&r, rout);
	CHECK(memcmp(rin, rout, sizeof(rin)) == 0);
	s = cb_status_str(r.status);
	CHECK(s && *s);

	/* The first 8 bytes as a start message: only "CPBS" and four zero bytes pass. */
	CHECK(cb_start_check(in) == !memcmp(in, "CPBS\0\0\0\0", CB_START_LEN));
	return 0;
}
