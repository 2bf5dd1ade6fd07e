/*
 * Unit tests of src/msgs.c (a connection's footprint: N messages, round
 * robin) and of cb_msg_cost, what the memory budget is charged per message.
 * Prints TAP.
 */
#include "unit.h"

#include "msgs.h"

static void test_cost(void)
{
	uint64_t small = cb_msg_cost(16), k16 = cb_msg_cost(16384), odd = cb_msg_cost(1001);

	/* glibc chunks: 8-byte header, 16-byte granules, 32 bytes at least. */
	ok(small == sizeof(struct cb_message) + 8 * 32, "16 B message: struct + 8 minimum chunks (%llu)",
	   (unsigned long long)small);
	ok(k16 == sizeof(struct cb_message) + 8 * 2064, "16 KiB message: struct + 8 chunks of 2064 (%llu)",
	   (unsigned long long)k16);
	/* 1001 = 7 x 125 + 126: chunks of 144 (125 + 8 rounded up) and 144 (126 + 8). */
	ok(odd == sizeof(struct cb_message) + 8 * 144, "1001 B message, remainder in the last field (%llu)",
	   (unsigned long long)odd);
	ok(cb_msg_cost(CB_MAX_SIZE) >= CB_MAX_SIZE, "the cost is never below the payload");
}

static void test_round_robin(void)
{
	struct cb_msgs s;
	const unsigned n = 5;
	bool distinct = true, same_bytes = true, order = true;

	ok(cb_msgs_alloc(&s, 1003, n) == 0 && s.n == n && s.cap == n && s.size == 1003,
	   "cb_msgs_alloc: 5 messages of 1003 B");
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < i; j++)
			for (int f = 0; f < CB_NFIELDS; f++)
				distinct &= s.msg[i].field[f] != s.msg[j].field[f];
	ok(distinct, "every field of every message is its own allocation");
	unsigned char *first = flatten(&s.msg[0]);
	for (unsigned i = 1; i < n; i++) {
		unsigned char *b = flatten(&s.msg[i]);

		same_bytes &= !memcmp(b, first, 1003);
		free(b);
	}
	bool pattern = true;
	for (uint32_t off = CB_HDR_LEN; off < 1003; off++)
		pattern &= first[off] == cb_pattern(cb_seq_key(0), off);
	free(first);
	ok(pattern && same_bytes, "each holds the payload pattern of seq 0 (the first filled, the rest copied)");
	/* Round robin: 0 1 2 3 4 0 1 ... for three turns. */
	for (unsigned k = 0; k < 3 * n; k++)
		order &= cb_msgs_next(&s) == &s.msg[k % n];
	ok(order, "cb_msgs_next: round robin, each again only after all the others");
	ok(!cb_msgs_add(&s), "cb_msgs_add refuses past cap");
	cb_msgs_free(&s);
	ok(s.msg == NULL && s.n == 0, "cb_msgs_free leaves nothing behind");

	ok(cb_msgs_alloc(&s, 64, 1) == 0, "one message (the default footprint)");
	ok(cb_msgs_next(&s) == &s.msg[0] && cb_msgs_next(&s) == &s.msg[0], "one message is sent again and again");
	cb_msgs_free(&s);

	/* A pool that grows (A3): room for cap, messages added one by one. */
	ok(cb_msgs_init(&s, 4096, 3) == 0 && s.n == 0, "cb_msgs_init: room, nothing allocated");
	ok(cb_msgs_add(&s) && cb_msgs_add(&s) && s.n == 2 && !memcmp(s.msg[0].field[3], s.msg[1].field[3], 512),
	   "cb_msgs_add: the second copied from the first");
	cb_msgs_free(&s);
}

int main(void)
{
	test_cost();
	test_round_robin();
	return done_testing();
}
