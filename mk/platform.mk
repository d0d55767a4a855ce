# Board builds: make PLATFORM=bela | gem; included by the Makefile.
#
#   bela   Bela, Bela Mini (BeagleBone Black / PocketBeagle, AM335x):
#          one Cortex-A8, armv7-a with NEON, 32-bit hard float
#   gem    Bela Gem (PocketBeagle 2, AM62x): Cortex-A53, aarch64
#
# On a PC the build uses Debian's cross compilers (gcc-arm-linux-gnueabihf,
# gcc-aarch64-linux-gnu) and runs what it built (unit tests, bench-arm)
# under qemu-user; on the board itself it uses the board's cc and runs
# natively. CC=... on the command line overrides either.

HOST_ARCH := $(shell uname -m)
RUN_TARGET :=
UNIT_ENV :=

ifeq ($(PLATFORM),bela)
TARGET_TRIPLET := arm-linux-gnueabihf
TARGET_NATIVE := $(filter armv7%,$(HOST_ARCH))
QEMU_TARGET := qemu-arm
PLATFORM_CFLAGS := -march=armv7-a -mtune=cortex-a8 -mfpu=neon -mfloat-abi=hard
# GCC compiles float vector code (the GNU C vector types of kernels/math/vmath.h
# and the kernels) to NEON on 32-bit ARM only under
# -funsafe-math-optimizations, because NEON flushes denormals to zero; without
# it every vector operation becomes four scalar VFP ones. The parts of that
# flag that change results are switched back off: no reassociation (sums in
# the same order as on x86, and the round-to-integer trick of vmath.h
# survives), no reciprocals, signed zeros kept.
PLATFORM_CFLAGS += -funsafe-math-optimizations -fno-associative-math \
	-fno-reciprocal-math -fsigned-zeros
# 32-bit NEON has no vector division: the unary ops' loops that divide
# (tanh, sigmoid, softsign...) are vectorised only when GCC may use its
# reciprocal estimate refined by Newton steps (as vmath.h's 4-lane division
# does by hand), so that file gets reciprocal math back.
PLATFORM_FILE_CFLAGS_unary := -freciprocal-math
else ifeq ($(PLATFORM),gem)
TARGET_TRIPLET := aarch64-linux-gnu
TARGET_NATIVE := $(filter aarch64 arm64,$(HOST_ARCH))
QEMU_TARGET := qemu-aarch64
PLATFORM_CFLAGS := -mcpu=cortex-a53
else ifneq ($(PLATFORM),)
$(error PLATFORM must be bela or gem (or left empty for this machine))
endif

ifneq ($(PLATFORM),)
ifneq ($(BLAS),none)
$(error PLATFORM=$(PLATFORM) builds the engine's own GEMM only (BLAS=none))
endif
CFLAGS_ONYX += $(PLATFORM_CFLAGS)
ifeq ($(TARGET_NATIVE),)
# cross build from a PC; qemu runs the results with the target's libraries
# from Debian's multiarch folders (dpkg --add-architecture armhf / arm64)
ifeq ($(origin CC),default)
CC := $(TARGET_TRIPLET)-gcc
endif
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(TARGET_TRIPLET)/pkgconfig pkg-config
QEMU_ROOT ?= /
RUN_TARGET := $(QEMU_TARGET) -L $(QEMU_ROOT)
# Check's 4 s timeouts are for native speed
UNIT_ENV := CK_TIMEOUT_MULTIPLIER=20
endif
endif

# per-file flags (PLATFORM_FILE_CFLAGS_<file>) for the engine's objects
$(BUILD)/kernels/unary.o: CFLAGS_ONYX += $(PLATFORM_FILE_CFLAGS_unary)

# ---- the Pd externals of a build: build/<variant>/onyx~.pd_linux ----------
# make pd for a board; make deken's amd64 package on a PC (where make pd puts
# them in the top folder). PD_INCLUDE is where m_pd.h is: Debian's
# puredata-dev on a PC, /usr/local/include/libpd on a Bela image.
PD_INCLUDE ?= $(firstword $(wildcard /usr/include/pd /usr/local/include/libpd \
	/usr/local/include/pd) /usr/include/pd)
PLATFORM_PD_BIN := $(BUILD)/onyx~.pd_linux $(BUILD)/onyx.pd_linux
PLATFORM_PD_GLUE_OBJ := $(BUILD)/pd/onyx_pd.o

.PHONY: platform-pd
platform-pd: $(PLATFORM_PD_BIN)
# kept: make would delete them as intermediates and rebuild them every time
.SECONDARY: $(BUILD)/pd/onyx~.o $(BUILD)/pd/onyx.o $(PLATFORM_PD_GLUE_OBJ)

$(BUILD)/pd/%.o: src/pd/%.c $(wildcard kernels/*.h kernels/*/*.h src/engine/*.h src/pd/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ONYX) $(CFLAGS) -DPD -I$(PD_INCLUDE) -Isrc/pd -c -o $@ $<

$(BUILD)/%.pd_linux: $(BUILD)/pd/%.o $(PLATFORM_PD_GLUE_OBJ) $(ENGINE_OBJ)
	$(CC) $(LDFLAGS_ONYX) -shared -o $@ $^ $(LDLIBS_ONYX)

# build/<platform>/onyx-run: the board's onyx command through qemu (directly
# on the board), for the test scripts that take an onyx binary
PLATFORM_RUNNER := $(BUILD)/onyx-run
.PHONY: platform-runner
platform-runner: $(PLATFORM_RUNNER)
$(PLATFORM_RUNNER): $(ONYX_BIN) mk/platform.mk
	printf '#!/bin/sh\nexec %s "%s" "$$@"\n' "$(RUN_TARGET)" "$(abspath $(ONYX_BIN))" >$@
	chmod +x $@

# ---- the real-time check build of a board's externals ----------------------
# build/<platform>/rtcheck/: onyx~.pd_linux and onyx.pd_linux with
# -DONYX_RT_CHECK (as make pd-rtcheck on the PC), and tests/pd/rtcheck.c
# built for the board as librtcheck.so; tests/pd/arm.sh preloads it into
# the board's Pd under qemu (qemu-arm -E LD_PRELOAD=...)
PLATFORM_RT_DIR := $(BUILD)/rtcheck
PLATFORM_RT_BIN := $(PLATFORM_RT_DIR)/onyx~.pd_linux $(PLATFORM_RT_DIR)/onyx.pd_linux \
	$(PLATFORM_RT_DIR)/librtcheck.so
.PHONY: platform-rtcheck
platform-rtcheck: $(PLATFORM_RT_BIN)

$(PLATFORM_RT_DIR)/pd/%.o: src/pd/%.c $(wildcard kernels/*.h kernels/*/*.h src/engine/*.h src/pd/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ONYX) $(CFLAGS) -DPD -DONYX_RT_CHECK -I$(PD_INCLUDE) -Isrc/pd -c -o $@ $<

$(PLATFORM_RT_DIR)/%.pd_linux: $(PLATFORM_RT_DIR)/pd/%.o $(PLATFORM_RT_DIR)/pd/onyx_pd.o $(ENGINE_OBJ)
	$(CC) $(LDFLAGS_ONYX) -shared -o $@ $^ $(LDLIBS_ONYX)

$(PLATFORM_RT_DIR)/librtcheck.so: tests/pd/rtcheck.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Wshadow -fPIC -shared -o $@ $< -ldl
