#!/bin/sh
# Headless tests of [onyx~] and [onyx] with Debian's Pd (0.53). Exits non-zero
# when any test fails. Patches are templates (*.pd.in) filled in with sed;
# results come back on Pd's stderr ([print] with -stderr) and are checked here
# and by compare.py. Real-time tests run `pd -nosound -nogui` without -batch,
# with -sleepgrain 1 so that Pd runs its DSP ticks at an even pace (with the
# default grain it runs them in bursts, which eats the threaded mode's slack).
# Scripted tests drive Pd with [qlist] files that a Python helper writes and
# then checks the log against: errors.py (tests/pd/errors.txt: wrong messages
# and creation arguments), lifecycle.py (free while inferring, several loads
# at once, DSP on/off while loading) and rates.py (block size, upsampling and
# sample rate changes); the last two run again under ThreadSanitizer.
#   tests/pd/run.sh            everything
#   ONYX_PD_FAST=1 ...         skips valgrind
# The soak test (make soak, tests/soak/soak.sh) is not part of it.
# tests/pd/layout.py checks the help patches' boxes do not overlap;
# tests/pd/help.py plays the help patches' examples (see its docstring), in
# the repository and from a folder that make install filled (DESTDIR,
# PDLIBDIR), with only that onyx/ folder on Pd's path.
# The checks shared with tests/pd/arm.sh (the Bela builds in Debian's ARM Pd
# under qemu) are in tests/pd/lib.sh.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
T=$ROOT/build/pd-test
M=$T/models
mkdir -p "$T"
. tests/pd/lib.sh

echo "== build"
make -s pd cli >"$T/build.log" 2>&1 || { cat "$T/build.log"; exit 1; }
make -s pd-rtcheck >>"$T/build.log" 2>&1 || { cat "$T/build.log"; exit 1; }
make -s BLAS=none PD_RT_DIR=build/pd-rtcheck-none pd-rtcheck >>"$T/build.log" 2>&1 ||
    { cat "$T/build.log"; exit 1; }
cc -O2 -Wall -Wextra -Wshadow -fPIC -shared -o "$T/librtcheck.so" tests/pd/rtcheck.c -ldl ||
    exit 1
pd_models

PDB="timeout 120 pd -batch -nrt -noprefs -nosound -nogui -stderr"
PDR="timeout 120 pd -noprefs -nosound -nogui -sleepgrain 1 -stderr"

echo "== numbers: [onyx~ -sync] vs PyTorch and onyx process (which removes the latency)"
check_numbers "$PDB" "$ROOT" bin/onyx

echo "== latency: identity model, measured in the patch vs info"
check_latency "$PDB" "$PDR" "$ROOT" "s64:-sync -block 64:b" "s100:-sync -block 100:b" \
    "t64:-block 64:r" "t100:-block 100:r" "t256:-block 256:r" "t16:-block 16:r" \
    "tb64:-block 64:b" "tb100:-block 100:b"

echo "== real-time pace (threaded): overruns, share of the budget, the audio thread never waits"
pace() { # name flags model
    fill tests/pd/pacing.pd.in "$T/pace_$1.pd" "FLAGS=$2" "MODEL=$M/$3.onnx" MS=4000
    $PDR -path "$ROOT" -open "$T/pace_$1.pd" >"$T/pace_$1.log" 2>&1
    OVR=$(val stats_overruns "$T/pace_$1.log")
    INF=$(val stats_inferences "$T/pace_$1.log")
    PCT=$(val stats_mean_percent "$T/pace_$1.log")
    REAL=$(val real_ms "$T/pace_$1.log")
    echo "   $3 $2: inferences $INF, overruns $OVR, mean $PCT% of the budget, 4000 ms logical in $REAL ms real"
}
pace cheap "-block 256" gru
# a model at ~0.7% of its budget has two blocks (10.7 ms) of slack: an
# overrun means the worker was not scheduled for that long, which a shared
# 2-core VM does now and then (1 in 688 seen in CI); more than 2 is the
# object's fault
if [ -n "$OVR" ] && [ "$OVR" -le 2 ] && [ -n "$INF" ] && [ "$INF" -gt 600 ]; then
    pass "cheap model: $OVR overruns in $INF inferences (at most 2 scheduler stalls allowed)"
else fail "cheap model: overruns '$OVR' inferences '$INF'"; fi
pace cheap64 "-block 64" gru
echo "   (block 64 on a shared machine: overruns are reported, not failed)"
pace slow "-block 64" slow
if [ -n "$OVR" ] && [ "$OVR" -gt 100 ] &&
    $PY -c "import sys; sys.exit(abs($REAL - 4000) > 200)"; then
    pass "slow model: $OVR overruns, and Pd kept real time ($REAL ms for 4000 ms)"
else fail "slow model: overruns '$OVR', real '$REAL' ms for 4000"; fi

# a model too slow for its budget, in real time: overruns, and no warning
# about Pd outrunning real time (that one is for fast-forward)
if grep -q 'faster than real time' "$T/pace_slow.log"; then
    fail "slow model in real time: warned of a Pd faster than real time"
else pass "slow model in real time: no faster-than-real-time warning"; fi

echo "== offline rendering (-batch): a threaded [onyx~] waits for its worker and renders what -sync renders"
check_offline "$PDB" "$ROOT" "gru:-block 64:1100" "conv1024::1100" "slow::150"
echo "== faster than real time where Pd cannot tell (fast-forward): one warning naming -sync"
check_fast_forward "$PDR" "$ROOT"

echo "== wrong messages and creation arguments (tests/pd/errors.txt): one error each, nothing changed"
check_errors "$PDR" "$ROOT"

echo "== [onyx]: lists, state, reset, -async; [onyx~] loads swapped during DSP"
check_control "$PDR" "$ROOT" 20 slow

echo "== lifecycle: freed while inferring or loading, several loads in one message, DSP on/off while loading"
check_lifecycle "$PDR" "$ROOT"

echo "== block size, upsampling and sample rate changes while running"
check_rates "$PDR" "$ROOT"

# The externals built with -fsanitize=thread (make pd-tsan: BLAS=none, so
# the worker's math is instrumented too; OpenBLAS is not, and an OpenBLAS
# build crashes under TSan at load) in Debian's Pd, the TSan runtime
# preloaded so that it starts before Pd. Both patches free every object
# before quitting, so a worker that is not joined shows as a thread leak.
# No suppressions: any report fails (halt_on_error, exit status 66).
echo "== ThreadSanitizer: worker, loads during DSP, free while inferring, block and rate changes, offline waits"
if make -s pd-tsan >>"$T/build.log" 2>&1; then
    # The patches' own checks run too, and they depend on timing: ten times
    # slower under TSan, a worker starved by a busy machine can miss one. A
    # run with no report whose check fails is run once more (the same checks
    # run at full speed above); a report never is.
    for t in lifecycle rates; do
        if [ $t = lifecycle ]; then args="$M/mlp_ref.txt"; else args=; fi
        for try in 1 2; do
            rm -f "$T/tsan_$t.check"
            TSAN_OPTIONS="halt_on_error=1 exitcode=66" LD_PRELOAD="$(gcc -print-file-name=libtsan.so)" \
                $PDR -path "$ROOT/build/pd-tsan" -open "$T/$t.pd" >"$T/tsan_$t.log" 2>&1
            rc=$?
            if [ $rc != 0 ] || grep -q ThreadSanitizer "$T/tsan_$t.log" ||
                $PY tests/pd/$t.py check "$T/tsan_$t.log" $args >"$T/tsan_$t.check"; then
                break
            fi
            [ $try = 1 ] && echo "   tsan $t: no report, but its timing check failed; once more:" &&
                sed 's/^/   /' "$T/tsan_$t.check"
        done
        if [ $rc = 0 ] && ! grep -q ThreadSanitizer "$T/tsan_$t.log" &&
            $PY tests/pd/$t.py check "$T/tsan_$t.log" $args >"$T/tsan_$t.check"; then
            pass "tsan $t: no report"
        else
            fail "tsan $t: pd exit $rc (see $T/tsan_$t.log)"
            grep -m 1 -A 12 -E '(WARNING|ERROR): ThreadSanitizer' "$T/tsan_$t.log" | sed 's/^/   /'
            [ -f "$T/tsan_$t.check" ] && sed 's/^/   /' "$T/tsan_$t.check"
        fi
    done
    # offline: the threaded object waiting for its worker in -batch (the
    # patch quits without freeing its objects: no thread-leak report)
    fill tests/pd/offline.pd.in "$T/off_tsan.pd" "FLAGS=-block 64" "MODEL=$M/gru.onnx" \
        "IN=$M/in.wav" "OUTS=$T/off_tsan_s.wav" "OUTT=$T/off_tsan_t.wav" MS=1100
    TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_thread_leaks=0" \
        LD_PRELOAD="$(gcc -print-file-name=libtsan.so)" \
        $PDB -path "$ROOT/build/pd-tsan" -open "$T/off_tsan.pd" >"$T/tsan_offline.log" 2>&1
    rc=$?
    if [ $rc = 0 ] && ! grep -q ThreadSanitizer "$T/tsan_offline.log" &&
        [ "$(val thr_overruns "$T/tsan_offline.log")" = 0 ]; then
        pass "tsan offline: no report, no overrun"
    else
        fail "tsan offline: pd exit $rc (see $T/tsan_offline.log)"
        grep -m 1 -A 12 'WARNING: ThreadSanitizer' "$T/tsan_offline.log" | sed 's/^/   /'
    fi
else fail "tsan: make pd-tsan (see $T/build.log)"; fi

echo "== real-time safety: no malloc/free/lock/clock/sleep/I/O inside perform, at most 16 KB of stack"
for build in pd-rtcheck pd-rtcheck-none; do
    check_rt $build "env LD_PRELOAD=$T/librtcheck.so $PDR" "$ROOT/build/$build" \
        "gru:-sync" "gru:" "conv1024:-sync" "conv1024:" "slow:-sync" "slow:"
    check_rt_control $build "env LD_PRELOAD=$T/librtcheck.so $PDR" "$ROOT/build/$build" \
        "$ROOT/models/trained/presets.onnx"
    # the Silero VAD: a quarter of its fastest run in onyx bench is the
    # least stats may show (an If on the rate control taken wrongly costs
    # a few microseconds)
    vad=$ROOT/build/thirdparty/vad-web/dist/silero_vad_v5.onnx
    if [ -f "$vad" ]; then
        min=$(bin/onyx bench "$vad" --json --runs 200 --shape input=1,512 \
            --shape state=2,1,128 --set sr=16000 |
            sed -n 's/.*"min_us":\([0-9.]*\).*/\1/p' | awk '{ print $1 / 4 }')
        for flags in -sync ""; do
            for sr in 8000 16000; do
                check_rt_vad $build "env LD_PRELOAD=$T/librtcheck.so $PDR" "$ROOT/build/$build" \
                    "$vad" "$flags" $sr "$min"
            done
        done
    else fail "rtcheck: $vad missing (sh tests/thirdparty/fetch.sh)"; fi
done
# offline (-batch): the threaded objects wait for their worker in perform,
# spinning on an atomic: still no call, lock or syscall there
check_rt "pd-rtcheck -batch" "env LD_PRELOAD=$T/librtcheck.so $PDB" "$ROOT/build/pd-rtcheck" \
    "gru:" "slow::300"
# zoo models with a signal path, inline (the deepest case: the whole
# inference on the audio thread's stack), BLAS=none as on the boards
for z in gru16 lstm32 tcn simple_conv_1d resnet_1d; do
    [ -f "models/zoo/$z/model.onnx" ] &&
        check_rt pd-rtcheck-none "env LD_PRELOAD=$T/librtcheck.so $PDR" "$ROOT/build/pd-rtcheck-none" \
            "$ROOT/models/zoo/$z/model.onnx:-sync"
done

echo "== load/free cycles leak nothing (valgrind)"
# not -batch: there the threaded objects would wait for their worker (see
# offline rendering), and the cycles are to free them while it infers
if [ -z "${ONYX_PD_FAST:-}" ]; then
    for case in "500:gru.onnx" "6:slow.onnx"; do
        n=${case%%:*} load=${case#*:}
        fill tests/pd/cycles.pd.in "$T/cycles.pd" "N=$n" "LOAD=$load"
        timeout 900 valgrind --suppressions=tests/pd/valgrind.supp --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
            pd -nrt -noprefs -nosound -nogui -stderr -path "$ROOT" \
            -open "$T/cycles.pd" >"$T/valgrind_$n.log" 2>&1
        rc=$?
        lost=$(grep -e 'definitely lost:' -e 'indirectly lost:' "$T/valgrind_$n.log" |
            sed 's/.*lost: //' | tr '\n' ' ')
        if [ $rc = 0 ] && grep -q '^cycles_done' "$T/valgrind_$n.log"; then
            pass "$n cycles loading $load: lost $lost"
        else fail "$n cycles loading $load: rc $rc, lost $lost (see $T/valgrind_$n.log)"; fi
    done
fi

echo "== help patches' layout: no overlapping boxes, windows at most 900x650 (tests/pd/layout.py)"
if $PY tests/pd/layout.py help/*.pd >"$T/layout.log"; then pass "help layout: $(grep -c '^ok' "$T/layout.log") patches"
else fail "help layout:"; sed 's/^/   /' "$T/layout.log"; fi

echo "== help patches open with no error"
check_help_open "$PDB -path $ROOT" "$ROOT"

echo "== help patches: every example played headless (load, DSP, messages, a few seconds), no console error"
# the voice-activity example with the Silero VAD the user would fetch (here
# tests/thirdparty/fetch.sh's copy on Pd's path), and without it in the
# installed folder below: it must then say where to get it
VAD=$ROOT/build/thirdparty/vad-web/dist
[ -f "$VAD/silero_vad_v5.onnx" ] || { fail "help: no $VAD/silero_vad_v5.onnx (run tests/thirdparty/fetch.sh)"; VAD=; }
for h in onyx~-help.pd onyx-help.pd; do
    if ONYX_VAD_DIR=$VAD $PY tests/pd/help.py "$ROOT" "$T/help" "$h"; then pass "help $h: every example"
    else fail "help $h: examples (see $T/help)"; fi
done

# make install with pd-lib-builder's DESTDIR and PDLIBDIR, into a folder of
# its own; then Pd with that onyx/ folder as its only path, as a user's Pd
echo "== make install: the onyx/ folder alone on Pd's path: right-click help, every help example played"
I=$T/install
rm -rf "$I"
if make -s install DESTDIR="$I" PDLIBDIR=/pd-externals >"$T/install.log" 2>&1; then
    check_installed "timeout 120 pd" "$I/pd-externals/onyx" 1500
    for h in onyx~-help.pd onyx-help.pd; do
        if $PY tests/pd/help.py --installed "$I/pd-externals/onyx" "$T/help-installed" "$h"; then
            pass "installed help $h: every example"
        else fail "installed help $h: examples (see $T/help-installed)"; fi
    done
else fail "make install DESTDIR=$I PDLIBDIR=/pd-externals"; sed 's/^/   /' "$T/install.log"; fi

echo
if [ $FAILS = 0 ]; then echo "all Pd tests passed"; else echo "$FAILS Pd test(s) failed"; fi
[ $FAILS = 0 ]
