/*
 * slow_thread.so: an LD_PRELOAD shim for tests/t_numbers.sh. It makes one
 * connection of a client slow, so the threads' latency histograms, merged
 * after join, have maxima that differ. The client creates its connection
 * threads in order (worker 0 first) and merges their histograms in that order,
 * so slowing the first thread created puts the largest maximum first: a merge
 * that kept the last thread's maximum instead of the largest would show.
 *
 * CB_SLOW_THREAD: which thread, by creation order from 1 (default 1);
 * CB_SLOW_US: how long each recv() of that thread waits before it reads
 * (default 100000, 100 ms). Every other thread is left alone.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

struct start { void *(*fn)(void *); void *arg; unsigned n; };
static unsigned created;
static __thread unsigned my_number;

static void *numbered(void *p)
{
	struct start s = *(struct start *)p;

	free(p);
	my_number = s.n;
	return s.fn(s.arg);
}

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	struct start *s = malloc(sizeof(*s));
	int rc;

	if (!real)
		real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
			dlsym(RTLD_NEXT, "pthread_create");
	if (!s)
		return EAGAIN;
	s->fn = fn;
	s->arg = arg;
	s->n = __atomic_add_fetch(&created, 1, __ATOMIC_RELAXED);
	rc = real(th, attr, numbered, s);
	if (rc)
		free(s);
	return rc;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	static ssize_t (*real)(int, void *, size_t, int);
	const char *which = getenv("CB_SLOW_THREAD"), *us = getenv("CB_SLOW_US");

	if (!real)
		real = (ssize_t (*)(int, void *, size_t, int))dlsym(RTLD_NEXT, "recv");
	if (my_number && my_number == (unsigned)(which ? atoi(which) : 1)) {
		long wait = us ? atol(us) : 100000;
		struct timespec ts = { wait / 1000000, (wait % 1000000) * 1000 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return real(fd, buf, len, flags);
}
