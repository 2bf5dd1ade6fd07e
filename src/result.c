/* result: see result.h. */
#include "result.h"

#include <stdarg.h>
#include <stdio.h>

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
