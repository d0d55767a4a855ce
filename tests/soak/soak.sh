#!/bin/sh
# Soak test of [onyx~] (make soak; not part of make test or tests/pd/run.sh).
#
# [onyx~ -block 64] in threaded mode runs at real-time pace (pd -nosound
# without -batch, -sleepgrain 1, as the pacing tests do) for SOAK_SECONDS
# (default 600) on a sine plus noise, and every SOAK_SWAP_MS (default 3000)
# asks for its stats and loads the next of three models, each calibrated to
# about half of the real-time budget (tests/soak/gen.py, against
# `onyx bench --json` rt_percent). Meanwhile the Pd process is sampled every
# 2 s from /proc: resident size, threads, open files, and how many mappings
# of the soak models it holds (every load maps its file; a bundle that is
# never freed keeps its mapping).
#
# Leaks. valgrind cannot keep real time, so the long run counts memory
# instead: it fails when the resident size grows by more than SOAK_LEAK_MB
# (default 8) between the first minute (all three models loaded by then) and
# the last, when the process ever holds more than 3 model mappings (active,
# finished load, retired) or when threads or open files at the end differ
# from the start. Then a short run of the same patch under valgrind
# (SOAK_VALGRIND_SECONDS, default 10, 0 skips it; a load every 2 s; at
# real-time pace too, so that the worker gets to load and to infer a little:
# under valgrind an inference takes about 0.5 s) must lose no byte
# (definitely or indirectly).
#
# Prints one paragraph; exits 1 on a crash, a hang, a console error or a
# leak. Overruns are counted and reported, not failed: the machine is shared.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECS=${SOAK_SECONDS:-600}
SWAP_MS=${SOAK_SWAP_MS:-3000}
LEAK_MB=${SOAK_LEAK_MB:-8}
VG_SECS=${SOAK_VALGRIND_SECONDS:-10}
OUT=$ROOT/build/soak
PY=/usr/bin/python3
mkdir -p "$OUT"
if [ ! -x bin/onyx ] || [ ! -f onyx~.pd_linux ]; then
    echo "soak: build first (make pd cli)"; exit 2
fi
$PY tests/soak/gen.py "$OUT" bin/onyx >"$OUT/gen.log" 2>&1 || { cat "$OUT/gen.log"; exit 2; }
grep '^soak model' "$OUT/gen.log"

patch() { # out ms swap_ms
    sed -e "s|@MS@|$2|g" -e "s|@SWAP@|$3|g" -e "s|@M0@|$OUT/soak_mm.onnx|g" \
        -e "s|@M1@|$OUT/soak_conv.onnx|g" -e "s|@M2@|$OUT/soak_gru.onnx|g" \
        tests/soak/soak.pd.in >"$1"
}

patch "$OUT/soak.pd" $((SECS * 1000)) "$SWAP_MS"
echo "soak: $SECS s at real-time pace, a load every $SWAP_MS ms (log: $OUT/soak.log)"
pd -noprefs -nosound -nogui -sleepgrain 1 -stderr -path "$ROOT" -open "$OUT/soak.pd" \
    >"$OUT/soak.log" 2>&1 &
PID=$!
t0=$(date +%s)
: >"$OUT/proc.txt" # seconds rss_kB threads fds model_mappings
hung=0
while kill -0 $PID 2>/dev/null; do
    t=$(($(date +%s) - t0))
    rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$PID/status 2>/dev/null)
    thr=$(sed -n 's/^Threads:[[:space:]]*//p' /proc/$PID/status 2>/dev/null)
    fds=$(ls /proc/$PID/fd 2>/dev/null | wc -l)
    maps=$(grep -c 'soak_[a-z]*\.onnx' /proc/$PID/maps 2>/dev/null)
    [ -n "$rss" ] && echo "$t $rss $thr $fds ${maps:-0}" >>"$OUT/proc.txt"
    if [ $t -gt $((SECS + 120)) ]; then
        hung=1; kill $PID; break
    fi
    sleep 2
done
wait $PID
rc=$?
elapsed=$(($(date +%s) - t0))

vg_rc=skipped
if [ "$VG_SECS" != 0 ]; then
    patch "$OUT/soak_vg.pd" $((VG_SECS * 1000)) 2000
    timeout 1800 valgrind --fair-sched=yes --suppressions=tests/pd/valgrind.supp --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=1 pd -noprefs -nosound -nogui -sleepgrain 1 -stderr -path "$ROOT" \
        -open "$OUT/soak_vg.pd" >"$OUT/valgrind.log" 2>&1
    vg_rc=$?
fi

$PY tests/soak/report.py "$OUT/soak.log" "$OUT/proc.txt" "$SECS" "$rc" "$hung" \
    "$elapsed" "$LEAK_MB" "$OUT/valgrind.log" "$vg_rc"
