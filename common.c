/* copybench shared module: see common.h for what lives here and why. */
#define _GNU_SOURCE
#include "common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *cb_prog = "copybench";

/* ---- errors ----------------------------------------------------------- */

static void vmsg(const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write, so lines from several threads never interleave. */
	fprintf(stderr, "%s: %s\n", cb_prog, line);
}

void cb_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(2);
}

void cb_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

void cb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

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
	if (h->flags & ~CB_FLAG_VERIFY)
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
	case CB_BAD_FLAGS: return "unknown flags";
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

/* ---- number parsing ----------------------------------------------------- */

long long cb_parse_ll(const char *opt, const char *arg, long long lo, long long hi)
{
	char *end;
	long long v;

	if (!arg || !*arg)
		cb_usage_error("option %s: missing value", opt);
	if (isspace((unsigned char)*arg))   /* strtoll would skip it silently */
		cb_usage_error("option %s: '%s' is not a number", opt, arg);
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (end == arg || *end)
		cb_usage_error("option %s: '%s' is not a whole number", opt, arg);
	if (errno == ERANGE || v < lo || v > hi)
		cb_usage_error("option %s: %s is out of range [%lld, %lld]", opt, arg, lo, hi);
	return v;
}

long long cb_parse_size(const char *opt, const char *arg, long long lo, long long hi)
{
	char *end;
	long long v;
	int shift = 0;

	if (!arg || !*arg)
		cb_usage_error("option %s: missing value", opt);
	if (isspace((unsigned char)*arg))   /* strtoll would skip it silently */
		cb_usage_error("option %s: '%s' is not a number", opt, arg);
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (end != arg && (*end == 'K' || *end == 'k'))
		shift = 10, end++;
	else if (end != arg && (*end == 'M' || *end == 'm'))
		shift = 20, end++;
	if (end == arg || *end)
		cb_usage_error("option %s: '%s' is not a size (bytes, or with K or M)", opt, arg);
	if (errno == ERANGE || v < 0 || v > (LLONG_MAX >> shift) || (v << shift) < lo || (v << shift) > hi)
		cb_usage_error("option %s: %s is out of range [%lld, %lld] bytes", opt, arg, lo, hi);
	return v << shift;
}

double cb_parse_double(const char *opt, const char *arg, double lo, double hi)
{
	char *end;
	double v;

	if (!arg || !*arg)
		cb_usage_error("option %s: missing value", opt);
	if (isspace((unsigned char)*arg))   /* strtoll would skip it silently */
		cb_usage_error("option %s: '%s' is not a number", opt, arg);
	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end || isnan(v))
		cb_usage_error("option %s: '%s' is not a number", opt, arg);
	if (errno == ERANGE || v < lo || v > hi)
		cb_usage_error("option %s: %s is out of range [%g, %g]", opt, arg, lo, hi);
	return v;
}

/*
 * getopt_long reports unknown options and missing values itself, in its own
 * words; we silence it (opterr = 0) and say it once, our way, with exit 2.
 */
static void bad_option(int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		cb_usage_error("option %s: missing value", arg);
	/* "--quiet=1": a known long option given a value; optopt is its short name. */
	if (optopt && !strncmp(arg, "--", 2))
		cb_usage_error("option %.*s takes no value (see --help)", (int)strcspn(arg, "="), arg);
	if (optopt)
		cb_usage_error("unknown option '-%c' (see --help)", optopt);
	cb_usage_error("unknown option '%s' (see --help)", arg);
}

void cb_server_parse(int argc, char **argv, const char *impl, struct cb_server_opts *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, 0, 'p' },
		{ "bind", required_argument, 0, 'b' },
		{ "clients", required_argument, 0, 'n' },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *port = NULL, *clients = NULL;
	int c;

	o->bind_addr = "0.0.0.0";
	o->port = CB_DEFAULT_PORT;
	o->clients = 0;
	o->quiet = false;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:b:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': port = optarg; break;
		case 'b': o->bind_addr = optarg; break;
		case 'n': clients = optarg; break;
		case 'q': o->quiet = true; break;
		case 'h':
			printf("usage: %s [-p PORT] [-b ADDR] [-n N] [-q]\n"
			       "%s server: sends messages to every client that connects, one thread per connection.\n"
			       "  -p, --port PORT     TCP port to listen on; 0 picks a free one (default %d)\n"
			       "  -b, --bind ADDR     local address to bind (default 0.0.0.0)\n"
			       "  -n, --clients N     exit after N connections have come and gone (default: serve until SIGINT/SIGTERM)\n"
			       "  -q, --quiet         no per-connection log lines on stderr\n"
			       "  -h, --help          this help\n"
			       "First stdout line: 'listening addr=A port=P'; last: the 'result ...' summary.\n",
			       argv[0], impl, CB_DEFAULT_PORT);
			exit(0);
		default:
			bad_option(c, argv);
		}
	}
	if (optind < argc)
		cb_usage_error("unexpected argument '%s' (see --help)", argv[optind]);
	if (port)
		o->port = (unsigned)cb_parse_ll("-p/--port", port, 0, 65535);
	if (clients)
		o->clients = (long)cb_parse_ll("-n/--clients", clients, 1, CB_MAX_CLIENTS_ARG);
	if (!*o->bind_addr)
		cb_usage_error("option -b/--bind: missing value");
}

void cb_client_parse(int argc, char **argv, const char *impl, struct cb_client_opts *o)
{
	static const struct option longopts[] = {
		{ "host", required_argument, 0, 'H' },
		{ "port", required_argument, 0, 'p' },
		{ "size", required_argument, 0, 's' },
		{ "threads", required_argument, 0, 't' },
		{ "duration", required_argument, 0, 'd' },
		{ "mode", required_argument, 0, 'm' },
		{ "interval", required_argument, 0, 'i' },
		{ "verify", no_argument, 0, 'V' },
		{ "rcvlowat", required_argument, 0, 'L' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *port = NULL, *size = NULL, *threads = NULL, *duration = NULL;
	const char *mode = NULL, *interval = NULL, *rcvlowat = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->port = CB_DEFAULT_PORT;
	o->size = CB_DEFAULT_SIZE;
	o->threads = CB_DEFAULT_THREADS;
	o->duration = CB_DEFAULT_DURATION;
	o->mode = CB_STREAM;
	o->rcvlowat = CB_DEFAULT_RCVLOWAT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":H:p:s:t:d:m:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': o->host = optarg; break;
		case 'p': port = optarg; break;
		case 's': size = optarg; break;
		case 't': threads = optarg; break;
		case 'd': duration = optarg; break;
		case 'm': mode = optarg; break;
		case 'i': interval = optarg; break;
		case 'V': o->verify = true; break;
		case 'L': rcvlowat = optarg; break;
		case 'h':
			printf("usage: %s -H HOST [-p PORT] [-s SIZE] [-t THREADS] [-d SECONDS] [-m stream|rr] [-i SECONDS] [--verify]\n"
			       "%s client: opens THREADS connections to a %s server and receives, one thread per connection.\n"
			       "  -H, --host HOST       server name or address (required)\n"
			       "  -p, --port PORT       server port (default %d)\n"
			       "  -s, --size SIZE       message size in bytes, K and M suffixes allowed, %d..%u (default %d)\n"
			       "  -t, --threads N       connections, one thread each, 1..%d (default %d)\n"
			       "  -d, --duration SEC    measured window in seconds (default %g)\n"
			       "  -m, --mode MODE       stream: the server sends back to back; rr: request/response,\n"
			       "                        one message per 16-byte request, round trip timed (default stream)\n"
			       "  -i, --interval SEC    print a live line every SEC seconds (default 0: off)\n"
			       "      --verify          check every byte of every message (slower; a correctness mode)\n"
			       "      --rcvlowat BYTES  stream: let TCP wake the receiver only once BYTES are queued\n"
			       "                        (SO_RCVLOWAT): fewer wake-ups for the sender to pay, but it\n"
			       "                        can stall small-segment paths; K/M suffixes (default %u: off)\n"
			       "  -h, --help            this help\n"
			       "Last stdout line: the 'result ...' line; fields are defined in README.md.\n"
			       "Exit: 0 ok, 1 runtime error (partial result still printed), 2 usage error.\n",
			       argv[0], impl, impl, CB_DEFAULT_PORT, CB_MIN_SIZE, CB_MAX_SIZE, CB_DEFAULT_SIZE,
			       CB_MAX_THREADS, CB_DEFAULT_THREADS, CB_DEFAULT_DURATION, CB_DEFAULT_RCVLOWAT);
			exit(0);
		default:
			bad_option(c, argv);
		}
	}
	if (optind < argc)
		cb_usage_error("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->host)
		cb_usage_error("option -H/--host is required (the server's address)");
	if (!*o->host)
		cb_usage_error("option -H/--host: missing value");
	if (port)
		o->port = (unsigned)cb_parse_ll("-p/--port", port, 1, 65535);
	if (size)
		o->size = (unsigned)cb_parse_size("-s/--size", size, CB_MIN_SIZE, CB_MAX_SIZE);
	if (threads)
		o->threads = (unsigned)cb_parse_ll("-t/--threads", threads, 1, CB_MAX_THREADS);
	if (duration)
		o->duration = cb_parse_double("-d/--duration", duration, 0.01, 86400);
	if (interval) {
		o->interval = cb_parse_double("-i/--interval", interval, 0, 3600);
		if (o->interval > 0 && o->interval < 0.01)
			cb_usage_error("option -i/--interval: %s is out of range (0 for off, or 0.01..3600)", interval);
	}
	if (rcvlowat)
		o->rcvlowat = (unsigned)cb_parse_size("--rcvlowat", rcvlowat, 0, 16u << 20);
	if (mode) {
		if (!strcmp(mode, "stream"))
			o->mode = CB_STREAM;
		else if (!strcmp(mode, "rr"))
			o->mode = CB_RR;
		else
			cb_usage_error("option -m/--mode: '%s' is not stream or rr", mode);
	}
}

/* ---- time and CPU ------------------------------------------------------------ */

uint64_t cb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double cb_cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- the message ---------------------------------------------------------- */

void cb_msg_alloc(struct cb_message *m, uint32_t size)
{
	uint32_t each = size / CB_NFIELDS;

	m->size = size;
	for (int i = 0; i < CB_NFIELDS; i++) {
		m->len[i] = each + (i == CB_NFIELDS - 1 ? size % CB_NFIELDS : 0);
		m->field[i] = malloc(m->len[i] ? m->len[i] : 1);
		if (!m->field[i])
			cb_die("malloc %u bytes: %s", m->len[i], strerror(errno));
		memset(m->field[i], 0, m->len[i]);
	}
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

void cb_msg_prepare(struct cb_message *m, uint64_t seq, bool fill)
{
	if (fill)
		cb_msg_fill(m, seq);
	cb_msg_stamp(m, seq, cb_now_ns());
}

void cb_msg_iov(const struct cb_message *m, struct iovec iov[CB_NFIELDS])
{
	for (int i = 0; i < CB_NFIELDS; i++) {
		iov[i].iov_base = m->field[i];
		iov[i].iov_len = m->len[i];
	}
}

size_t cb_iov_advance(struct iovec **iov, int *iovcnt, size_t done)
{
	size_t left = 0;

	while (*iovcnt > 0 && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*iovcnt)--;
	}
	if (*iovcnt > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
	for (int i = 0; i < *iovcnt; i++)
		left += (*iov)[i].iov_len;
	return left;
}

/* ---- histogram ---------------------------------------------------------------- */

void cb_hist_merge(struct cb_hist *into, const struct cb_hist *from)
{
	for (unsigned i = 0; i < CB_HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t cb_hist_quantile(const struct cb_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	/* The smallest value with at least ceil(q * count) samples at or below it. */
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < CB_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t lo, width, mid;

			if (i < (2u << CB_HIST_SUB_BITS))
				return i;
			unsigned shift = (i >> CB_HIST_SUB_BITS) - 1;
			lo = (uint64_t)(i - (shift << CB_HIST_SUB_BITS)) << shift;
			width = 1ull << shift;
			mid = lo + width / 2;
			return mid < h->max ? mid : h->max;
		}
	}
	return h->max;
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
			if (hist)
				cb_hist_add(hist, now_ns > rx->last_send_ns ? now_ns - rx->last_send_ns : 0);
			/* Resynchronise on the header, so one bad message counts once. */
			rx->expect_seq = rx->last_seq + 1;
			rx->off = 0;
			rx->bad_in_msg = 0;
			done++;
		}
	}
	return done;
}

/* ---- sockets ----------------------------------------------------------------- */

int cb_listen(const char *addr, unsigned port, unsigned *bound_port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char portstr[16];
	int fd = -1, err, one = 1, saved = 0;

	snprintf(portstr, sizeof(portstr), "%u", port);
	err = getaddrinfo(addr, portstr, &hints, &res);
	if (err)
		cb_die("cannot resolve bind address '%s': %s", addr, gai_strerror(err));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		cb_die("bind %s port %u: %s", addr, port, strerror(saved));
	if (bound_port) {
		union { struct sockaddr sa; struct sockaddr_in in; struct sockaddr_in6 in6; } a = { 0 };
		socklen_t sl = sizeof(a);

		if (getsockname(fd, &a.sa, &sl) < 0)
			cb_die("getsockname: %s", strerror(errno));
		*bound_port = ntohs(a.sa.sa_family == AF_INET6 ? a.in6.sin6_port : a.in.sin_port);
	}
	return fd;
}

int cb_connect(const char *host, unsigned port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char portstr[16];
	int fd = -1, rc, saved = 0;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve host '%s': %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		while ((rc = connect(fd, ai->ai_addr, ai->ai_addrlen)) < 0 && errno == EINTR)
			;
		if (rc == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "connect %s port %u: %s", host, port, strerror(saved));
	return fd;
}

int cb_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	unsigned nobufs = 0;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS && cb_wait_nobufs(&nobufs) == 0)
				continue;
			return -1;
		}
		nobufs = 0;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cb_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n == 0) {
			errno = 0;         /* EOF */
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cb_read_all_within(int fd, void *buf, size_t len, double seconds)
{
	uint64_t deadline = cb_now_ns() + (uint64_t)(seconds * 1e9);
	char *p = buf;
	int rc = 0;

	while (len) {
		uint64_t now = cb_now_ns();
		ssize_t n;

		if (now >= deadline) {
			errno = EAGAIN;
			rc = -1;
			break;
		}
		cb_set_timeout(fd, SO_RCVTIMEO, (double)(deadline - now) / 1e9 + 1e-6);
		n = recv(fd, p, len, 0);
		if (n == 0) {
			errno = 0;         /* EOF */
			rc = -1;
			break;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;  /* the deadline check decides */
			rc = -1;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	int saved = errno;
	cb_set_timeout(fd, SO_RCVTIMEO, 0);
	errno = saved;
	return rc;
}

int cb_sendmsg_all(int fd, struct iovec **iov, int *iovcnt, int flags, uint32_t *calls)
{
	unsigned nobufs = 0;

	while (*iovcnt > 0) {
		struct msghdr mh = { .msg_iov = *iov, .msg_iovlen = (size_t)*iovcnt };
		ssize_t n = sendmsg(fd, &mh, flags | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/*
			 * A plain send can hit ENOBUFS under memory pressure: wait
			 * a moment and retry. A zero-copy send's ENOBUFS means its
			 * notification memory (optmem) is full: only the caller
			 * can drain that, so it gets the error.
			 */
			if (errno == ENOBUFS && !(flags & MSG_ZEROCOPY) && cb_wait_nobufs(&nobufs) == 0)
				continue;
			return -1;
		}
		nobufs = 0;
		if (calls)
			(*calls)++;
		cb_iov_advance(iov, iovcnt, (size_t)n);
	}
	return 0;
}

int cb_wait_nobufs(unsigned *streak)
{
	/* Memory pressure passes in milliseconds; give up after a second of it. */
	struct timespec ts = { 0, 1000000 };

	if (++*streak > 1000) {
		errno = ENOBUFS;
		return -1;
	}
	nanosleep(&ts, NULL);
	return 0;
}

void cb_set_timeout(int fd, int which, double seconds)
{
	struct timeval tv = { .tv_sec = (time_t)seconds,
			      .tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6) };

	setsockopt(fd, SOL_SOCKET, which, &tv, sizeof(tv));
}

const char *cb_peer_str(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
			    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, len, "%s:%s", host, port);
	return buf;
}

/* ---- zero-copy completion tracking --------------------------------------------- */

void cb_zc_init(struct cb_zc *z)
{
	memset(z, 0, sizeof(*z));
}

void cb_zc_complete(struct cb_zc *z, uint32_t lo, uint32_t hi, bool copied)
{
	uint32_t span = hi - lo + 1;   /* ranges are inclusive; 32-bit ids wrap */

	z->notifications++;
	if (span == 0 || span > CB_ZC_RING) {
		z->bogus += span ? span : 1;
		return;
	}
	for (uint32_t k = 0; k < span; k++) {
		uint32_t id = lo + k;

		if (id - z->low >= z->next - z->low || z->done[id % CB_ZC_RING]) {
			z->bogus++;     /* not in flight, or reported twice */
			continue;
		}
		z->done[id % CB_ZC_RING] = 1;
		z->completions++;
		z->copied += copied;
	}
	while (z->low != z->next && z->done[z->low % CB_ZC_RING]) {
		z->done[z->low % CB_ZC_RING] = 0;
		z->low++;
	}
}

/* ---- result lines ---------------------------------------------------------------- */

void cb_line_start(struct cb_line *l, const char *first)
{
	l->len = (size_t)snprintf(l->buf, sizeof(l->buf), "%s", first);
}

void cb_line_add(struct cb_line *l, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->buf) - 1)
		return;
	n = snprintf(l->buf + l->len, sizeof(l->buf) - l->len, " %s=", key);
	if (n > 0)
		l->len += (size_t)n;
	if (l->len >= sizeof(l->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
	if (l->len > sizeof(l->buf) - 1)
		l->len = sizeof(l->buf) - 1;
}

void cb_line_print(struct cb_line *l)
{
	printf("%s\n", l->buf);
	fflush(stdout);
}
