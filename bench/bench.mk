# onyx against PyTorch on every zoo model; included by the Makefile.
#
#   make bench     bench/results.md, results.svg, results.json (a few minutes):
#                  PyTorch eager, TorchScript and onyx on every zoo model, one
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
