/*
 * memcpy ceiling: how fast one core copies SIZE-byte messages the way A1 does,
 * i.e. 8 separately malloc'd fields of SIZE/8 bytes (remainder in the last)
 * memcpy'd one after the other into a flat SIZE-byte buffer, over and over.
 *
 *   hot : the same fields into the same flat buffer every time. This is
 *         exactly A1's pattern (its fields and staging buffer are reused for
 *         every message), so it is the number bench/run.sh uses to predict
 *         A1's cost of the extra copy.
 *   cold: the message is taken from a large region (-f MiB, default 256)
 *         walked sequentially, so sources and destinations mostly miss the
 *         caches: a lower bound for a sender whose data is not cache-hot.
 *   coldsrc: the fields from a region of -f MiB walked in order (a server's
 *         --footprint), into one flat buffer reused every time (hot): A1's
 *         first copy with cold data, and the copy the kernel makes for A2
 *         (cold user fields into socket-buffer pages it recycles).
 *
 * -k says which copy: memcpy (glibc's, what A1 calls), repmovsb (an inline
 * `rep movsb`, what the kernel's copy_user_generic is on a CPU with FSRM:
 * the copy into the socket for A1 and A2 alike), or pwrite (the kernel
 * itself copies the message, one pwritev() of its 8 fields into a memfd
 * standing for the flat buffer: the kernel reading the user's memory, as
 * sendmsg does for A2, without the network), to tell the routines and the
 * modes apart on
 * cold data (docs/performance.md, "Cold data"). -H puts the regions on
 * 2 MiB pages (madvise MADV_HUGEPAGE): the same bytes, 512x fewer pages.
 * -w makes one untimed pass over the region with the copy under test first,
 * so the timing is of later passes (a first touch can cost more, e.g. a
 * hypervisor filling its shadow page tables).
 *
 * Output, one line per size and mode (key=value, parse by key):
 *   memcpy mode=hot size=1024 bytes=... seconds=... gbytes_per_s=... gbit_per_s=... kind=memcpy
 * Usage: memcpy_ceiling [-t SECONDS] [-f MIB] [-m hot|cold|coldsrc|both] [-k memcpy|repmovsb|pwrite] [-H] [-w] SIZE...
 * SIZE accepts K/M suffixes (powers of two). Exit 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define NFIELDS 8

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "memcpy_ceiling: %s (try -h)\n", msg);
	else
		printf("usage: memcpy_ceiling [-t SECONDS] [-f MIB] [-m hot|cold|coldsrc|both] [-k memcpy|repmovsb|pwrite] [-H] [-w] SIZE...\n");
	exit(msg ? 2 : 0);
}

static long long parse_size(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0)
		return -1;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end || v < NFIELDS || v > (64ll << 20))
		return -1;
	return v;
}

static enum { K_MEMCPY, K_REPMOVSB, K_PWRITE } kind;  /* -k */
static const char *const kind_name[] = { "memcpy", "repmovsb", "pwrite" };
static bool huge;                   /* -H */
static bool warm;                   /* -w */
static int kfd = -1;                /* -k pwrite: the memfd standing for the flat buffer */
static unsigned char *kbase;        /* ... and the buffer whose offsets it takes */

/*
 * One message's copy under test: its NFIELDS fields (field[i], len[i]) into
 * the flat buffer at d, with glibc's memcpy, the kernel's user-copy
 * instruction, or by the kernel (one pwritev at d's offset in the memfd).
 */
static inline void copy_msg(unsigned char *d, unsigned char *const field[NFIELDS], const size_t len[NFIELDS])
{
	if (kind == K_PWRITE) {
		struct iovec iov[NFIELDS];
		size_t total = 0;

		for (int i = 0; i < NFIELDS; i++) {
			iov[i] = (struct iovec){ field[i], len[i] };
			total += len[i];
		}
		if (pwritev(kfd, iov, NFIELDS, d - kbase) != (ssize_t)total) {
			fprintf(stderr, "memcpy_ceiling: pwritev: %s\n", strerror(errno));
			exit(1);
		}
		return;
	}
	for (int i = 0; i < NFIELDS; i++) {
		void *dd = d;
		const void *ss = field[i];
		size_t n = len[i];

		if (kind == K_REPMOVSB)
			__asm__ volatile("rep movsb" : "+D"(dd), "+S"(ss), "+c"(n) : : "memory");
		else
			memcpy(dd, ss, n);
		d += len[i];
	}
}

/* The fields of the k-th message of a region: laid end to end, as a heap lays A1's mallocs. */
static void fields_at(unsigned char *base, size_t k, size_t size, unsigned char *field[NFIELDS],
		      size_t len[NFIELDS])
{
	size_t each = size / NFIELDS;

	for (int i = 0; i < NFIELDS; i++) {
		len[i] = i == NFIELDS - 1 ? size - each * (NFIELDS - 1) : each;
		field[i] = base + k * size + (size_t)i * each;
	}
}

/* Keep the compiler from dropping copies whose result is never read. */
static inline void clobber(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void *xmalloc(size_t n)
{
	void *p = huge && n >= (2u << 20) ? aligned_alloc(2u << 20, (n + (2u << 20) - 1) & ~((size_t)(2u << 20) - 1))
				      : malloc(n);

	if (!p) {
		fprintf(stderr, "memcpy_ceiling: malloc(%zu): %s\n", n, strerror(errno));
		exit(1);
	}
	if (huge && n >= (2u << 20) && madvise(p, n, MADV_HUGEPAGE) < 0)
		fprintf(stderr, "memcpy_ceiling: madvise(MADV_HUGEPAGE): %s (small pages)\n", strerror(errno));
	memset(p, 0x5a, n);      /* touch every page before timing */
	return p;
}

/* -k pwrite: a memfd of `size` bytes stands for the flat buffer at base. */
static void kernel_dst(unsigned char *base, size_t size)
{
	if (kind != K_PWRITE)
		return;
	if (kfd < 0 && (kfd = memfd_create("memcpy_ceiling", 0)) < 0) {
		fprintf(stderr, "memcpy_ceiling: memfd_create: %s\n", strerror(errno));
		exit(1);
	}
	if (ftruncate(kfd, (off_t)size) < 0) {
		fprintf(stderr, "memcpy_ceiling: ftruncate: %s\n", strerror(errno));
		exit(1);
	}
	kbase = base;
}

static void run_hot(size_t size, double secs)
{
	unsigned char *field[NFIELDS], *flat = xmalloc(size);
	size_t len[NFIELDS], each = size / NFIELDS;
	uint64_t iters = 0, batch = 1;
	double t0, t;

	for (int i = 0; i < NFIELDS; i++) {
		len[i] = i == NFIELDS - 1 ? size - each * (NFIELDS - 1) : each;
		field[i] = xmalloc(len[i]);
	}
	kernel_dst(flat, size);
	/* Batches sized so the clock is read about every millisecond. */
	batch = (uint64_t)(1e6 / (double)size);
	if (batch < 1)
		batch = 1;
	t0 = now_s();
	do {
		for (uint64_t b = 0; b < batch; b++) {
			copy_msg(flat, field, len);
			clobber(flat);
		}
		iters += batch;
		t = now_s() - t0;
	} while (t < secs);
	printf("memcpy mode=hot size=%zu bytes=%llu seconds=%.3f gbytes_per_s=%.3f gbit_per_s=%.3f kind=%s\n",
	       size, (unsigned long long)(iters * size), t, (double)(iters * size) / t / 1e9,
	       (double)(iters * size) * 8 / t / 1e9, kind_name[kind]);
	for (int i = 0; i < NFIELDS; i++)
		free(field[i]);
	free(flat);
}

/* cold (both ends walk a region) or coldsrc (the destination is one hot buffer). */
static void run_cold(size_t size, double secs, size_t footprint, bool hot_dst)
{
	size_t n = footprint / size, len[NFIELDS];
	unsigned char *src, *dst, *field[NFIELDS];
	uint64_t iters = 0;
	size_t k = 0;
	double t0, t;

	if (n < 2)
		n = 2;
	src = xmalloc(n * size);
	dst = xmalloc(hot_dst ? size : n * size);
	kernel_dst(dst, hot_dst ? size : n * size);
	for (size_t w = 0; warm && w < n; w++) {
		fields_at(src, w, size, field, len);
		copy_msg(dst + (hot_dst ? 0 : w * size), field, len);
	}
	t0 = now_s();
	do {
		for (int b = 0; b < 64; b++) {
			/* 8 fields, each from its own place in the region, like A1's mallocs */
			fields_at(src, k, size, field, len);
			copy_msg(dst + (hot_dst ? 0 : k * size), field, len);
			clobber(dst);
			if (++k == n)
				k = 0;
		}
		iters += 64;
		t = now_s() - t0;
	} while (t < secs);
	printf("memcpy mode=%s size=%zu bytes=%llu seconds=%.3f gbytes_per_s=%.3f gbit_per_s=%.3f footprint_mib=%zu "
	       "kind=%s\n", hot_dst ? "coldsrc" : "cold", size, (unsigned long long)(iters * size), t,
	       (double)(iters * size) / t / 1e9, (double)(iters * size) * 8 / t / 1e9,
	       (hot_dst ? n * size : 2 * n * size) >> 20, kind_name[kind]);
	free(src);
	free(dst);
}

int main(int argc, char **argv)
{
	double secs = 0.5;
	long long mib = 256;
	const char *mode = "hot";
	int opt, nsizes = 0;

	while ((opt = getopt(argc, argv, "ht:f:m:k:Hw")) != -1) {
		char *end;

		switch (opt) {
		case 'h':
			usage(NULL);
			break;
		case 't':
			secs = strtod(optarg, &end);
			if (*end || end == optarg || !(secs > 0 && secs <= 60))
				usage("-t wants seconds in (0, 60]");
			break;
		case 'f':
			mib = strtoll(optarg, &end, 10);
			if (*end || end == optarg || mib < 1 || mib > 8192)
				usage("-f wants MiB in [1, 8192]");
			break;
		case 'm':
			if (strcmp(optarg, "hot") && strcmp(optarg, "cold") && strcmp(optarg, "coldsrc") &&
			    strcmp(optarg, "both"))
				usage("-m wants hot, cold, coldsrc or both");
			mode = optarg;
			break;
		case 'k':
			if (!strcmp(optarg, "memcpy"))
				kind = K_MEMCPY;
			else if (!strcmp(optarg, "repmovsb"))
				kind = K_REPMOVSB;
			else if (!strcmp(optarg, "pwrite"))
				kind = K_PWRITE;
			else
				usage("-k wants memcpy, repmovsb or pwrite");
			break;
		case 'H':
			huge = true;
			break;
		case 'w':
			warm = true;
			break;
		default:
			usage("unknown option");
		}
	}
	if (optind >= argc)
		usage("no SIZE given");
	for (int i = optind; i < argc; i++)
		if (parse_size(argv[i]) < 0)
			usage("bad SIZE (a number >= 8, K/M suffix allowed, at most 64M)");
	for (int i = optind; i < argc; i++, nsizes++) {
		size_t size = (size_t)parse_size(argv[i]);

		if (!strcmp(mode, "hot") || !strcmp(mode, "both"))
			run_hot(size, secs);
		if (!strcmp(mode, "cold") || !strcmp(mode, "both"))
			run_cold(size, secs, (size_t)mib << 19, false);   /* half each for src and dst */
		if (!strcmp(mode, "coldsrc"))
			run_cold(size, secs, (size_t)mib << 20, true);
		fflush(stdout);
	}
	return nsizes ? 0 : 2;
}
