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
 *
 * Output, one line per size and mode (key=value, parse by key):
 *   memcpy mode=hot size=1024 bytes=... seconds=... gbytes_per_s=... gbit_per_s=...
 * Usage: memcpy_ceiling [-t SECONDS] [-f MIB] [-m hot|cold|both] SIZE...
 * SIZE accepts K/M suffixes (powers of two). Exit 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		printf("usage: memcpy_ceiling [-t SECONDS] [-f MIB] [-m hot|cold|both] SIZE...\n");
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

/* Keep the compiler from dropping copies whose result is never read. */
static inline void clobber(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "memcpy_ceiling: malloc(%zu): %s\n", n, strerror(errno));
		exit(1);
	}
	memset(p, 0x5a, n);      /* touch every page before timing */
	return p;
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
	/* Batches sized so the clock is read about every millisecond. */
	batch = (uint64_t)(1e6 / (double)size);
	if (batch < 1)
		batch = 1;
	t0 = now_s();
	do {
		for (uint64_t b = 0; b < batch; b++) {
			unsigned char *p = flat;

			for (int i = 0; i < NFIELDS; i++) {
				memcpy(p, field[i], len[i]);
				p += len[i];
			}
			clobber(flat);
		}
		iters += batch;
		t = now_s() - t0;
	} while (t < secs);
	printf("memcpy mode=hot size=%zu bytes=%llu seconds=%.3f gbytes_per_s=%.3f gbit_per_s=%.3f\n",
	       size, (unsigned long long)(iters * size), t, (double)(iters * size) / t / 1e9,
	       (double)(iters * size) * 8 / t / 1e9);
	for (int i = 0; i < NFIELDS; i++)
		free(field[i]);
	free(flat);
}

static void run_cold(size_t size, double secs, size_t footprint)
{
	size_t n = footprint / size, each = size / NFIELDS, last = size - each * (NFIELDS - 1);
	unsigned char *src, *dst;
	uint64_t iters = 0;
	size_t k = 0;
	double t0, t;

	if (n < 2)
		n = 2;
	src = xmalloc(n * size);
	dst = xmalloc(n * size);
	t0 = now_s();
	do {
		for (int b = 0; b < 64; b++) {
			unsigned char *s = src + k * size, *d = dst + k * size;

			/* 8 fields, each from its own place in the region, like A1's mallocs */
			for (int i = 0; i < NFIELDS; i++) {
				size_t l = i == NFIELDS - 1 ? last : each;

				memcpy(d, s, l);
				d += l;
				s += l;
			}
			clobber(dst);
			if (++k == n)
				k = 0;
		}
		iters += 64;
		t = now_s() - t0;
	} while (t < secs);
	printf("memcpy mode=cold size=%zu bytes=%llu seconds=%.3f gbytes_per_s=%.3f gbit_per_s=%.3f footprint_mib=%zu\n",
	       size, (unsigned long long)(iters * size), t, (double)(iters * size) / t / 1e9,
	       (double)(iters * size) * 8 / t / 1e9, 2 * n * size >> 20);
	free(src);
	free(dst);
}

int main(int argc, char **argv)
{
	double secs = 0.5;
	long long mib = 256;
	const char *mode = "hot";
	int opt, nsizes = 0;

	while ((opt = getopt(argc, argv, "ht:f:m:")) != -1) {
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
			if (strcmp(optarg, "hot") && strcmp(optarg, "cold") && strcmp(optarg, "both"))
				usage("-m wants hot, cold or both");
			mode = optarg;
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

		if (strcmp(mode, "cold"))
			run_hot(size, secs);
		if (strcmp(mode, "hot"))
			run_cold(size, secs, (size_t)mib << 19);   /* half each for src and dst */
		fflush(stdout);
	}
	return nsizes ? 0 : 2;
}
