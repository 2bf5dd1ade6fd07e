# copybench: four send techniques over TCP, measured.
# `make` builds the eight programs; `make test` runs the whole suite (needs root for
# the namespace tests); `sudo make run` does the whole job on a fresh machine.

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -pthread
LDFLAGS += -pthread

PROGS   := A1_server A1_client A2_server A2_client A3_server A3_client A4_server A4_client
# A4 sends through io_uring: liburing (Debian/Ubuntu: liburing-dev, installed by `make deps`).
# Without it `make` stops with one line naming the package, before compiling anything of A4.
A4_server_LIBS := -luring
HAVE_LIBURING := $(shell printf '\043include <liburing.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1)
NO_LIBURING_MSG := A4_server needs liburing: liburing.h was not found. Install liburing-dev (sudo make deps, or apt-get install liburing-dev)
# The shared module: src/*.c, each file owning one thing (its header says what).
LIB_SRC := $(wildcard src/*.c)
LIB_HDR := $(wildcard src/*.h)
LIB_OBJ := $(LIB_SRC:.c=.o)
CFLAGS  += -Isrc
UNITS   := $(patsubst tests/%.c,tests/bin/%,$(wildcard tests/unit_*.c))

.PHONY: all test unit clean deps run plots sanitize tsan bench demo
all: $(PROGS)

%.o: %.c $(LIB_HDR)
	$(CC) $(CFLAGS) -c -o $@ $<

A4_server.o: A4_server.c $(LIB_HDR)
	$(if $(HAVE_LIBURING),,$(error $(NO_LIBURING_MSG)))
	$(CC) $(CFLAGS) -c -o $@ $<

$(PROGS): %: %.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) -lm $($@_LIBS)

# The unit tests link the module's objects the programs link, compiled once.
tests/bin/%: tests/%.c $(LIB_OBJ) $(LIB_HDR)
	@mkdir -p tests/bin
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LDFLAGS) -lm

# Sanitizer builds, fuzzing and the benchmark live in their own makefiles.
-include tests/extra.mk bench/bench.mk

unit: $(UNITS)

# The test runner prints TAP per file and ends with "N passed, N failed". The test tools come
# with the tests: installed first when missing (as root; otherwise their checks say SKIP). The
# build uses every CPU (nothing else runs yet), unless make was given its own -j.
test:
	@bash tests/install_deps.sh || echo "make test: test tools missing (above): the checks that need them SKIP"
	$(MAKE) $(if $(findstring --jobserver,$(MAKEFLAGS)),,-j$$(nproc)) all unit tests/bin/cb_peer $(SHIMS) tests/bin/no_uring tests/bin/zc_faults.so
	bash tests/run.sh

# What running needs (compiler, perf, iproute2, matplotlib, liburing...), from the distribution's
# packages only; the test tools install with `make test` (tests/install_deps.sh).
deps:
	bash tools/install_deps.sh

# The whole job: packages, build, sweep in namespaces, plots, summary.
run: deps all
	bash run_experiments.sh

plots:
	bash run_experiments.sh --plots-only

# The two-terminal viva in one command: tmux, server pane + client pane, A1 A2 A3 in turn.
# Options through DEMO_ARGS, e.g. make demo DEMO_ARGS="--loopback --size 4K" (tools/demo.sh --help).
demo: all
	bash tools/demo.sh $(DEMO_ARGS)

clean:
	rm -f $(PROGS) *.o src/*.o bench/memcpy_ceiling
	rm -rf tests/bin build-*
