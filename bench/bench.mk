# copybench benchmark against reference tools (iperf3, sockperf); included by
# the top-level Makefile. `make bench` (as root) runs bench/run.sh; pass
# options with BENCH_ARGS, e.g. make bench BENCH_ARGS="--rounds 5 --out b.md".

BENCH_ARGS ?=

bench/memcpy_ceiling: bench/memcpy_ceiling.c
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

bench: all bench/memcpy_ceiling
	bash bench/run.sh $(BENCH_ARGS)
