/*
 * result: the one "result key=value ..." line every program ends with, built
 * field by field and printed with one write.
 */
#ifndef COPYBENCH_RESULT_H
#define COPYBENCH_RESULT_H

#include <stddef.h>

/* ---- result line ----------------------------------------------------------- */
/* Appends " key=value" to a line buffer; printed at once by cb_line_print. */
struct cb_line { char buf[1024]; size_t len; };
void cb_line_start(struct cb_line *l, const char *first);
void cb_line_add(struct cb_line *l, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cb_line_print(struct cb_line *l);

#endif
