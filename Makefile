# onyx - neural networks in Pure Data.
#
#   make            the onyx command (bin/onyx) and the Pd library (onyx~.pd_linux,
#                   onyx.pd_linux)
#   make pd         the Pd library alone;  make cli: bin/onyx alone
#   make install    the Pd library as one folder, $(DESTDIR)$(PDLIBDIR)/onyx/
#                   (DESTDIR and PDLIBDIR as with pd-lib-builder; PDLIBDIR
#                   defaults to /usr/local/lib/pd-externals): both externals, the help
#                   patches beside them, the models they load, the README
#   make install-cli  bin/onyx into $(DESTDIR)$(PREFIX)/bin (PREFIX=/usr/local)
#   make deken      that folder as deken packages for Linux amd64, armv7 (Bela)
#                   and arm64 (Bela Gem): build/deken/onyx[vVERSION](Linux-*-32).dek
#   make test       every test (unit, conformance in both BLAS builds, malformed
#                   models under ASan+UBSan, PyTorch-exported models, the Pd
#                   objects, and the Bela builds under qemu)
#   make models     the model zoo in models/zoo/ (PyTorch -> ONNX + references)
#   make bench      onyx vs PyTorch on every zoo model -> bench/results.{md,svg}
#   make BLAS=none  build the engine's own GEMM instead of OpenBLAS
#
# Bela (README, "Bela"):
#   make PLATFORM=bela   Bela and Bela Mini: armv7-a, Cortex-A8, NEON, hard float
#   make PLATFORM=gem    Bela Gem: aarch64, Cortex-A53
#                        both build build/<platform>/onyx, onyx~.pd_linux and
#                        onyx.pd_linux with the engine's own GEMM (BLAS=none);
#                        on a PC with Debian's cross compilers, on the board
#                        with its own gcc
#   make PLATFORM=bela unit   the unit tests for that board, build/bela/tests/
#   make bench-arm       instructions per inference under qemu, both boards
#
# Objects go to build/<variant>/ so the OpenBLAS, BLAS=none, sanitizer and
# board builds live side by side.

PLATFORM ?=
ifeq ($(PLATFORM),)
BLAS ?= openblas
else
BLAS ?= none
endif
SAN ?=
VARIANT ?= $(or $(PLATFORM),$(BLAS))$(if $(SAN),-san)
BUILD := build/$(VARIANT)

CC ?= cc
OPT ?= -O2
# -fvisibility=hidden: the engine is linked into each Pd external, and keeps
# its symbols to itself there
CFLAGS_ONYX := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(OPT) -g -Wall -Wextra -Wshadow -fPIC -fno-math-errno \
	-fvisibility=hidden -Ikernels -Isrc/engine
LDLIBS_ONYX := -lm -lpthread
PKG_CONFIG ?= pkg-config

ifeq ($(BLAS),openblas)
CFLAGS_ONYX += -DONYX_USE_OPENBLAS
LDLIBS_ONYX += -lopenblas
else ifneq ($(BLAS),none)
$(error BLAS must be openblas or none)
endif

ifneq ($(SAN),)
CFLAGS_ONYX += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS_ONYX += -fsanitize=address,undefined
endif

ENGINE_SRC := $(wildcard kernels/*.c kernels/*/*.c) $(wildcard src/engine/*.c)
ENGINE_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(ENGINE_SRC))
CLI_SRC := $(wildcard src/cli/*.c)
CLI_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.DEFAULT_GOAL := default
# PLATFORM=bela | gem: flags, cross compiler, qemu, the externals' rules
include mk/platform.mk
# Check's 4 s default timeouts are for a native build on an idle machine;
# the sanitizers run several times slower (test_conv took longer on a loaded
# 2-core machine)
ifneq ($(SAN),)
UNIT_ENV += CK_TIMEOUT_MULTIPLIER=10
endif
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck)

# the command: bin/onyx for the default build, build/<variant>/onyx otherwise
ifeq ($(VARIANT),openblas)
ONYX_BIN := bin/onyx
else
ONYX_BIN := $(BUILD)/onyx
endif

.PHONY: default cli unit test test-unit test-conformance test-malformed \
	test-torch
default: cli

cli: $(ONYX_BIN)

$(ONYX_BIN): $(CLI_OBJ) $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ONYX) -o $@ $^ $(LDLIBS_ONYX) -lsndfile

$(BUILD)/%.o: %.c $(wildcard kernels/*.h kernels/*/*.h src/engine/*.h src/cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ONYX) $(CFLAGS) -c -o $@ $<

# compiled and linked apart: linking with CFLAGS_ONYX would pull in GCC's
# crtfastmath.o on ARM (PLATFORM=bela), which flushes every denormal
$(BUILD)/tests/%.o: tests/unit/%.c tests/unit/ktest.h tests/unit/pbbuild.h \
	$(wildcard kernels/*.h kernels/*/*.h src/engine/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ONYX) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(ENGINE_OBJ)
	$(CC) $(LDFLAGS_ONYX) -o $@ $^ $(CHECK_LIBS) $(LDLIBS_ONYX)

unit: $(UNIT_BIN)

# Every unit test program; a failure stops make.
test-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; CK_VERBOSITY=minimal $(UNIT_ENV) $(RUN_TARGET) $$t; done

test: cli
	sh tests/run_all.sh

# the model zoo and the trained help-patch models: make models, make test-zoo
include models/models.mk
# onyx vs PyTorch on every zoo model: make bench -> bench/results.{md,svg}
include bench/bench.mk
include tests/fuzz/fuzz.mk

# ---- what an installed onyx/ folder holds (make install, make deken) -------
#   onyx~.pd_linux onyx.pd_linux   the externals
#   onyx~-help.pd onyx-help.pd     the help patches, beside the externals: Pd's
#                                  right-click -> Help looks there
#   models/trained/*.onnx          the models the help patches load, by the
#                                  path models/trained/NAME.onnx: beside them
#                                  once installed, and in the repository (where
#                                  they are in help/) through their
#                                  [declare -path ..]
#   README.md, doc/*.png (its pictures)
PD_HELP := $(wildcard help/*.pd)
PD_DOCS := README.md $(wildcard LICENSE LICENSE.txt)
PD_PICTURES := $(wildcard doc/*.png)
PD_MODELS := $(wildcard models/trained/*.onnx)

# the onyx command is not part of the Pd folder: make install-cli puts it in
# $(DESTDIR)$(PREFIX)/bin
PREFIX ?= /usr/local
.PHONY: install-cli
install-cli: cli
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 755 $(ONYX_BIN) "$(DESTDIR)$(PREFIX)/bin/onyx"

# deken packages of that folder, one per architecture: make deken
include mk/deken.mk

# ---- the Pd library -------------------------------------------------------
#   make pd          onyx~.pd_linux and onyx.pd_linux: in the top folder for
#                    this machine, in build/<platform>/ for a board; linked
#                    from objects in build/<variant>/ (the engine is compiled
#                    into each external with hidden visibility; only the
#                    classes' setup functions are exported, ONYXPD_EXPORT)
#   make pd-rtcheck  the same with -DONYX_RT_CHECK, in build/pd-rtcheck/, for
#                    the real-time-safety test (tests/pd/run.sh)
#   make install     the folder described above, in $(DESTDIR)$(PDLIBDIR)/onyx/
#                    (PDLIBDIR=/usr/local/lib/pd-externals unless given)
# The engine relies on IEEE semantics (NaN, Inf): no -ffast-math here, as
# pd-lib-builder would add.
PD_CLASSES := src/pd/onyx~.c src/pd/onyx.c
PD_GLUE := src/pd/onyx_pd.c
ifeq ($(PLATFORM),)
PD_BIN := onyx~.pd_linux onyx.pd_linux
$(PD_BIN): %.pd_linux: $(BUILD)/pd/%.o $(PLATFORM_PD_GLUE_OBJ) $(ENGINE_OBJ)
	$(CC) $(LDFLAGS_ONYX) -shared -o $@ $^ $(LDLIBS_ONYX)
else
PD_BIN := $(PLATFORM_PD_BIN)
endif
default: pd
pd: $(PD_BIN)

PDLIBDIR ?= /usr/local/lib/pd-externals
PD_INSTALL_DIR = $(DESTDIR)$(PDLIBDIR)/onyx
install: pd
	install -d "$(PD_INSTALL_DIR)/models/trained" "$(PD_INSTALL_DIR)/doc"
	install -p -m 644 $(PD_BIN) $(PD_HELP) $(PD_DOCS) "$(PD_INSTALL_DIR)"
	install -p -m 644 $(PD_MODELS) "$(PD_INSTALL_DIR)/models/trained"
	install -p -m 644 $(PD_PICTURES) "$(PD_INSTALL_DIR)/doc"

clean:
	rm -rf build bin onyx~.pd_linux onyx.pd_linux
.PHONY: pd pd-rtcheck install clean

PD_RT_DIR := build/pd-rtcheck
PD_RT_BIN := $(PD_RT_DIR)/onyx~.pd_linux $(PD_RT_DIR)/onyx.pd_linux
pd-rtcheck: $(PD_RT_BIN)
$(PD_RT_DIR)/%.pd_linux: src/pd/%.c $(PD_GLUE) src/pd/onyx_pd.h $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ONYX) -DPD -DONYX_RT_CHECK -I$(PD_INCLUDE) -Isrc/pd \
		-shared -o $@ $< $(PD_GLUE) $(ENGINE_OBJ) $(LDLIBS_ONYX)

# ---- Pd hardening: ThreadSanitizer build, soak test (tests/pd, tests/soak) ----
#   make pd-tsan   onyx~.pd_linux and onyx.pd_linux built with -fsanitize=thread
#                  into build/pd-tsan/ (engine compiled in, BLAS=none so that
#                  every thread's code is instrumented), for tests/pd/run.sh
#   make soak      tests/soak/soak.sh: [onyx~] threaded at real-time pace for
#                  SOAK_SECONDS (default 600) while models are swapped
PD_TSAN_DIR := build/pd-tsan
PD_TSAN_CFLAGS := $(filter-out -DONYX_USE_OPENBLAS -O2,$(CFLAGS_ONYX)) -O1 \
	-fsanitize=thread -fno-omit-frame-pointer
PD_TSAN_OBJ := $(patsubst %.c,$(PD_TSAN_DIR)/obj/%.o,$(ENGINE_SRC) $(PD_GLUE))
.PHONY: pd-tsan soak
pd-tsan: $(PD_TSAN_DIR)/onyx~.pd_linux $(PD_TSAN_DIR)/onyx.pd_linux
$(PD_TSAN_DIR)/obj/%.o: %.c $(wildcard kernels/*.h src/engine/*.h src/pd/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PD_TSAN_CFLAGS) -DPD -I$(PD_INCLUDE) -Isrc/pd -c -o $@ $<
$(PD_TSAN_DIR)/%.pd_linux: $(PD_TSAN_DIR)/obj/src/pd/%.o $(PD_TSAN_OBJ)
	$(CC) -fsanitize=thread -shared -o $@ $^ -lm -lpthread
soak:
	$(MAKE) -s pd cli
	sh tests/soak/soak.sh
# ---- end of Pd hardening ----
