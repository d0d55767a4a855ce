# Fuzzing the loader, the runtime and the tensor readers (tests/fuzz/README.md);
# included by the Makefile.
#
#   make fuzz             build the libFuzzer harnesses (clang, ASan + UBSan)
#                         in build/fuzz/ and run each for FUZZ_SECONDS (60);
#                         fails when one finds a crash (kept in build/fuzz/crashes/)
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS="load run"
#   make fuzz-seeds       the seed corpus in build/fuzz/corpus/ (grows as fuzzing runs)
#   make fuzz-replay      every input in tests/fuzz/regressions/ through the
#                         harnesses built with gcc, ASan + UBSan, without libFuzzer

PYTHON3 ?= /usr/bin/python3
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= load run tensor
FUZZ_DIR := build/fuzz
FUZZ_REPLAY_DIR := build/fuzz-replay
FUZZ_TESTDATA ?= /usr/share/libonnx-testdata/data

# the engine with its own GEMM (BLAS=none): everything the fuzzers reach is
# instrumented; libFuzzer's coverage for the engine, the harness linked with it
FUZZ_SAN := -fsanitize=address,undefined,float-cast-overflow \
	-fno-sanitize-recover=undefined,float-cast-overflow \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -O1 -g -Wall -Wextra \
	-Wshadow -Wno-unknown-pragmas -fno-math-errno -Ikernels -Isrc/engine -Isrc/cli $(FUZZ_SAN)
FUZZ_ENGINE_SRC := $(wildcard kernels/*.c kernels/*/*.c) $(wildcard src/engine/*.c) src/cli/tensor_io.c
FUZZ_HEADERS := $(wildcard kernels/*.h kernels/*/*.h src/engine/*.h src/cli/*.h tests/fuzz/*.h)
FUZZ_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_ENGINE_SRC))
FUZZ_REPLAY_OBJ := $(patsubst %.c,$(FUZZ_REPLAY_DIR)/obj/%.o,$(FUZZ_ENGINE_SRC))
FUZZ_BIN := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_REPLAY_BIN := $(patsubst %,$(FUZZ_REPLAY_DIR)/fuzz_%,load run tensor)

# per harness: largest input (models up to 16 MB; tensors up to 2 MB)
FUZZ_MAX_LEN_load := 16777216
FUZZ_MAX_LEN_run := 16777216
FUZZ_MAX_LEN_tensor := 2097152
FUZZ_OPTS := -timeout=10 -rss_limit_mb=3072 -print_final_stats=1

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-replay

$(FUZZ_DIR)/obj/%.o: %.c $(FUZZ_HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) -lm -lpthread

$(FUZZ_REPLAY_DIR)/obj/%.o: %.c $(FUZZ_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_REPLAY_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_REPLAY_OBJ)
	$(CC) $(FUZZ_CFLAGS) -o $@ $< tests/fuzz/replay.c $(FUZZ_REPLAY_OBJ) -lm -lpthread

fuzz-build: $(FUZZ_BIN)

$(FUZZ_DIR)/corpus/.seeded: tests/fuzz/seeds.py
	$(PYTHON3) tests/fuzz/seeds.py $(FUZZ_DIR)/corpus $(FUZZ_TESTDATA)
	@touch $@

fuzz-seeds: $(FUZZ_DIR)/corpus/.seeded

# Each harness runs FUZZ_SECONDS on its corpus (plus the regressions); a
# crash, leak, sanitizer report or timeout stops it and leaves the input in
# build/fuzz/crashes/<harness>/. All harnesses run; the rule then fails if
# any found something.
fuzz: $(FUZZ_BIN) $(FUZZ_DIR)/corpus/.seeded
	@fail=0; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/crashes/$$t; \
	    echo "== fuzz_$$t: $(FUZZ_SECONDS) s (log: $(FUZZ_DIR)/fuzz_$$t.log)"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./$(FUZZ_DIR)/fuzz_$$t $(FUZZ_OPTS) \
	        -max_total_time=$(FUZZ_SECONDS) \
	        -max_len=$$(case $$t in tensor) echo $(FUZZ_MAX_LEN_tensor);; \
	                  *) echo $(FUZZ_MAX_LEN_load);; esac) \
	        -artifact_prefix=$(FUZZ_DIR)/crashes/$$t/ \
	        $(FUZZ_DIR)/corpus/$$t tests/fuzz/regressions/$$t \
	        >$(FUZZ_DIR)/fuzz_$$t.log 2>&1; rc=$$?; \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/fuzz_$$t.log); \
	    secs=$$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' $(FUZZ_DIR)/fuzz_$$t.log); \
	    echo "fuzz_$$t: $${runs:-?} executions$${secs:+ in $$secs s}, exit $$rc"; \
	    if [ $$rc -ne 0 ]; then \
	        fail=1; grep -m1 -E 'ERROR|runtime error|SUMMARY' $(FUZZ_DIR)/fuzz_$$t.log; \
	        ls $(FUZZ_DIR)/crashes/$$t/; \
	    fi; \
	done; exit $$fail

# Replays every committed regression input; exits non-zero on any report.
fuzz-replay: $(FUZZ_REPLAY_BIN)
	@set -e; for t in load run tensor; do \
	    echo "== fuzz_$$t: tests/fuzz/regressions/$$t"; \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	        ./$(FUZZ_REPLAY_DIR)/fuzz_$$t tests/fuzz/regressions/$$t; \
	done; echo "fuzz-replay: every regression input passed"
