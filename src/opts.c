/* opts: see opts.h. */
#define _GNU_SOURCE
#include "opts.h"

#include "base.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- number parsing ----------------------------------------------------- */

long long cb_parse_ll(const char *opt, const char *arg, long long lo, long long hi)
{
	char *end;
	long long v;

	if (!arg || !*arg)
		cb_usage_error("option %s: missing value", opt);
	/* strtoll would skip leading blanks and take a '+': neither is a number here. */
	if (!isdigit((unsigned char)*arg) && !(*arg == '-' && isdigit((unsigned char)arg[1])))
		cb_usage_error("option %s: '%s' is not a whole number", opt, arg);
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
	/* The grammar lib/size.sh shares: digits first (no blank, no sign), then K, M or G. */
	if (!isdigit((unsigned char)*arg))
		cb_usage_error("option %s: '%s' is not a size (bytes, or with K, M or G)", opt, arg);
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (end != arg && (*end == 'K' || *end == 'k'))
		shift = 10, end++;
	else if (end != arg && (*end == 'M' || *end == 'm'))
		shift = 20, end++;
	else if (end != arg && (*end == 'G' || *end == 'g'))
		shift = 30, end++;
	if (end == arg || *end)
		cb_usage_error("option %s: '%s' is not a size (bytes, or with K, M or G)", opt, arg);
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

unsigned long long cb_default_mem_budget(void)
{
	unsigned long long total_kb = 0, budget = CB_MAX_MEM_BUDGET_DEFAULT;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &total_kb) == 1)
			break;
	if (f)
		fclose(f);
	if (total_kb && total_kb * 1024 / 4 < budget)
		budget = total_kb * 1024 / 4;
	return budget;
}

void cb_server_parse(int argc, char **argv, const char *impl, const struct cb_tech_opt *topts,
		     struct cb_server_opts *o)
{
	static const struct option base[] = {
		{ "port", required_argument, 0, 'p' },
		{ "bind", required_argument, 0, 'b' },
		{ "clients", required_argument, 0, 'n' },
		{ "quiet", no_argument, 0, 'q' },
		{ "idle-timeout", required_argument, 0, 'I' },
		{ "max-clients", required_argument, 0, 'M' },
		{ "mem-budget", required_argument, 0, 'B' },
		{ "footprint", required_argument, 0, 'F' },
		{ "help", no_argument, 0, 'h' },
	};
	/* The frame's options, then the technique's (getopt value 1000 + its index). */
	struct option longopts[sizeof(base) / sizeof(base[0]) + CB_TECH_OPTS_MAX + 1];
	const char *port = NULL, *clients = NULL, *idle = NULL, *maxc = NULL, *budget = NULL, *fp = NULL;
	const char *targ[CB_TECH_OPTS_MAX] = { NULL };
	int c, nt = 0, nl = (int)(sizeof(base) / sizeof(base[0]));

	memcpy(longopts, base, sizeof(base));
	for (; topts && topts[nt].name; nt++) {
		if (nt == CB_TECH_OPTS_MAX)
			cb_die("%s: more than %d technique options", impl, CB_TECH_OPTS_MAX);
		longopts[nl + nt] = (struct option){ topts[nt].name, required_argument, 0, 1000 + nt };
	}
	memset(&longopts[nl + nt], 0, sizeof(longopts[0]));

	o->bind_addr = "0.0.0.0";
	o->port = CB_DEFAULT_PORT;
	o->clients = 0;
	o->idle_timeout = CB_DEFAULT_IDLE_TIMEOUT;
	o->max_clients = CB_DEFAULT_MAX_CLIENTS;
	o->mem_budget = cb_default_mem_budget();
	o->footprint = 0;
	o->quiet = false;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:b:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': port = optarg; break;
		case 'b': o->bind_addr = optarg; break;
		case 'n': clients = optarg; break;
		case 'q': o->quiet = true; break;
		case 'I': idle = optarg; break;
		case 'M': maxc = optarg; break;
		case 'B': budget = optarg; break;
		case 'F': fp = optarg; break;
		case 'h':
			printf("usage: %s [-p PORT] [-b ADDR] [-n N] [-q] [--idle-timeout SECONDS] [--max-clients N]\n"
			       "          [--mem-budget BYTES] [--footprint BYTES]\n"
			       "%s server: sends messages to every client that connects, one thread per connection.\n"
			       "  -p, --port PORT     TCP port to listen on; 0 picks a free one (default %d)\n"
			       "  -b, --bind ADDR     local address to bind (default 0.0.0.0)\n"
			       "  -n, --clients N     exit after N connections have come and gone (default: serve until SIGINT/SIGTERM)\n"
			       "  -q, --quiet         no per-connection log lines on stderr\n"
			       "      --idle-timeout SEC  drop a peer that reads nothing (stream) or asks nothing (rr)\n"
			       "                      for SEC seconds, 0.1..86400 (default %g)\n"
			       "      --max-clients N serve at most N connections at once, 1..%d; more get a \"busy\"\n"
			       "                      reply and are closed (default %d)\n"
			       "      --mem-budget BYTES  message buffers of all connections together, K/M suffixes,\n"
			       "                      1M..1048576M; a connection that would exceed it gets \"busy\", an\n"
			       "                      A3/A4 pool stops growing (default %llu: 1 GiB, or a quarter of RAM)\n"
			       "      --footprint BYTES  what each connection sends from, K/M/G suffixes, 0..64G and at\n"
			       "                      most the budget: that many bytes of distinct messages (rounded up\n"
			       "                      to whole ones), sent round robin, so each send reads data a whole\n"
			       "                      footprint old (cold once it exceeds a cache); counts against\n"
			       "                      --mem-budget (default 0: one message, sent again and again: hot)\n",
			       argv[0], impl, CB_DEFAULT_PORT, CB_DEFAULT_IDLE_TIMEOUT, CB_MAX_CLIENTS_LIMIT,
			       CB_DEFAULT_MAX_CLIENTS, o->mem_budget);
			for (int i = 0; i < nt; i++)
				printf("      --%s N  %s, %lld..%lld (default %lld)\n", topts[i].name,
				       topts[i].help, topts[i].lo, topts[i].hi, *topts[i].value);
			printf("  -h, --help          this help\n"
			       "First stdout line: 'listening addr=A port=P ...'; last: the 'result ...' summary.\n"
			       "Exit: 0 after -n N clients or SIGINT/SIGTERM (summary printed), 1 runtime error, 2 usage error.\n");
			exit(0);
		default:
			if (c >= 1000 && c < 1000 + nt) {
				targ[c - 1000] = optarg;
				break;
			}
			bad_option(c, argv);
		}
	}
	if (optind < argc)
		cb_usage_error("unexpected argument '%s' (see --help)", argv[optind]);
	if (port)
		o->port = (unsigned)cb_parse_ll("-p/--port", port, 0, 65535);
	if (clients)
		o->clients = (long)cb_parse_ll("-n/--clients", clients, 1, CB_MAX_CLIENTS_ARG);
	if (idle)
		o->idle_timeout = cb_parse_double("--idle-timeout", idle, 0.1, 86400);
	if (maxc)
		o->max_clients = (unsigned)cb_parse_ll("--max-clients", maxc, 1, CB_MAX_CLIENTS_LIMIT);
	if (budget)
		o->mem_budget = (unsigned long long)cb_parse_size("--mem-budget", budget, 1ll << 20, 1ll << 40);
	if (fp) {
		o->footprint = (unsigned long long)cb_parse_size("--footprint", fp, 0, (long long)CB_MAX_FOOTPRINT);
		/* One connection's footprint must fit the budget of all of them. */
		if (o->footprint > o->mem_budget)
			cb_usage_error("option --footprint: %s is more than the memory budget (%llu bytes; "
				       "raise --mem-budget)", fp, o->mem_budget);
	}
	if (!*o->bind_addr)
		cb_usage_error("option -b/--bind: missing value");
	for (int i = 0; i < nt; i++) {
		char name[64];

		snprintf(name, sizeof(name), "--%s", topts[i].name);
		if (targ[i])
			*topts[i].value = cb_parse_ll(name, targ[i], topts[i].lo, topts[i].hi);
	}
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
		{ "connect-timeout", required_argument, 0, 'C' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *port = NULL, *size = NULL, *threads = NULL, *duration = NULL;
	const char *mode = NULL, *interval = NULL, *rcvlowat = NULL, *conn_tmo = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->port = CB_DEFAULT_PORT;
	o->size = CB_DEFAULT_SIZE;
	o->threads = CB_DEFAULT_THREADS;
	o->duration = CB_DEFAULT_DURATION;
	o->mode = CB_STREAM;
	o->rcvlowat = CB_DEFAULT_RCVLOWAT;
	o->connect_timeout = CB_DEFAULT_CONNECT_TIMEOUT;
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
		case 'C': conn_tmo = optarg; break;
		case 'h':
			printf("usage: %s -H HOST [-p PORT] [-s SIZE] [-t THREADS] [-d SECONDS] [-m stream|rr] [-i SECONDS] [--verify] [--rcvlowat BYTES] [--connect-timeout SECONDS]\n"
			       "%s client: opens THREADS connections to an %s server and receives, one thread per connection.\n"
			       "  -H, --host HOST       server name or address (required)\n"
			       "  -p, --port PORT       server port (default %d)\n"
			       "  -s, --size SIZE       message size in bytes, K and M suffixes allowed, %d..%u (default %d)\n"
			       "  -t, --threads N       connections, one thread each, 1..%d (default %d)\n"
			       "  -d, --duration SEC    measured window in seconds, 0.01..86400 (default %g)\n"
			       "  -m, --mode MODE       stream: the server sends back to back; rr: request/response,\n"
			       "                        one message per 16-byte request, round trip timed (default stream)\n"
			       "  -i, --interval SEC    print a live line every SEC seconds, 0.01..3600 (default 0: off)\n"
			       "      --verify          check every byte of every message (slower; a correctness mode)\n"
			       "      --rcvlowat BYTES  stream, 0..16M, K/M suffixes: let TCP wake the receiver only once\n"
			       "                        BYTES are queued (SO_RCVLOWAT): fewer wake-ups for the sender to\n"
			       "                        pay, but it can stall small-segment paths (default %u: off)\n"
			       "      --connect-timeout SEC  give up on a connect after SEC seconds, 0.1..3600 (default %g)\n"
			       "  -h, --help            this help\n"
			       "Last stdout line: the 'result ...' line; fields are defined in docs/programs.md.\n"
			       "Exit: 0 ok, 1 runtime error (partial result still printed), 2 usage error,\n"
			       "130 interrupted by SIGINT/SIGTERM (partial result printed).\n",
			       argv[0], impl, impl, CB_DEFAULT_PORT, CB_MIN_SIZE, CB_MAX_SIZE, CB_DEFAULT_SIZE,
			       CB_MAX_THREADS, CB_DEFAULT_THREADS, CB_DEFAULT_DURATION, CB_DEFAULT_RCVLOWAT,
			       CB_DEFAULT_CONNECT_TIMEOUT);
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
	if (conn_tmo)
		o->connect_timeout = cb_parse_double("--connect-timeout", conn_tmo, 0.1, 3600);
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
