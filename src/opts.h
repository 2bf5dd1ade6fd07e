/*
 * opts: the command lines of the six programs. Defaults in one place, the
 * range-checked number and size parsers (never atoi), getopt_long parsing of
 * the server's and the client's options with --help, and a usage error (exit 2)
 * naming the option for anything else.
 */
#ifndef COPYBENCH_OPTS_H
#define COPYBENCH_OPTS_H

#include <stdbool.h>

#include "wire.h"

/* ---- defaults, in one place ------------------------------------------ */
#define CB_DEFAULT_PORT      5301
#define CB_DEFAULT_SIZE      65536
#define CB_DEFAULT_THREADS   1
#define CB_DEFAULT_DURATION  5.0
#define CB_MAX_THREADS       1024
#define CB_MAX_CLIENTS_ARG   1000000
#define CB_DEFAULT_RCVLOWAT  0u           /* stream SO_RCVLOWAT: the kernel's, as iperf3 */
#define CB_DEFAULT_CONNECT_TIMEOUT 5.0    /* s: an unreachable host answers nothing */
#define CB_DEFAULT_IDLE_TIMEOUT 60.0      /* s: a peer that reads or asks nothing is dropped */
#define CB_DEFAULT_MAX_CLIENTS 256        /* connections at once; more are told "busy" */
#define CB_MAX_CLIENTS_LIMIT 16384
#define CB_MAX_MEM_BUDGET_DEFAULT (1ull << 30) /* message buffers: 1 GiB, or a quarter of RAM if less */
#define CB_MAX_FOOTPRINT     (64ull << 30) /* --footprint: at most this (and the memory budget) */

/* ---- options ----------------------------------------------------------- */
struct cb_server_opts {
	const char *bind_addr;
	unsigned port;
	long clients;               /* exit after this many; 0 = serve until a signal */
	double idle_timeout;        /* s a peer may take (stream) or ask (rr) nothing */
	unsigned max_clients;       /* connections served at once */
	unsigned long long mem_budget; /* bytes of message buffers, all connections together */
	unsigned long long footprint;  /* bytes each connection sends from; 0: one message (hot) */
	bool quiet;
};

struct cb_client_opts {
	const char *host;
	unsigned port;
	unsigned size;
	unsigned threads;
	double duration;
	enum cb_mode mode;
	double interval;            /* 0: no live lines */
	unsigned rcvlowat;          /* SO_RCVLOWAT in stream mode; 0: the kernel's 1 byte */
	double connect_timeout;     /* seconds for each connection's connect() */
	bool verify;
};

/*
 * A technique's own server option, --NAME N: a whole number in [lo, hi],
 * listed in --help. *value holds the default and receives what was given.
 */
struct cb_tech_opt {
	const char *name;           /* the long option without its dashes: "queue-depth" */
	const char *help;           /* what it does, for --help */
	long long lo, hi;
	long long *value;
};
#define CB_TECH_OPTS_MAX 4          /* per technique, at most */

/*
 * Parse a number in [lo, hi]; on any error (empty, junk, out of range,
 * overflow) a usage error naming the option. Never atoi.
 */
long long cb_parse_ll(const char *opt, const char *arg, long long lo, long long hi);
double cb_parse_double(const char *opt, const char *arg, double lo, double hi);
/* Sizes accept K/M/G suffixes (powers of two): 64K = 65536. */
long long cb_parse_size(const char *opt, const char *arg, long long lo, long long hi);

/*
 * Return 0, or exit (0 after --help, 2 on a usage error). topts: the
 * technique's own options (NULL, or a list ended by a NULL name).
 */
void cb_server_parse(int argc, char **argv, const char *impl, const struct cb_tech_opt *topts,
		     struct cb_server_opts *o);
/* 1 GiB, or a quarter of MemTotal when that is less. */
unsigned long long cb_default_mem_budget(void);
void cb_client_parse(int argc, char **argv, const char *impl, struct cb_client_opts *o);

#endif
