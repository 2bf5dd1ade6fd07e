# copybench: three send techniques over TCP, measured.
# `make` builds the six programs; `make test` runs the whole suite (needs root for
# the namespace tests); `sudo make run` does the whole job on a fresh machine.

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -pthread
LDFLAGS += -pthread

PROGS   := A1_server A1_client A2_server A2_client A3_server A3_client
COMMON  := common.o common_run.o
UNITS   := $(patsubst tests/%.c,tests/bin/%,$(wildcard tests/unit_*.c))

.PHONY: all test unit clean deps run plots sanitize tsan bench
all: $(PROGS)

%.o: %.c common.h
	$(CC) $(CFLAGS) -c -o $@ $<

$(PROGS): %: %.o $(COMMON)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) -lm

tests/bin/%: tests/%.c common.c common_run.c common.h
	@mkdir -p tests/bin
	$(CC) $(CFLAGS) -I. -o $@ $< common.c common_run.c $(LDFLAGS) -lm

# Sanitizer builds, fuzzing and the benchmark live in their own makefiles.
-include tests/extra.mk bench/bench.mk

unit: $(UNITS)

# The test runner prints TAP per file and ends with "N passed, N failed".
test: all unit
	bash tests/run.sh

# Installs what is missing, from the distribution's packages only.
deps:
	bash tests/install_deps.sh

# The whole job: packages, build, sweep in namespaces, plots, summary.
run: deps all
	bash run_experiments.sh

plots:
	bash run_experiments.sh --plots-only

clean:
	rm -f $(PROGS) *.o bench/memcpy_ceiling
	rm -rf tests/bin build-*
