/*
 * What the C unit tests (tests/unit_*.c) share: TAP output (one "ok N - what"
 * line per check, "1..N" at the end, exit 1 if any failed) and a helper that
 * lays a message's 8 fields end to end, as the wire carries them.
 */
#ifndef COPYBENCH_TESTS_UNIT_H
#define COPYBENCH_TESTS_UNIT_H

#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_tests, n_failed;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
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

/* Print the plan line; the exit status for main. */
static inline int done_testing(void)
{
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}

/* The message's bytes in order, as the wire carries them. */
static inline unsigned char *flatten(const struct cb_message *m)
{
	unsigned char *f = malloc(m->size), *p = f;

	for (int i = 0; i < CB_NFIELDS; i++) {
		memcpy(p, m->field[i], m->len[i]);
		p += m->len[i];
	}
	return f;
}

#endif
