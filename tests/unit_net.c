/*
 * Unit tests of src/net.c's pure part: advancing an iovec over the message's
 * fields after short sends. Prints TAP.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "net.h"
#include "wire.h"

/* ---- iovec advance ------------------------------------------------------------ */

static void test_iov(void)
{
	struct cb_message m;
	bool all_ok = true;

	cb_msg_alloc(&m, 1003);
	cb_msg_fill(&m, 9);
	cb_msg_stamp(&m, 9, 1);
	unsigned char *flat = flatten(&m);

	/* Advance by every split point, in one or two steps; what is left must be
	 * exactly the tail of the message. */
	for (size_t a = 0; a <= m.size; a++) {
		for (size_t b = a; b <= m.size; b += 97) {
			struct iovec iov[CB_NFIELDS], *v = iov;
			int cnt = CB_NFIELDS;
			size_t left;

			cb_msg_iov(&m, iov);
			cb_iov_advance(&v, &cnt, a);
			left = cb_iov_advance(&v, &cnt, b - a);
			size_t pos = b;
			for (int i = 0; i < cnt; i++) {
				all_ok &= !memcmp(v[i].iov_base, flat + pos, v[i].iov_len);
				pos += v[i].iov_len;
			}
			all_ok &= left == m.size - b && pos == m.size;
			all_ok &= (b == m.size) == (cnt == 0);
			for (int i = 0; i < cnt; i++)
				all_ok &= v[i].iov_len > 0;
		}
	}
	ok(all_ok, "iov advance: every split point leaves exactly the tail, no empty entries");
	free(flat);
	cb_msg_free(&m);
}

int main(void)
{
	test_iov();
	return done_testing();
}
