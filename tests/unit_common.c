/*
 * Unit tests of the shared module's pure parts: option and number parsing,
 * the hello, message fill/stamp and the receiver's framing and verification,
 * iovec advance after short sends, zero-copy completion-range accounting and
 * the latency histogram. Prints TAP; no timing is asserted anywhere.
 */
#define _GNU_SOURCE
#include "common.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int n_tests, n_failed;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	n_failed += !cond;
}

/* ---- running a parser in a child: exit code and stderr ------------------- */

struct outcome { int code; char err[512]; bool exited; };

static struct outcome run_child(void (*fn)(int, char **), char **argv)
{
	struct outcome o = { 0 };
	int argc = 0, p[2];
	pid_t pid;

	while (argv[argc])
		argc++;
	if (pipe(p) < 0)
		abort();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		if (!freopen("/dev/null", "w", stdout))
			_exit(99);
		fn(argc, argv);
		_exit(0);
	}
	close(p[1]);
	ssize_t n, got = 0;
	while ((n = read(p[0], o.err + got, sizeof(o.err) - 1 - (size_t)got)) > 0)
		got += n;
	o.err[got] = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	o.exited = WIFEXITED(st);
	o.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return o;
}

static struct cb_client_opts copts;
static struct cb_server_opts sopts;
static void parse_client(int argc, char **argv) { optind = 0; cb_client_parse(argc, argv, "A2", &copts); }
static void parse_server(int argc, char **argv) { optind = 0; cb_server_parse(argc, argv, "A2", &sopts); }

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void expect_usage_error(void (*fn)(int, char **), char **argv, const char *names, const char *what)
{
	struct outcome o = run_child(fn, argv);

	ok(o.exited && o.code == 2 && count_lines(o.err) == 1 && strstr(o.err, names),
	   "%s: exit 2, one line naming %s (got %d: %.*s)", what, names, o.code,
	   (int)strcspn(o.err, "\n"), o.err);
}

static void test_options(void)
{
	char *a1[] = { "A2_client", "-H", "h", NULL };
	optind = 0;
	cb_client_parse(3, a1, "A2", &copts);
	ok(copts.port == CB_DEFAULT_PORT && copts.size == CB_DEFAULT_SIZE && copts.threads == 1 &&
	   copts.duration == CB_DEFAULT_DURATION && copts.mode == CB_STREAM && !copts.verify &&
	   copts.interval == 0 && copts.rcvlowat == CB_DEFAULT_RCVLOWAT, "client defaults");

	char *a2[] = { "A2_client", "--host", "x", "-p", "9", "-s", "64K", "-t", "8", "-d", "0.5",
		       "-m", "rr", "-i", "1", "--verify", NULL };
	optind = 0;
	cb_client_parse(16, a2, "A2", &copts);
	ok(!strcmp(copts.host, "x") && copts.port == 9 && copts.size == 65536 && copts.threads == 8 &&
	   copts.duration == 0.5 && copts.mode == CB_RR && copts.interval == 1 && copts.verify,
	   "client options all set, 64K suffix");

	char *lw[] = { "A2_client", "-H", "x", "--rcvlowat", "0", NULL };
	optind = 0;
	cb_client_parse(5, lw, "A2", &copts);
	ok(copts.rcvlowat == 0, "--rcvlowat 0 turns the low-water mark off");
	char *lw2[] = { "A2_client", "-H", "x", "--rcvlowat=128K", NULL };
	optind = 0;
	cb_client_parse(4, lw2, "A2", &copts);
	ok(copts.rcvlowat == 131072, "--rcvlowat=128K");

	char *a3[] = { "A2_server", "-p", "0", "-n", "4", "-b", "127.0.0.1", "-q", NULL };
	optind = 0;
	cb_server_parse(8, a3, "A2", &sopts);
	ok(sopts.port == 0 && sopts.clients == 4 && !strcmp(sopts.bind_addr, "127.0.0.1") && sopts.quiet,
	   "server options");

	struct { char *argv[8]; const char *names; } bad[] = {
		{ { "c", NULL }, "-H/--host" },
		{ { "c", "-H", "", NULL }, "-H/--host" },
		{ { "c", "-H", "h", "-s", "15", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-s", "65M", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-s", "12x", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-s", "99999999999999999999", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-s", "-1", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-t", "0", NULL }, "-t/--threads" },
		{ { "c", "-H", "h", "-t", "1025", NULL }, "-t/--threads" },
		{ { "c", "-H", "h", "-t", "", NULL }, "-t/--threads" },
		{ { "c", "-H", "h", "-t", " 5", NULL }, "-t/--threads" },
		{ { "c", "-H", "h", "-d", " 1", NULL }, "-d/--duration" },
		{ { "c", "-H", "h", "-s", "\t64K", NULL }, "-s/--size" },
		{ { "c", "-H", "h", "-d", "0", NULL }, "-d/--duration" },
		{ { "c", "-H", "h", "-d", "nan", NULL }, "-d/--duration" },
		{ { "c", "-H", "h", "-d", "1e999", NULL }, "-d/--duration" },
		{ { "c", "-H", "h", "-p", "0", NULL }, "-p/--port" },
		{ { "c", "-H", "h", "-p", "65536", NULL }, "-p/--port" },
		{ { "c", "-H", "h", "-m", "bulk", NULL }, "-m/--mode" },
		{ { "c", "-H", "h", "--rcvlowat", "-1", NULL }, "--rcvlowat" },
		{ { "c", "-H", "h", "--rcvlowat", "17M", NULL }, "--rcvlowat" },
		{ { "c", "-H", "h", "--rcvlowat", "lots", NULL }, "--rcvlowat" },
		{ { "c", "-H", "h", "-i", "0.001", NULL }, "-i/--interval" },
		{ { "c", "-H", "h", "--bogus", NULL }, "--bogus" },
		{ { "c", "-H", "h", "-z", NULL }, "-z" },
		{ { "c", "-H", "h", "-s", NULL }, "-s" },
		{ { "c", "-H", "h", "extra", NULL }, "extra" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_usage_error(parse_client, bad[i].argv, bad[i].names, "client bad option");

	struct { char *argv[6]; const char *names; } sbad[] = {
		{ { "s", "-p", "-1", NULL }, "-p/--port" },
		{ { "s", "-p", "http", NULL }, "-p/--port" },
		{ { "s", "-n", "0", NULL }, "-n/--clients" },
		{ { "s", "-n", "1x", NULL }, "-n/--clients" },
		{ { "s", "-b", "", NULL }, "-b/--bind" },
		{ { "s", "--clients", NULL }, "--clients" },
	};
	for (size_t i = 0; i < sizeof(sbad) / sizeof(sbad[0]); i++)
		expect_usage_error(parse_server, sbad[i].argv, sbad[i].names, "server bad option");

	char *help[] = { "c", "--help", NULL };
	struct outcome o = run_child(parse_client, help);
	ok(o.exited && o.code == 0 && !o.err[0], "--help exits 0, nothing on stderr");
}

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
	back = h, back.version = 2;
	ok(cb_hello_check(&back) == CB_BAD_VERSION, "bad version refused");
	back = h, back.msg_size = CB_MIN_SIZE - 1;
	ok(cb_hello_check(&back) == CB_BAD_SIZE, "size below minimum refused");
	back = h, back.msg_size = 0xffffffffu;
	ok(cb_hello_check(&back) == CB_BAD_SIZE, "absurd size refused");
	back = h, back.mode = 7;
	ok(cb_hello_check(&back) == CB_BAD_MODE, "unknown mode refused");
	back = h, back.flags = 0x80;
	ok(cb_hello_check(&back) == CB_BAD_FLAGS, "unknown flags refused");

	struct cb_reply r = { CB_MAGIC, CB_VERSION, CB_BAD_SIZE, 3, 0, 0 }, rb;
	unsigned char rbuf[CB_REPLY_LEN];
	cb_reply_encode(&r, rbuf);
	cb_reply_decode(rbuf, &rb);
	ok(!memcmp(&r, &rb, sizeof(r)) && rbuf[7] == CB_BAD_SIZE && rbuf[9] == 3, "reply round trip");
}

/* ---- message and receiver ----------------------------------------------------- */

/* The message's bytes in order, as the wire carries them. */
static unsigned char *flatten(const struct cb_message *m)
{
	unsigned char *f = malloc(m->size), *p = f;

	for (int i = 0; i < CB_NFIELDS; i++) {
		memcpy(p, m->field[i], m->len[i]);
		p += m->len[i];
	}
	return f;
}

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

/* ---- zero-copy completion ranges ---------------------------------------------- */

static void test_zc(void)
{
	struct cb_zc *z = malloc(sizeof(*z));

	cb_zc_init(z);
	z->next = 10;                            /* ids 0..9 sent */
	ok(cb_zc_inflight(z) == 10 && !cb_zc_is_done(z, 0), "10 in flight, none done");
	cb_zc_complete(z, 0, 3, true);
	ok(z->completions == 4 && z->copied == 4 && z->low == 4 && cb_zc_is_done(z, 3) &&
	   !cb_zc_is_done(z, 4), "range 0-3 counts hi - lo + 1 = 4");
	cb_zc_complete(z, 6, 9, false);          /* out of order: a hole at 4-5 */
	ok(z->completions == 8 && z->low == 4 && !cb_zc_is_done(z, 9),
	   "out-of-order range counted, but ids after a hole are not released");
	cb_zc_complete(z, 4, 5, false);
	ok(z->completions == 10 && z->low == 10 && cb_zc_is_done(z, 9) && cb_zc_inflight(z) == 0,
	   "hole filled: everything released");
	ok(z->copied == 4 && z->notifications == 3, "copied counts only flagged ranges");
	cb_zc_complete(z, 8, 8, false);
	ok(z->bogus == 1 && z->completions == 10, "a repeated id is bogus, not counted");
	cb_zc_complete(z, 10, 10, false);
	ok(z->bogus == 2, "an id never sent is bogus");

	/* 32-bit wrap-around. */
	cb_zc_init(z);
	z->low = 0xfffffffeu;
	z->next = 3;                             /* ids ..fe, ..ff, 0, 1, 2 in flight */
	ok(cb_zc_inflight(z) == 5, "in flight across the wrap");
	cb_zc_complete(z, 0xfffffffeu, 1, false);
	ok(z->completions == 4 && z->low == 2 && cb_zc_is_done(z, 0xffffffffu) && cb_zc_is_done(z, 1) &&
	   !cb_zc_is_done(z, 2), "a range across the wrap counts 4");
	cb_zc_complete(z, 5, 2, false);          /* hi < lo without a wrap of the sent ids */
	ok(z->bogus > 0 && z->completions == 4, "a reversed range is rejected");
	free(z);
}

/* ---- histogram ---------------------------------------------------------------- */

static void test_hist(void)
{
	struct cb_hist *h = calloc(1, sizeof(*h)), *h2 = calloc(1, sizeof(*h2));
	bool mono = true;

	for (uint64_t v = 1; v <= 100000; v++)
		cb_hist_add(h, v * 10);          /* 10 ns .. 1 ms, uniform */
	uint64_t p50 = cb_hist_quantile(h, 0.5), p99 = cb_hist_quantile(h, 0.99);
	ok(p50 > 500000 * 0.984 && p50 < 500000 * 1.016, "p50 of uniform 10ns..1ms within 1.6%% (%llu)",
	   (unsigned long long)p50);
	ok(p99 > 990000 * 0.984 && p99 < 990000 * 1.016, "p99 within 1.6%% (%llu)", (unsigned long long)p99);
	ok(h->max == 1000000 && cb_hist_quantile(h, 1.0) == 1000000, "max exact, p100 = max");
	for (uint64_t v = 0; v < 200; v++)
		mono &= cb_hist_index(v) < CB_HIST_BUCKETS && (v < 128 ? cb_hist_index(v) == v : true);
	for (uint64_t v = 1; v < (1ull << 62); v = v * 3 + 1)
		mono &= cb_hist_index(v) <= cb_hist_index(v * 3 + 1) && cb_hist_index(v) < CB_HIST_BUCKETS;
	mono &= cb_hist_index(UINT64_MAX) < CB_HIST_BUCKETS;
	ok(mono, "bucket index exact below 128, monotonic, in range up to UINT64_MAX");
	cb_hist_add(h2, 5);
	cb_hist_add(h2, 7);
	ok(cb_hist_quantile(h2, 0.5) == 5 && cb_hist_quantile(h2, 0.99) == 7, "small values exact");
	cb_hist_merge(h2, h);
	ok(h2->count == 100002 && h2->max == 1000000, "merge adds counts, keeps max");
	struct cb_hist *empty = calloc(1, sizeof(*empty));
	ok(cb_hist_quantile(empty, 0.5) == 0, "empty histogram gives 0");
	free(h), free(h2), free(empty);
}

int main(void)
{
	test_options();
	test_hello();
	test_message();
	test_iov();
	test_zc();
	test_hist();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
