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
# tests/pd/help.py plays the help patches' examples (see its docstring).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
T=$ROOT/build/pd-test
M=$T/models
mkdir -p "$T"
PY=/usr/bin/python3
FAILS=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }

echo "== build"
make -s pd cli >"$T/build.log" 2>&1 || { cat "$T/build.log"; exit 1; }
make -s pd-rtcheck >>"$T/build.log" 2>&1 || { cat "$T/build.log"; exit 1; }
make -s BLAS=none PD_RT_DIR=build/pd-rtcheck-none pd-rtcheck >>"$T/build.log" 2>&1 ||
    { cat "$T/build.log"; exit 1; }
cc -O2 -Wall -Wextra -Wshadow -fPIC -shared -o "$T/librtcheck.so" tests/pd/rtcheck.c -ldl ||
    exit 1
if [ ! -f "$M/slow.onnx" ] || [ tests/pd/gen_models.py -nt "$M/slow.onnx" ]; then
    $PY tests/pd/gen_models.py "$M" >"$T/gen.log" 2>&1 || { cat "$T/gen.log"; exit 1; }
fi

# fill TEMPLATE OUT NAME=VALUE...
fill() {
    tpl=$1 out=$2; shift 2
    cp "$tpl" "$out"
    for kv in "$@"; do
        sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out"
    done
    sed -i "s|@M@|$M|g" "$out"
}
PDB="timeout 120 pd -batch -nrt -noprefs -nosound -nogui -stderr"
PDR="timeout 120 pd -noprefs -nosound -nogui -sleepgrain 1 -stderr"
val() { sed -n "s/^$1: //p" "$2" | tail -n 1; } # last value printed as 'NAME: v'

echo "== numbers: [onyx~ -sync] vs PyTorch and onyx process (which removes the latency)"
HAVE_PROCESS=1
bin/onyx process --help >/dev/null 2>&1 || HAVE_PROCESS=0
for case in "gru:-sync -block 64:64" "gru_ps:-sync:1" "conv1024:-sync:1024"; do
    name=${case%%:*} rest=${case#*:}
    flags=${rest%%:*} block=${rest#*:}
    fill tests/pd/numbers.pd.in "$T/numbers_$name.pd" "FLAGS=$flags" \
        "MODEL=$M/$name.onnx" "IN=$M/in.wav" "OUT=$T/${name}_pd.wav" MS=1100
    $PDB -path "$ROOT" -open "$T/numbers_$name.pd" >"$T/numbers_$name.log" 2>&1
    lat=$(val info_latency "$T/numbers_$name.log")
    if [ -z "$lat" ] || grep -q '^error' "$T/numbers_$name.log"; then
        fail "numbers $name: Pd run (see $T/numbers_$name.log)"; continue
    fi
    if $PY tests/pd/compare.py "$T/${name}_pd.wav" "$M/${name}_ref.npy" --latency "$lat"; then
        pass "numbers $name vs PyTorch (latency $lat)"
    else fail "numbers $name vs PyTorch"; fi
    if [ $HAVE_PROCESS = 0 ]; then
        fail "numbers $name vs onyx process: bin/onyx has no 'process' command"; continue
    fi
    if bin/onyx process "$M/$name.onnx" "$M/in.wav" "$T/${name}_cli.wav" --block "$block" \
        >"$T/process_$name.log" 2>&1 &&
        $PY tests/pd/compare.py "$T/${name}_pd.wav" "$T/${name}_cli.wav" --latency "$lat" --tol 1e-6; then
        pass "numbers $name vs onyx process"
    else fail "numbers $name vs onyx process (see $T/process_$name.log)"; fi
done

echo "== latency: identity model, measured in the patch vs info"
for case in "s64:-sync -block 64:b" "s100:-sync -block 100:b" "t64:-block 64:r" \
    "t100:-block 100:r" "t256:-block 256:r" "t16:-block 16:r"; do
    name=${case%%:*} rest=${case#*:}
    flags=${rest%%:*} mode=${rest#*:}
    fill tests/pd/latency.pd.in "$T/lat_$name.pd" "FLAGS=$flags" \
        "MODEL=$M/ident.onnx" "IN=$M/imp.wav" MS=1100
    if [ "$mode" = b ]; then pd=$PDB; else pd=$PDR; fi
    $pd -path "$ROOT" -open "$T/lat_$name.pd" >"$T/lat_$name.log" 2>&1
    want=$(val info_latency "$T/lat_$name.log")
    got=$(val measured_latency "$T/lat_$name.log")
    if [ -n "$want" ] && [ "$want" = "$got" ]; then
        pass "latency [onyx~ $flags]: info $want, measured $got"
    else fail "latency [onyx~ $flags]: info '$want', measured '$got'"; fi
done

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

echo "== wrong messages and creation arguments (tests/pd/errors.txt): one error each, nothing changed"
$PY tests/pd/errors.py qlist tests/pd/errors.txt "$M" "$T/errors.qlist"
fill tests/pd/errors.pd.in "$T/errors.pd" "STEPS=$T/errors.qlist"
$PDR -path "$ROOT" -open "$T/errors.pd" >"$T/errors.log" 2>&1
if $PY tests/pd/errors.py check tests/pd/errors.txt "$T/errors.log" "$M/mlp_ref.txt"; then
    pass "errors"
else fail "errors (see $T/errors.log)"; fi

echo "== [onyx]: lists, state, reset, -async; [onyx~] loads swapped during DSP"
fill tests/pd/control.pd.in "$T/control.pd"
$PDR -path "$ROOT" -open "$T/control.pd" >"$T/control.log" 2>&1
rc=$?
want_out=$(head -n 1 "$M/mlp_ref.txt")
if $PY - "$T/control.log" "$M/mlp_ref.txt" <<'EOF'
import sys
log = open(sys.argv[1]).read().splitlines()
ref = [list(map(float, l.split())) for l in open(sys.argv[2])]
def vals(name): return [list(map(float, l.split(': ')[1].split())) for l in log if l.startswith(name + ': ')]
out, s = vals('mlp_out'), vals('mlp_sum')
ok = out and s and max(abs(a - b) for a, b in zip(out[0], ref[0])) < 1e-5 and abs(s[0][0] - ref[1][0]) < 1e-5
ok = ok and [v[0] for v in vals('count_y')] == [1, 2, 3, 1] and vals('async_y') == [[1.0]]
swaps = sum('onyx~: loaded' in l for l in log)
ok = ok and swaps > 20 and not any(l.startswith('error') for l in log)
print('   mlp', out, s, 'count', vals('count_y'), 'async', vals('async_y'), 'swaps during DSP', swaps)
sys.exit(0 if ok else 1)
EOF
[ $rc = 0 ]; then pass "control object and loads during DSP"; else fail "control (see $T/control.log)"; fi

echo "== lifecycle: freed while inferring or loading, several loads in one message, DSP on/off while loading"
$PY tests/pd/lifecycle.py qlist "$M" "$T/lifecycle.qlist"
fill tests/pd/lifecycle.pd.in "$T/lifecycle.pd" "SCRIPT=$T/lifecycle.qlist"
$PDR -path "$ROOT" -open "$T/lifecycle.pd" >"$T/lifecycle.log" 2>&1
rc=$?
if $PY tests/pd/lifecycle.py check "$T/lifecycle.log" "$M/mlp_ref.txt" && [ $rc = 0 ]; then
    pass "lifecycle"
else fail "lifecycle: pd exit $rc (see $T/lifecycle.log)"; fi

echo "== block size, upsampling and sample rate changes while running"
$PY tests/pd/rates.py qlist "$T/rates.qlist"
fill tests/pd/rates.pd.in "$T/rates.pd" "SCRIPT=$T/rates.qlist" "IN=$M/imp.wav"
$PDR -path "$ROOT" -open "$T/rates.pd" >"$T/rates.log" 2>&1
rc=$?
if $PY tests/pd/rates.py check "$T/rates.log" && [ $rc = 0 ]; then pass "rates"
else fail "rates: pd exit $rc (see $T/rates.log)"; fi

# The externals built with -fsanitize=thread (make pd-tsan: BLAS=none, so
# the worker's math is instrumented too; OpenBLAS is not, and an OpenBLAS
# build crashes under TSan at load) in Debian's Pd, the TSan runtime
# preloaded so that it starts before Pd. Both patches free every object
# before quitting, so a worker that is not joined shows as a thread leak.
# No suppressions: any report fails (halt_on_error, exit status 66).
echo "== ThreadSanitizer: worker, loads during DSP, free while inferring, block and rate changes"
if make -s pd-tsan >>"$T/build.log" 2>&1; then
    for t in lifecycle rates; do
        TSAN_OPTIONS="halt_on_error=1 exitcode=66" LD_PRELOAD="$(gcc -print-file-name=libtsan.so)" \
            $PDR -path "$ROOT/build/pd-tsan" -open "$T/$t.pd" >"$T/tsan_$t.log" 2>&1
        rc=$?
        if [ $t = lifecycle ]; then args="$M/mlp_ref.txt"; else args=; fi
        if [ $rc = 0 ] && ! grep -q ThreadSanitizer "$T/tsan_$t.log" &&
            $PY tests/pd/$t.py check "$T/tsan_$t.log" $args >"$T/tsan_$t.check"; then
            pass "tsan $t: no report"
        else
            fail "tsan $t: pd exit $rc (see $T/tsan_$t.log)"
            grep -m 1 -A 12 'WARNING: ThreadSanitizer' "$T/tsan_$t.log" | sed 's/^/   /'
        fi
    done
else fail "tsan: make pd-tsan (see $T/build.log)"; fi

echo "== real-time safety: no malloc/free/lock/clock/sleep/I/O inside perform, at most 16 KB of stack"
# rtcheck.c counts every call of those while perform runs and measures how
# deep below perform's frame the stack went (painted before, scanned
# after). The ARM boards' audio threads have small stacks and a page fault
# there is a mode switch: 16 KB at most.
RT_STACK_MAX=16384
rtcheck() { # build model flags [label]
    fill tests/pd/pacing.pd.in "$T/rt.pd" "FLAGS=$3" "MODEL=$2" MS=1500
    LD_PRELOAD=$T/librtcheck.so $PDR -path "$ROOT/build/$1" -open "$T/rt.pd" \
        >"$T/rt.log" 2>&1
    line=$(grep '^rtcheck: performs [1-9]' "$T/rt.log" | tail -n 1)
    what="rtcheck $1 ${4:-$(basename "$2" .onnx)} ${3:-threaded}"
    stack=$(echo "$line" | sed -n 's/.*max_stack_bytes \([>=0-9]*\).*/\1/p')
    case "$line" in
    *"violations 0 "*)
        case "$stack" in
        "" | ">="*) fail "$what: stack deeper than rtcheck paints (${stack:-?} bytes): ${line#rtcheck: }" ;;
        *) if [ "$stack" -le $RT_STACK_MAX ]; then pass "$what: ${line#rtcheck: }"
           else fail "$what: stack $stack bytes > $RT_STACK_MAX: ${line#rtcheck: }"; fi ;;
        esac ;;
    *) fail "$what: ${line:-no report (see $T/rt.log)}" ;;
    esac
}
for build in pd-rtcheck pd-rtcheck-none; do
    for case in "gru:-sync" "gru:" "conv1024:-sync" "conv1024:" "slow:-sync" "slow:"; do
        rtcheck $build "$M/${case%%:*}.onnx" "${case#*:}"
    done
done
# zoo models with a signal path, inline (the deepest case: the whole
# inference on the audio thread's stack), BLAS=none as on the boards
for z in gru16 lstm32 tcn simple_conv_1d resnet_1d; do
    [ -f "models/zoo/$z/model.onnx" ] &&
        rtcheck pd-rtcheck-none "$ROOT/models/zoo/$z/model.onnx" "-sync" "zoo/$z"
done

echo "== load/free cycles leak nothing (valgrind)"
if [ -z "${ONYX_PD_FAST:-}" ]; then
    for case in "500:gru.onnx" "6:slow.onnx"; do
        n=${case%%:*} load=${case#*:}
        fill tests/pd/cycles.pd.in "$T/cycles.pd" "N=$n" "LOAD=$load"
        timeout 900 valgrind --suppressions=tests/pd/valgrind.supp --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
            pd -batch -nrt -noprefs -nosound -nogui -stderr -path "$ROOT" \
            -open "$T/cycles.pd" >"$T/valgrind_$n.log" 2>&1
        rc=$?
        lost=$(grep -e 'definitely lost:' -e 'indirectly lost:' "$T/valgrind_$n.log" |
            sed 's/.*lost: //' | tr '\n' ' ')
        if [ $rc = 0 ] && grep -q '^cycles_done' "$T/valgrind_$n.log"; then
            pass "$n cycles loading $load: lost $lost"
        else fail "$n cycles loading $load: rc $rc, lost $lost (see $T/valgrind_$n.log)"; fi
    done
fi

echo "== help patches open with no error"
for h in help/*.pd; do
    printf '#N canvas 0 0 300 200 12;\n#X obj 10 10 loadbang;\n#X msg 10 40 \\; pd open %s %s;\n#X obj 10 70 delay 1000;\n#X msg 10 100 \\; pd quit;\n#X connect 0 0 1 0;\n#X connect 0 0 2 0;\n#X connect 2 0 3 0;\n' \
        "$(basename "$h")" "$ROOT/help" >"$T/openhelp.pd"
    $PDB -path "$ROOT" -open "$T/openhelp.pd" >"$T/help.log" 2>&1
    if grep -qi -e '^error' -e "couldn't create" -e 'fail' "$T/help.log"; then
        fail "help $h:"; sed 's/^/   /' "$T/help.log"
    else pass "help $h"; fi
done

echo "== help patches: every example played headless (load, DSP, messages, a few seconds), no console error"
if [ ! -f models/zoo/mdrnn/model.onnx ]; then # onyx-help.pd's mdrnn comes from the zoo
    make -s models >"$T/models.log" 2>&1 || { cat "$T/models.log"; exit 1; }
fi
for h in onyx~-help.pd onyx-help.pd; do
    if $PY tests/pd/help.py "$ROOT" "$T/help" "$h"; then pass "help $h: every example"
    else fail "help $h: examples (see $T/help)"; fi
done

echo
if [ $FAILS = 0 ]; then echo "all Pd tests passed"; else echo "$FAILS Pd test(s) failed"; fi
[ $FAILS = 0 ]
