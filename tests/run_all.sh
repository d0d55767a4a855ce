#!/bin/sh
# Every test of onyx; `make test` runs this. Stops at the first failure.
#   1. unit tests (Check), OpenBLAS build
#   2. ONNX conformance: all core tests must pass, OpenBLAS build; ONNX's
#      whole node suite, but for the tests listed in tests/node/refused.txt;
#      the Silero VAD (legacy, v5, v6) and openWakeWord (front end,
#      embedding, its Silero v4, nine classifiers) against ONNX Runtime
#   3. the same two with the engine's own GEMM (make BLAS=none)
#   4. malformed models, command, unit tests and conformance under ASan + UBSan,
#      and the fuzzers' regression inputs
#   5. the command's interface (exit statuses, input errors)
#   6. PyTorch-exported models (MLP, Conv1d, GRU, LSTM, Transformer) vs PyTorch
#   7. onyx process (the streaming runner) vs PyTorch and onyx run
#   8. the model zoo and trained models vs PyTorch (also under ASan + UBSan),
#      block-by-block streaming, and `onyx run` of each under valgrind
#   9. onyx bench (its JSON and trace files)
#  10. the Pd objects, headless: numbers, latency, pacing, errors, real-time
#      safety (an interposer), leaks (valgrind), help patches, and make
#      install into a folder of its own, the help played from there
#  11. the Bela builds (make PLATFORM=bela, PLATFORM=gem; warnings are errors)
#      under qemu: unit tests, conformance, the zoo and trained models, and
#      the Pd externals in Debian's ARM Pd (tests/pd/arm.sh), and a short
#      make bench-arm (instructions per inference, both boards); the deken
#      packages (make deken: amd64, armv7, arm64), each unzipped and its help
#      played in Pd of its architecture (tests/pd/deken.sh)
set -eu
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
OUT=${ONYX_TEST_OUT:-build/test-out}
mkdir -p "$OUT"
LIST=tests/conformance/core_tests.txt
WANT="$(grep -c . $LIST) passed, 0 failed, 0 skipped"

step() { printf '\n=== %s\n' "$*"; }

conformance() { # $1: onyx binary, $2: label
    "$1" test $LIST >"$OUT/conformance-$2.txt" 2>&1 || true
    grep -v -e '^PASS' -e ' passed, .* failed, .* skipped$' "$OUT/conformance-$2.txt" || true
    got=$(tail -n 1 "$OUT/conformance-$2.txt")
    echo "conformance ($2): $got"
    [ "$got" = "$WANT" ] || { echo "expected: $WANT"; exit 1; }
}

step "unit tests (OpenBLAS)"
make -s -j"$JOBS" cli unit
make -s test-unit

step "conformance (OpenBLAS)"
conformance bin/onyx openblas

step "ONNX's node test suite (all but tests/node/refused.txt)"
sh tests/node/check.sh bin/onyx "$OUT/node"

step "third-party models against ONNX Runtime (tests/thirdparty/)"
/usr/bin/python3 tests/thirdparty/silero_vad.py bin/onyx "$OUT/silero"
/usr/bin/python3 tests/thirdparty/openwakeword.py bin/onyx "$OUT/openwakeword"

step "half-precision models (float16, bfloat16) against float32"
/usr/bin/python3 tests/models/half_models.py bin/onyx "$OUT/half"

step "the onyx command's interface"
sh tests/cli/check.sh bin/onyx "$OUT/cli"

step "unit tests (BLAS=none)"
make -s -j"$JOBS" BLAS=none cli unit
make -s BLAS=none test-unit

step "conformance (BLAS=none)"
conformance build/none/onyx none

step "ASan + UBSan: malformed models, unit tests, conformance"
make -s -j"$JOBS" SAN=1 OPT=-O1 cli unit
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
sh tests/malformed/check.sh build/openblas-san/onyx "$OUT/malformed"
sh tests/cli/check.sh build/openblas-san/onyx "$OUT/cli-san"
/usr/bin/python3 tests/stream/check.py build/openblas-san/onyx "$OUT/stream-san"
make -s SAN=1 OPT=-O1 test-unit
conformance build/openblas-san/onyx san
make -s fuzz-replay

step "PyTorch-exported models vs PyTorch"
/usr/bin/python3 tests/models/torch_models.py bin/onyx "$OUT/torch"

step "onyx process (streaming runner) vs PyTorch and onyx run"
/usr/bin/python3 tests/stream/check.py bin/onyx "$OUT/stream"

step "model zoo and trained models vs PyTorch; streaming"
make -s models
/usr/bin/python3 tests/zoo/accuracy.py bin/onyx "$OUT/zoo" models/zoo models/trained
/usr/bin/python3 tests/zoo/accuracy.py build/none/onyx "$OUT/zoo-none" models/zoo models/trained
/usr/bin/python3 tests/zoo/streaming.py bin/onyx "$OUT/zoo-stream" models/zoo models/trained
/usr/bin/python3 tests/zoo/accuracy.py build/openblas-san/onyx "$OUT/zoo-san" models/zoo models/trained
sh tests/valgrind_run.sh bin/onyx "$OUT/valgrind" "$OUT/malformed/models"

step "onyx bench: options, JSON, trace"
sh tests/bench/check.sh bin/onyx "$OUT/bench"

step "Pd objects: headless patches, latency, real-time safety, leaks, make install"
make -s -j"$JOBS" pd
sh tests/pd/run.sh

step "Bela (armv7 NEON) and Bela Gem (aarch64) under qemu: unit, conformance, zoo, Pd; deken packages"
for p in bela gem; do
    make -s -j"$JOBS" PLATFORM=$p CFLAGS=-Werror default unit platform-runner
    make -s PLATFORM=$p test-unit
    conformance build/$p/onyx-run $p
    /usr/bin/python3 tests/zoo/accuracy.py build/$p/onyx-run "$OUT/zoo-$p" models/zoo models/trained
    /usr/bin/python3 tests/zoo/streaming.py build/$p/onyx-run "$OUT/zoo-stream-$p" models/zoo models/trained
    sh tests/pd/arm.sh $p
done
sh tests/arm/check.sh "$OUT/arm"
sh tests/pd/deken.sh

printf '\nall tests passed\n'
