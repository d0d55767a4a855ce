# onyx against PyTorch on every zoo model; included by the Makefile.
#
#   make bench     bench/results.md, results.svg, results.json (a few minutes):
#                  PyTorch eager, TorchScript, ONNX Runtime and onyx on every zoo model, one
#                  thread, plus single-core cblas_sgemm and read bandwidth on the
#                  shapes of the GEMM- and memory-bound models (bench/README.md)
#
# BENCH_ARGS passes options to bench/compare.py, e.g.
#   make bench BENCH_ARGS="--seconds 1 --rounds 5 gru32 lstm32"

PYTHON3 ?= /usr/bin/python3
SGEMM_PEAK := build/bench/sgemm_peak
BENCH_CFLAGS ?= -O2 -march=native
BENCH_ARGS ?=

.PHONY: bench

$(SGEMM_PEAK): bench/sgemm_peak.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(BENCH_CFLAGS) -Wall -Wextra -o $@ $< -lopenblas

bench: cli models $(SGEMM_PEAK)
	$(PYTHON3) bench/compare.py --onyx $(ONYX_BIN) --sgemm-peak $(SGEMM_PEAK) $(BENCH_ARGS)

# ---- make bench-gru: per-sample GRU against a plain C step (issue 12) ------
GRU_PLAIN := build/bench/gru_plain
.PHONY: bench-gru
$(GRU_PLAIN): bench/gru_plain.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O3 -ffast-math -march=native -Wall -Wextra -o $@ $< -lm

bench-gru: cli models $(GRU_PLAIN)
	$(PYTHON3) bench/gru_plain.py --onyx $(ONYX_BIN) --plain $(GRU_PLAIN) $(BENCH_GRU_ARGS)

# ---- make bench-arm: instructions per inference on both Bela boards ----------
#   make bench-arm     bench/results.arm.{md,json}: every zoo and trained model
#                      counted under qemu-arm / qemu-aarch64 (bench/arm/)
#   make bench-arm BENCH_ARM_ARGS="gru32 single_mm"   only those models
HOST_CC ?= cc
INSN_PLUGIN := build/bench/insn_plugin.so
BENCH_ARM_ARGS ?=
.PHONY: bench-arm insn-run

$(INSN_PLUGIN): bench/arm/insn_plugin.c
	@mkdir -p $(dir $@)
	$(HOST_CC) -O2 -Wall -Wextra -shared -fPIC -o $@ $<

# build/<platform>/insn_run (with PLATFORM=bela or gem), and insn_run-nopie
# for bench/arm/insn_prof.py (its addresses are the symbols' addresses)
insn-run: $(BUILD)/insn_run $(BUILD)/insn_run-nopie
$(BUILD)/insn_run.o: bench/arm/insn_run.c $(wildcard kernels/*.h src/engine/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ONYX) $(CFLAGS) -c -o $@ $<
$(BUILD)/insn_run: $(BUILD)/insn_run.o $(ENGINE_OBJ)
	$(CC) $(LDFLAGS_ONYX) -o $@ $^ $(LDLIBS_ONYX)
$(BUILD)/insn_run-nopie: $(BUILD)/insn_run.o $(ENGINE_OBJ)
	$(CC) $(LDFLAGS_ONYX) -no-pie -o $@ $^ $(LDLIBS_ONYX)

bench-arm: $(INSN_PLUGIN)
	$(MAKE) -s PLATFORM=bela insn-run
	$(MAKE) -s PLATFORM=gem insn-run
	$(if $(wildcard models/zoo),,$(MAKE) -s models)
	$(PYTHON3) bench/arm/bench_arm.py $(BENCH_ARM_ARGS)
