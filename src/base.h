/*
 * base: what every copybench program needs before anything else: its name in
 * messages, the three ways to report trouble (usage error: exit 2; runtime
 * error: exit 1; warning), the monotonic clock, the process's CPU time and
 * its open-file limit.
 */
#ifndef COPYBENCH_BASE_H
#define COPYBENCH_BASE_H

#include <stdbool.h>
#include <stdint.h>

/* ---- errors ----------------------------------------------------------- */
extern const char *cb_prog;               /* program name for messages */
void cb_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void cb_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void cb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The program's name for messages: argv[0] without its directory. */
void cb_set_prog(const char *argv0);

/* ---- time ---------------------------------------------------------------- */
uint64_t cb_now_ns(void);       /* CLOCK_MONOTONIC */

/* ---- CPU accounting and limits ------------------------------------------- */
double cb_cpu_seconds(void);    /* user + system time of this process */
uint64_t cb_thread_cpu_ns(void); /* CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID) */
/*
 * Raise the soft open-file limit (RLIMIT_NOFILE) to the hard one, as a
 * server or a 1024-connection client needs; returns the soft limit now.
 */
unsigned long cb_raise_nofile(void);
/*
 * Block SIGINT and SIGTERM in this thread (threads created later inherit
 * it) and return a signalfd that reports them: a program's main thread
 * waits on it in every phase, and no other thread is ever interrupted.
 * Exits 1 naming the call if the kernel refuses.
 */
int cb_stop_signalfd(void);
/* The nth (0-based) number of a /proc/sys file, e.g. tcp_wmem's limit; 0 if unreadable. */
uint64_t cb_sysctl_u64(const char *path, int nth);
/*
 * True with CAP_IPC_LOCK: the kernel then charges no pinned zero-copy pages
 * to RLIMIT_MEMLOCK (A3's MSG_ZEROCOPY and A4's io_uring alike).
 */
bool cb_have_cap_ipc_lock(void);
#define CB_FD_SPARE 16            /* descriptors besides the sockets: stdio, eventfd, ... */

#endif
