/*
 * fail_zerocopy.so: an LD_PRELOAD shim for tests/t_truth.sh. setsockopt(
 * SO_ZEROCOPY) succeeds CB_FAIL_ZEROCOPY_AFTER times (default 0), then fails
 * with EPERM, so a test can make the kernel "refuse" zero-copy on an accepted
 * socket after the server's start-up probe has passed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static int (*real)(int, int, int, const void *, socklen_t);
	static int calls;
	const char *after = getenv("CB_FAIL_ZEROCOPY_AFTER");

	if (!real)
		real = (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
	if (level == SOL_SOCKET && name == SO_ZEROCOPY &&
	    __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED) >= (after ? atoi(after) : 0)) {
		errno = EPERM;
		return -1;
	}
	return real(fd, level, name, val, len);
}
