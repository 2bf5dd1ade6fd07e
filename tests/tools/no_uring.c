/*
 * no_uring: run a program with io_uring_setup(2) refused, as a container's
 * seccomp profile refuses it, for tests/t_truth.sh (A4's "technique
 * unavailable" scene). An LD_PRELOAD shim (see fail_zerocopy.c) cannot do
 * this: liburing makes the system call itself, not through libc.
 *
 *   no_uring [-e EPERM|ENOSYS] PROGRAM [ARGS...]
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#endif

int main(int argc, char **argv)
{
	int err = EPERM, first = 1;

	if (argc > 2 && !strcmp(argv[1], "-e")) {
		err = !strcmp(argv[2], "ENOSYS") ? ENOSYS : EPERM;
		first = 3;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: no_uring [-e EPERM|ENOSYS] PROGRAM [ARGS...]\n");
		return 2;
	}
	struct sock_filter f[] = {
#ifdef THIS_ARCH
		/* Another architecture's system call numbers mean other calls: let them be. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
#endif
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("no_uring: seccomp");
		return 1;
	}
	execvp(argv[first], argv + first);
	fprintf(stderr, "no_uring: exec %s: %s\n", argv[first], strerror(errno));
	return 127;
}
