#!/bin/sh
# The Bela builds' code, checked where qemu's counts mean something:
#   1. the hot loops are NEON code (objdump of each board's objects:
#      tests/arm/fpstat.py), for the GEMM and GEMV micro-kernels, the fused
#      GRU and LSTM steps, the recurrent cells' activations, the unary ops,
#      softmax;
#   2. make bench-arm's counts (instructions per inference under qemu, exact
#      and repeatable, unlike time under emulation) on a few models, held to
#      the goals of issue 10: per-sample GRU-8 and GRU-16 within 0.6x
#      RTNeural's instructions on both boards, through the run API and
#      through the streaming runner as [onyx~] drives it, the help patch's overdrive
#      (GRU-16) within 15% of a Cortex-A8's 44.1 kHz budget by the estimate,
#      siren_mlp at 2 or more multiply-adds per instruction, and at least 90%
#      of the executed float arithmetic as 4-float vectors in each.
# usage: tests/arm/check.sh WORKDIR   (after make PLATFORM=bela, PLATFORM=gem)
set -eu
cd "$(dirname "$0")/../.."
OUT=${1:-build/test-out/arm}
mkdir -p "$OUT"
PY=/usr/bin/python3
FAILS=0

echo "== hot loops are NEON code (objdump)"
HOT="onyx_gemv_f32_neon neon_panel16 rnn_act_apply unary_eval softmax_eval"
for p in bela gem; do
    case $p in
    bela) dump=arm-linux-gnueabihf-objdump
          own="f32_gemm_6x8_neon onyx_gru_step_neon onyx_lstm_step_neon" ;;
    gem) dump=aarch64-linux-gnu-objdump
         own="f32_gemm_8x8_neonfma onyx_gru_step_neon64 onyx_lstm_step_neon64" ;;
    esac
    # shellcheck disable=SC2086
    if $PY tests/arm/fpstat.py $dump build/$p/kernels/*.o build/$p/kernels/math/*.o build/$p/kernels/arch/*.o \
        --check $own $HOT >"$OUT/fpstat-$p.txt"; then
        echo "PASS $p: $(grep -c '^CHECK ok' "$OUT/fpstat-$p.txt") hot functions are NEON code"
    else
        grep '^CHECK' "$OUT/fpstat-$p.txt"
        echo "FAIL $p: a hot function has no NEON code (see $OUT/fpstat-$p.txt)"
        FAILS=$((FAILS + 1))
    fi
done

echo "== instructions per inference under qemu (make bench-arm, a few models)"
make -s build/bench/insn_plugin.so
make -s PLATFORM=bela insn-run
make -s PLATFORM=gem insn-run
$PY bench/arm/bench_arm.py --out "$OUT/bench-arm" gru8 gru16 siren_mlp overdrive \
    >"$OUT/bench-arm.log" 2>&1 || { cat "$OUT/bench-arm.log"; exit 1; }
if $PY - "$OUT/bench-arm.json" <<'PYEOF'
import json, sys
rows = {r["model"]: r for r in json.load(open(sys.argv[1]))["rows"]}
bad = 0
def want(ok, what):
    global bad
    print("%s %s" % ("PASS" if ok else "FAIL", what))
    bad += not ok
for name in ("gru8", "gru16", "siren_mlp", "overdrive"):
    for b in ("bela", "gem"):
        x = rows[name][b]
        share = x["fp_vector"] / max(x["fp_vector"] + x["fp_scalar"], 1)
        want(share >= 0.9, "%s %s: %.0f%% of float arithmetic is vector code" % (name, b, 100 * share))
for name in ("gru8", "gru16"):
    for b in ("bela", "gem"):
        x = rows[name][b]
        want(x["ratio"] <= 0.6, "%s %s run API: %.0f instructions per sample, %.2fx RTNeural's %d (goal 0.6x)"
             % (name, b, x["insns"], x["ratio"], x["rtneural"]))
        want(x["stream_ratio"] <= 0.6, "%s %s streaming runner: %.0f instructions per sample, %.2fx (goal 0.6x)"
             % (name, b, x["stream_insns"], x["stream_ratio"]))
for b in ("bela", "gem"):
    x = rows["siren_mlp"][b]
    want(x["macs_per_insn"] >= 2, "siren_mlp %s: %.2f multiply-adds per instruction (goal 2)"
         % (b, x["macs_per_insn"]))
x = rows["overdrive"]["bela"]
want(x["rt_percent"] <= 15, "overdrive bela: %.1f%% of a Cortex-A8's 44.1 kHz budget (estimate; goal 15%%)"
     % x["rt_percent"])
sys.exit(1 if bad else 0)
PYEOF
then :; else FAILS=$((FAILS + 1)); fi

[ $FAILS = 0 ] || { echo "$FAILS ARM check(s) failed"; exit 1; }
echo "ARM checks passed"
