/*
 * cb_peer: a misbehaving copybench peer for the hostile-input tests.
 *
 *   cb_peer client HOST PORT [--raw HEX | --random N [--seed S]]
 *                  [--magic X] [--version V] [--mode M] [--size S] [--flags F]
 *                  [--trunc N] [--reply] [--hold SEC] [--slow BPS]
 *                  [--wait-close MAXSEC] [--drip SEC] [--shut]
 *     Sends a hello (valid by default; fields overridable), or raw/random
 *     bytes, or only the first N bytes of it (--trunc), then:
 *       --shut           shuts down its sending side (the server reads EOF);
 *       --reply          reads the 16-byte reply: "reply magic=.. status=.. impl=.."
 *                        or "reply none" when the server closed first; after a
 *                        good one sends the start message (not with --no-start),
 *                        then --junk N bytes of 'A' (data a stream client never sends);
 *       --hold SEC       keeps the connection open SEC seconds without reading
 *                        (with --slow BPS: reading BPS bytes per second);
 *       --wait-close MAX waits (reading nothing) for the server to close the
 *                        connection: "closed_after_s=X", or "closed_after_s=none".
 *     Prints "held_read_bytes=N" after --hold.
 *     --drip SEC sends the bytes one at a time, SEC seconds apart, and stops
 *     when the server hangs up: "closed_after_s=X" from the first byte, or
 *     "closed_after_s=none" when everything was sent.
 *
 *   cb_peer fakeserver [--flip SEQ] [--impl I] [--cut SEQ] [--early N] [--silent] [--no-eof]
 *                      [--slow-answers N --gap SEC] [--trickle BPS]
 *                      [--rr-delay MS]
 *     Listens on 127.0.0.1, an ephemeral port ("listening port=P"), serves one
 *     stream client correctly except: message SEQ gets one payload byte
 *     flipped (--flip), or the connection is closed half-way through message
 *     SEQ (--cut), or N messages are sent before the client's start arrives
 *     (--early: protocol 1's way), or the hello is never answered (--silent),
 *     or the connection is kept open after the client's end (--no-eof).
 *     Exits after the client leaves.
 *     --slow-answers N: accepts N connections, reads their hellos, then
 *     answers them one at a time, SEC seconds apart (--gap), as a server that
 *     sets each connection up slowly would; prints "answered I at T s" for
 *     each, then reads every start, sends no message and closes each
 *     connection after the client's end.
 *     --trickle BPS: after the start, stream or rr alike, sends messages 0, 1,
 *     2, ... back to back at BPS bytes a second, a slice every 5 ms, never
 *     reading the client's requests or its end: data that keeps arriving,
 *     until the client closes.
 *     --rr-delay MS: an rr server that answers each request with its message,
 *     MS milliseconds after the request came, until the client's end.
 */
#define _GNU_SOURCE
#include "base.h"
#include "net.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) { return (double)cb_now_ns() / 1e9; }

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	fprintf(stderr, "cb_peer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return 0;                     /* not hex: a zero nibble */
}

static int client(int argc, char **argv)
{
	struct cb_hello h = { .magic = CB_MAGIC, .version = CB_VERSION, .mode = CB_STREAM,
			      .msg_size = 4096, .flags = 0 };
	unsigned char buf[65536], hello[CB_HELLO_LEN];
	const char *raw = NULL;
	long random_n = -1, trunc = -1, slow = 0, junk = 0;
	unsigned seed = 1;
	double hold = 0, wait_close = -1, drip = 0;
	bool reply = false, shut = false, no_start = false;
	size_t len;
	char err[256];
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: cb_peer client HOST PORT [options]\n");
		return 2;
	}
	for (int i = 4; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--reply")) { reply = true; continue; }
		if (!strcmp(o, "--shut")) { shut = true; continue; }
		if (!strcmp(o, "--no-start")) { no_start = true; continue; }
		if (!v) { fprintf(stderr, "cb_peer: %s needs a value\n", o); return 2; }
		i++;
		if (!strcmp(o, "--raw")) raw = v;
		else if (!strcmp(o, "--random")) random_n = strtol(v, NULL, 0);
		else if (!strcmp(o, "--seed")) seed = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--magic")) h.magic = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--version")) h.version = (uint16_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--mode")) h.mode = (uint16_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--size")) h.msg_size = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--flags")) h.flags = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--trunc")) trunc = strtol(v, NULL, 0);
		else if (!strcmp(o, "--hold")) hold = strtod(v, NULL);
		else if (!strcmp(o, "--slow")) slow = strtol(v, NULL, 0);
		else if (!strcmp(o, "--wait-close")) wait_close = strtod(v, NULL);
		else if (!strcmp(o, "--drip")) drip = strtod(v, NULL);
		else if (!strcmp(o, "--junk")) junk = strtol(v, NULL, 0);
		else { fprintf(stderr, "cb_peer: unknown option %s\n", o); return 2; }
	}
	fd = cb_connect(argv[2], (unsigned)atoi(argv[3]), 10.0, NULL, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "cb_peer: %s\n", err);
		return 1;
	}
	if (raw) {
		len = 0;
		for (const char *p = raw; p[0] && p[1] && len < sizeof(buf); p += 2)
			buf[len++] = (unsigned char)(hexval(p[0]) << 4 | hexval(p[1]));
	} else if (random_n >= 0) {
		srand(seed);
		len = (size_t)random_n < sizeof(buf) ? (size_t)random_n : sizeof(buf);
		for (size_t k = 0; k < len; k++)
			buf[k] = (unsigned char)(rand() >> 7);
	} else {
		cb_hello_encode(&h, hello);
		memcpy(buf, hello, sizeof(hello));
		len = sizeof(hello);
	}
	if (trunc >= 0 && (size_t)trunc < len)
		len = (size_t)trunc;
	if (drip > 0) {
		double start = now_s();
		struct timespec ts = { (time_t)drip, (long)((drip - (double)(time_t)drip) * 1e9) };

		for (size_t k = 0; k < len; k++) {
			char b;

			if (send(fd, buf + k, 1, MSG_NOSIGNAL) != 1 || recv(fd, &b, 1, MSG_DONTWAIT) == 0) {
				printf("closed_after_s=%.2f\n", now_s() - start);
				return 0;
			}
			nanosleep(&ts, NULL);
		}
		printf("closed_after_s=none\n");
		return 0;
	}
	if (len && cb_write_all(fd, buf, len, NULL) < 0) {
		/* A server may reset a connection that sends junk: say so, not fail. */
		printf("send_error=%s\n", strerror(errno));
	}
	if (shut)
		shutdown(fd, SHUT_WR);    /* the hello ends here: the server sees EOF at once */
	double t_sent = now_s();
	if (reply) {
		unsigned char in[CB_REPLY_LEN];
		struct cb_reply r;

		cb_set_timeout(fd, SO_RCVTIMEO, 15);
		if (cb_read_all(fd, in, sizeof(in)) < 0) {
			printf("reply none\n");
		} else {
			cb_reply_decode(in, &r);
			printf("reply magic=0x%08x version=%u status=%u impl=%u\n",
			       r.magic, r.version, r.status, r.impl);
			/* A good reply, then the start, as a client does: the server sends now. */
			if (r.status == CB_OK && !no_start) {
				unsigned char start[CB_START_LEN];

				cb_start_encode(start);
				if (cb_write_all(fd, start, sizeof(start), NULL) < 0)
					printf("send_error=%s\n", strerror(errno));
				memset(buf, 'A', (size_t)junk < sizeof(buf) ? (size_t)junk : sizeof(buf));
				if (junk > 0 && cb_write_all(fd, buf, (size_t)junk, NULL) < 0)
					printf("send_error=%s\n", strerror(errno));
			}
		}
		fflush(stdout);
	}
	if (hold > 0) {
		double end = now_s() + hold;
		uint64_t got = 0;

		while (now_s() < end) {
			if (slow > 0) {
				size_t want = (size_t)slow / 10 ? (size_t)slow / 10 : 1;
				ssize_t n = recv(fd, buf, want < sizeof(buf) ? want : sizeof(buf), MSG_DONTWAIT);

				if (n > 0)
					got += (uint64_t)n;
				else if (n == 0)
					break;
			}
			poll(NULL, 0, 100);
		}
		printf("held_read_bytes=%llu\n", (unsigned long long)got);
	}
	if (wait_close >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
		int n = poll(&p, 1, (int)(wait_close * 1000));

		if (n > 0)
			printf("closed_after_s=%.2f\n", now_s() - t_sent);
		else
			printf("closed_after_s=none\n");
	}
	fflush(stdout);
	close(fd);
	return 0;
}

/* Waits (reading and dropping anything) until the peer closes, or 30 s. */
static void until_peer_closes(int fd)
{
	char b[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, 30000) > 0 && recv(fd, b, sizeof(b), 0) > 0)
		;
}

/*
 * Message seq of size bytes, as a server sends it (flipped or cut as told), stamped
 * stamp_ns (0: now): 0 or -1.
 */
static int send_message(int fd, unsigned char *msg, uint32_t size, uint64_t seq, long flip, long cut,
			uint64_t stamp_ns)
{
	uint8_t key = cb_seq_key(seq);
	size_t len = size;

	cb_put_be64(msg, seq);
	cb_put_be64(msg + 8, stamp_ns ? stamp_ns : cb_now_ns());
	for (uint32_t k = CB_HDR_LEN; k < size; k++)
		msg[k] = cb_pattern(key, k);
	if ((long)seq == flip)
		msg[size - 1] ^= 0x01;   /* one bit of one byte */
	if ((long)seq == cut)
		len = size / 2;
	return cb_write_all(fd, msg, len, NULL);
}

/* --trickle: messages at bps bytes a second, a slice every 5 ms, until a send fails. */
static int trickle(int fd, unsigned char *msg, uint32_t size, long bps)
{
	size_t slice = (size_t)(bps / 200 > 0 ? bps / 200 : 1);

	for (uint64_t seq = 0;; seq++) {
		uint8_t key = cb_seq_key(seq);

		cb_put_be64(msg, seq);
		cb_put_be64(msg + 8, cb_now_ns());
		for (uint32_t k = CB_HDR_LEN; k < size; k++)
			msg[k] = cb_pattern(key, k);
		for (size_t off = 0; off < size; off += slice) {
			size_t n = size - off < slice ? size - off : slice;

			if (cb_write_all(fd, msg + off, n, NULL) < 0)
				return 0;
			poll(NULL, 0, 5);
		}
	}
}

/* --rr-delay: each request answered ms after it came, until the client's end. */
static void rr_delayed(int fd, unsigned char *msg, uint32_t size, long ms)
{
	unsigned char req[CB_RR_REQ_LEN];

	while (cb_read_all(fd, req, sizeof(req)) == 0) {
		poll(NULL, 0, (int)ms);
		if (send_message(fd, msg, size, cb_get_be64(req), -1, -1, 0) < 0)
			return;
	}
}

/* --slow-answers: N connections answered SEC seconds apart, then closed after their starts. */
static int slow_answers(int lfd, long n, double gap, unsigned impl)
{
	struct cb_reply r = { .magic = CB_MAGIC, .version = CB_VERSION, .status = CB_OK, .impl = (uint16_t)impl };
	unsigned char in[CB_HELLO_LEN], out[CB_REPLY_LEN], start[CB_START_LEN];
	uint64_t t0 = cb_now_ns();
	int fds[64];

	if (n < 1 || n > 64)
		die("--slow-answers: 1..64");
	for (long i = 0; i < n; i++) {
		fds[i] = accept(lfd, NULL, NULL);
		if (fds[i] < 0 || cb_read_all(fds[i], in, sizeof(in)) < 0)
			die("accept/read hello");
	}
	cb_reply_encode(&r, out);
	for (long i = 0; i < n; i++) {
		poll(NULL, 0, (int)(gap * 1000));
		if (cb_write_all(fds[i], out, sizeof(out), NULL) < 0)
			die("send reply");
		printf("answered %ld at %.1f s\n", i + 1, (double)(cb_now_ns() - t0) / 1e9);
		fflush(stdout);
	}
	for (long i = 0; i < n; i++) {
		if (cb_read_all(fds[i], start, sizeof(start)) < 0 || !cb_start_check(start))
			fprintf(stderr, "cb_peer: no start message on connection %ld\n", i + 1);
	}
	for (long i = 0; i < n; i++) {  /* no message; the client's end, then ours */
		until_peer_closes(fds[i]);
		close(fds[i]);
	}
	return 0;
}

static int fakeserver(int argc, char **argv)
{
	long flip = -1, cut = -1, early = 0, slow_n = 0, trickle_bps = 0, rr_delay = -1;
	double gap = 1;
	bool silent = false, no_eof = false;
	unsigned impl = 1, port;
	unsigned char in[CB_HELLO_LEN], out[CB_REPLY_LEN];
	struct cb_hello h;
	struct cb_reply r = { .magic = CB_MAGIC, .version = CB_VERSION };
	unsigned char *msg;
	int lfd, fd;

	for (int i = 2; i < argc; i += 2) {
		if (!strcmp(argv[i], "--silent")) { silent = true; i--; continue; }
		if (!strcmp(argv[i], "--no-eof")) { no_eof = true; i--; continue; }
		if (i + 1 >= argc) { fprintf(stderr, "cb_peer: %s needs a value\n", argv[i]); return 2; }
		if (!strcmp(argv[i], "--flip")) flip = strtol(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--early")) early = strtol(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--cut")) cut = strtol(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--impl")) impl = (unsigned)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--slow-answers")) slow_n = strtol(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--gap")) gap = strtod(argv[i + 1], NULL);
		else if (!strcmp(argv[i], "--trickle")) trickle_bps = strtol(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--rr-delay")) rr_delay = strtol(argv[i + 1], NULL, 0);
		else { fprintf(stderr, "cb_peer: unknown option %s\n", argv[i]); return 2; }
	}
	lfd = cb_listen("127.0.0.1", 0, &port);
	printf("listening port=%u\n", port);
	fflush(stdout);
	if (slow_n)
		return slow_answers(lfd, slow_n, gap, impl);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	if (silent) {                     /* never answer the hello */
		until_peer_closes(fd);
		return 0;
	}
	if (cb_read_all(fd, in, sizeof(in)) < 0)
		die("read hello");
	cb_hello_decode(in, &h);
	r.status = (uint16_t)cb_hello_check(&h);
	r.impl = (uint16_t)impl;
	cb_reply_encode(&r, out);
	/*
	 * --early's messages carry a time from before the reply: stamped when sent,
	 * they could (beside a busy loop, seen once) go out after this process was
	 * scheduled out and the client had already sent its start.
	 */
	uint64_t before_reply_ns = cb_now_ns();
	if (cb_write_all(fd, out, sizeof(out), NULL) < 0)
		die("send reply");
	if (r.status != CB_OK || (h.mode != CB_STREAM && !trickle_bps && rr_delay < 0) ||
	    (rr_delay >= 0 && h.mode != CB_RR)) {
		fprintf(stderr, "cb_peer: hello refused or not stream mode\n");
		return 1;
	}
	msg = malloc(h.msg_size);
	if (!msg)
		die("malloc");
	uint64_t seq = 0;
	/* --early: messages before the client's start, stamped before its window opens. */
	for (; (long)seq < early; seq++)
		if (send_message(fd, msg, h.msg_size, seq, flip, cut, before_reply_ns) < 0)
			die("send early");
	{
		unsigned char start[CB_START_LEN];

		if (cb_read_all(fd, start, sizeof(start)) < 0 || !cb_start_check(start)) {
			fprintf(stderr, "cb_peer: no start message\n");
			free(msg);
			return 1;
		}
	}
	if (trickle_bps || rr_delay >= 0) {
		if (trickle_bps)
			trickle(fd, msg, h.msg_size, trickle_bps);
		else
			rr_delayed(fd, msg, h.msg_size, rr_delay);
		printf("fakeserver done\n");
		close(fd);
		close(lfd);
		free(msg);
		return 0;
	}
	for (;; seq++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (send_message(fd, msg, h.msg_size, seq, flip, cut, 0) < 0)
			break;
		if ((long)seq == cut)
			break;
		if (poll(&p, 1, 0) > 0) {          /* the client shut down its side */
			char b;

			if (recv(fd, &b, 1, MSG_DONTWAIT) <= 0)
				break;
		}
	}
	printf("fakeserver done\n");
	fflush(stdout);
	/* Wait for the client to close, so it sees the data and then EOF. */
	if (no_eof)
		poll(NULL, 0, 30000);     /* the connection stays open: the client waits in vain */
	else
		shutdown(fd, SHUT_WR);
	until_peer_closes(fd);
	close(fd);
	close(lfd);
	free(msg);
	return 0;
}

int main(int argc, char **argv)
{
	cb_prog = "cb_peer";
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "fakeserver"))
		return fakeserver(argc, argv);
	fprintf(stderr, "usage: cb_peer client HOST PORT [options] | cb_peer fakeserver [--flip SEQ] [--cut SEQ] [--impl I]\n");
	return 2;
}
