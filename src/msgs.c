/* msgs: see msgs.h. */
#define _GNU_SOURCE
#include "msgs.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

int cb_msgs_init(struct cb_msgs *s, uint32_t size, unsigned cap)
{
	s->size = size;
	s->n = s->next = 0;
	s->cap = cap;
	s->msg = calloc(cap ? cap : 1, sizeof(*s->msg));
	if (!s->msg) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

bool cb_msgs_add(struct cb_msgs *s)
{
	struct cb_message *m;

	if (s->n == s->cap)
		return false;
	m = &s->msg[s->n];
	if (cb_msg_alloc(m, s->size) != 0)
		return false;
	if (s->n)
		cb_msg_copy(m, &s->msg[0]);
	else
		cb_msg_fill(m, 0);
	s->n++;
	return true;
}

bool cb_msgs_grow(struct cb_msgs *s, unsigned n)
{
	struct iovec iov[CB_NFIELDS];
	int fd = -1;

	if (n > s->cap)
		n = s->cap;
	if (s->n == 0 && n > 0 && !cb_msgs_add(s))
		return false;
	/* The first message's bytes in a memfd, read back by the kernel into each new one. */
	if (s->n < n && (fd = memfd_create("cb_msgs", MFD_CLOEXEC)) >= 0) {
		cb_msg_iov(&s->msg[0], iov);
		if (pwritev(fd, iov, CB_NFIELDS, 0) != (ssize_t)s->size) {
			close(fd);
			fd = -1;
		}
	}
	while (s->n < n) {
		struct cb_message *m = &s->msg[s->n];

		if (fd < 0) {
			if (!cb_msgs_add(s))
				return false;
			continue;
		}
		if (cb_msg_alloc(m, s->size) != 0) {
			close(fd);
			return false;
		}
		cb_msg_iov(m, iov);
		if (preadv(fd, iov, CB_NFIELDS, 0) != (ssize_t)s->size)
			cb_msg_copy(m, &s->msg[0]);
		s->n++;
	}
	if (fd >= 0)
		close(fd);
	return true;
}

int cb_msgs_alloc(struct cb_msgs *s, uint32_t size, unsigned n)
{
	if (cb_msgs_init(s, size, n) < 0)
		return -1;
	if (!cb_msgs_grow(s, n)) {
		cb_msgs_free(s);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void cb_msgs_free(struct cb_msgs *s)
{
	for (unsigned i = 0; i < s->n; i++)
		cb_msg_free(&s->msg[i]);
	free(s->msg);
	s->msg = NULL;
	s->n = s->cap = s->next = 0;
}
