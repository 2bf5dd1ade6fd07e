/*
 * server: the frame every A*_server plugs its technique into. It parses the
 * options, listens, runs one thread per accepted connection (the hello, then
 * the stream or request/response loop calling the technique's send), merges
 * the per-connection counters after join and prints the summary. A technique
 * is a struct cb_technique: open, send one message, close.
 */
#ifndef COPYBENCH_SERVER_H
#define COPYBENCH_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "msgs.h"
#include "opts.h"
#include "result.h"
#include "wire.h"

/* ---- the server frame (server.c) -------------------------------------- */
#define CB_STAT_MAX 16            /* technique counters in the result line, at most */

/* A technique's own counter in the result line: summed over connections, or their maximum. */
struct cb_stat_def {
	const char *name;         /* e.g. "zc_copied" */
	bool max;                 /* false: sum over connections; true: the largest */
};

struct cb_conn {
	/* set by the accept loop */
	int fd;
	char peer[64];
	pthread_t thread;
	struct cb_conn *next;
	void *stack;              /* the thread's stack (mmap'd here, unmapped after join) */
	int finished;             /* written once by the thread, under __atomic */
	/* written by the connection's thread only, read after join */
	struct cb_hello hello;
	bool verify;
	bool accepted;            /* the hello was good and answered "ok" */
	bool failed;              /* ended by an error, not by the client leaving */
	enum cb_status status;    /* open() failing: why, for the reply (default CB_NO_MEMORY) */
	uint64_t bytes;           /* every byte the kernel accepted, a cut message's too */
	uint64_t messages;        /* whole messages: bytes / msg_size, set after close */
	uint64_t send_cpu_ns;     /* the thread's CPU time in the send loop (not open/close) */
	uint64_t stat[CB_STAT_MAX]; /* the technique's counters, in the order of its stats */
	const char *err_call;     /* the call that failed */
	int err;                  /* its errno */
};

struct cb_technique {
	const char *name;         /* "A1" */
	unsigned impl;            /* 1..4 */
	const struct cb_stat_def *stats; /* its counters (NULL-named entry ends the list) */
	const struct cb_tech_opt *opts;  /* optional: its own options (NULL-named entry ends) */
	/*
	 * Optional: 0 if the kernel supports it; -1 ends the server (exit 1). A
	 * technique that can say "unavailable" per connection (A4) returns 0
	 * and refuses in open() with CB_UNAVAILABLE instead.
	 */
	int (*probe)(void);
	/* Optional: append key=value facts about this host to the first and the result line. */
	void (*describe)(struct cb_line *l);
	/*
	 * Per-connection state, before the hello is answered; NULL refuses the
	 * connection with c->status (and c->err_call, errno for the log).
	 */
	void *(*open)(struct cb_conn *c);
	/*
	 * Send message `seq` whole, stamped want_ns (when the frame wanted to send
	 * it, before any wait). 0, or -1 with c->err_call and errno. *sent: the
	 * bytes the kernel accepted during this call, also when it fails half
	 * way. A technique may queue the message and hand it to the kernel with
	 * later ones (A4 submits a batch): *sent then counts what the kernel took
	 * during this call, of this message or earlier ones, in stream order. In
	 * rr mode every message is handed over before send returns.
	 */
	int (*send)(struct cb_conn *c, void *state, uint64_t seq, uint64_t want_ns, size_t *sent);
	/*
	 * After the last message: hand over what is still queued (adding what
	 * the kernel accepts to c->bytes), wait for what is pending, free the
	 * state. The frame counts whole messages from c->bytes afterwards.
	 */
	void (*close)(struct cb_conn *c, void *state);
	/* Optional: called by the main thread now and then (about once a second when idle). */
	void (*tick)(void);
};

/*
 * True once the server is stopping (SIGINT/SIGTERM): no new message starts;
 * the one in progress has until cb_server_stop_deadline() (CLOCK_MONOTONIC ns).
 */
bool cb_server_stopping(void);
uint64_t cb_server_stop_deadline(void);
/* --idle-timeout: how long a peer may take nothing before its connection ends. */
double cb_server_idle_timeout(void);
/*
 * The server-wide budget for message buffers (--mem-budget). A technique
 * takes what it allocates for messages before allocating it (false: over
 * budget, do not) and gives it back once freed. Not for hot loops: a lock.
 */
bool cb_mem_take(uint64_t bytes);
void cb_mem_give(uint64_t bytes);
/* The budget over --max-clients: what every connection can have even when all are in use. */
uint64_t cb_mem_share(void);
/*
 * --footprint: how many distinct messages of msg_size a connection sends
 * from, round robin (msgs.h): the footprint rounded up to whole messages,
 * 1 at least (the default, 0, is one message: today's hot data).
 */
unsigned cb_footprint_messages(uint32_t msg_size);
/*
 * Take `bytes` for connection c, whose messages need them: true, or false
 * with c->status CB_BUSY (others hold the budget now: try later) or
 * CB_NO_ROOM (more than the whole budget: never).
 */
bool cb_conn_mem_take(struct cb_conn *c, uint64_t bytes);
/*
 * A technique that sends from a struct cb_msgs (A1, A2): its footprint's
 * messages, allocated and charged to the budget (cb_msg_cost each) together
 * with `extra` bytes it keeps beside them. false: c->status says why (and
 * c->err_call when allocation failed). cb_conn_msgs_close frees and gives
 * back the same.
 */
bool cb_conn_msgs_open(struct cb_conn *c, struct cb_msgs *m, uint64_t extra);
void cb_conn_msgs_close(struct cb_msgs *m, uint64_t extra);

/* Parse options, listen, serve until -n N connections or a signal. */
int cb_server_main(int argc, char **argv, const struct cb_technique *t);

#endif
