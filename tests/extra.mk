# tests/extra.mk: sanitizer builds, fuzzing and the test tools (included by the Makefile).
#
#   make sanitize   ASan+UBSan build in build-asan/, then the C-program tests
#                   (unit tests, t_options, t_faults, t_hostile, t_scale, t_footprint) re-run
#                   against it with CB_BIN=build-asan
#   make tsan       the same with ThreadSanitizer in build-tsan/
#   make fuzz       libFuzzer harnesses in build-fuzz/, each run FUZZ_TIME seconds
#
# CB_QUICK=1 (the default for these targets) shortens the loops of the re-run
# tests (10 kills per technique instead of 100, shorter windows); CB_QUICK=0
# runs them in full.

SAN_CC     ?= clang
SAN_COMMON := -std=gnu11 -Wall -Wextra -Werror -pthread -O1 -g -fno-omit-frame-pointer -Isrc
ASAN_FLAGS := $(SAN_COMMON) -fsanitize=address,undefined -fno-sanitize-recover=undefined
TSAN_FLAGS := $(SAN_COMMON) -fsanitize=thread
FUZZ_FLAGS := -std=gnu11 -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TIME  ?= 20
CB_QUICK   ?= 1
SAN_TESTS  ?= t_options t_faults t_hostile t_scale t_footprint

UNIT_SRCS  := $(wildcard tests/unit_*.c)
# The fuzz harnesses exercise the wire codec and the receiver's framing only.
FUZZ_SRC   := src/base.c src/hist.c src/wire.c

# ---- the tool the hostile tests use (a normal build) ----------------------
tests/bin/cb_peer: tests/tools/cb_peer.c $(LIB_OBJ) $(LIB_HDR)
	@mkdir -p tests/bin
	$(CC) $(CFLAGS) -o $@ tests/tools/cb_peer.c $(LIB_OBJ) $(LDFLAGS) -lm

# LD_PRELOAD shims: setsockopt(SO_ZEROCOPY) made to fail (tests/t_truth.sh); the kernel's
# TCP_INFO counts read as each socket is closed, and one client thread made slow (t_numbers.sh).
SHIMS := tests/bin/fail_zerocopy.so tests/bin/tcp_count.so tests/bin/slow_thread.so
$(SHIMS): tests/bin/%.so: tests/tools/%.c
	@mkdir -p tests/bin
	$(CC) -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

# An LD_PRELOAD shim for short zero-copy sends and POLLHUP without completions (tests/t_timing.sh).
tests/bin/zc_faults.so: tests/tools/zc_faults.c
	@mkdir -p tests/bin
	$(CC) -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

# Runs a program with io_uring_setup refused by a seccomp filter (tests/t_truth.sh, A4).
tests/bin/no_uring: tests/tools/no_uring.c
	@mkdir -p tests/bin
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

# ---- sanitizer builds -----------------------------------------------------
# build-asan/ and build-tsan/ hold the eight programs and tests/bin/unit_*.
define SAN_BUILD
$(1)/%.o: %.c $(LIB_HDR)
	@mkdir -p $$(dir $$@)
	$$(SAN_CC) $(2) -c -o $$@ $$<

$(addprefix $(1)/,$(PROGS)): $(1)/%: $(1)/%.o $(addprefix $(1)/,$(LIB_OBJ))
	$$(SAN_CC) $(2) -o $$@ $$^ -lm $$($$*_LIBS)

$(1)/tests/bin/%: tests/%.c $(addprefix $(1)/,$(LIB_OBJ)) $(LIB_HDR)
	@mkdir -p $(1)/tests/bin
	$$(SAN_CC) $(2) -o $$@ $$< $(addprefix $(1)/,$(LIB_OBJ)) -lm

$(1)-build: $(addprefix $(1)/,$(PROGS)) $(patsubst tests/%.c,$(1)/tests/bin/%,$(UNIT_SRCS))
endef
$(eval $(call SAN_BUILD,build-asan,$(ASAN_FLAGS)))
$(eval $(call SAN_BUILD,build-tsan,$(TSAN_FLAGS)))

.PHONY: build-asan-build build-tsan-build fuzz fuzz-build
sanitize: build-asan-build tests/bin/cb_peer
	CB_SAN=asan CB_QUICK=$(CB_QUICK) SAN_TESTS="$(SAN_TESTS)" bash tests/t_sanitize.sh --run

tsan: build-tsan-build tests/bin/cb_peer
	CB_SAN=tsan CB_QUICK=$(CB_QUICK) SAN_TESTS="$(SAN_TESTS)" bash tests/t_sanitize.sh --run

# ---- fuzzing --------------------------------------------------------------
build-fuzz/%: tests/%.c $(LIB_SRC) $(LIB_HDR)
	@mkdir -p build-fuzz
	$(SAN_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRC) -lm

fuzz-build: build-fuzz/fuzz_hello build-fuzz/fuzz_rx

fuzz: fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) bash tests/t_fuzz.sh --run
