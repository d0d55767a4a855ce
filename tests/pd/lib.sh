# Shared by the headless Pd tests: tests/pd/run.sh (this machine's Pd and
# externals) and tests/pd/arm.sh (Debian's ARM Pd and the Bela builds under
# qemu). Sourced, not run. The caller sets ROOT (the repository), T (the
# output folder) and M (the models of tests/pd/gen_models.py), and passes
# each check a Pd command (everything before -path/-open, qemu included)
# and the folder of the externals to put on Pd's path.
PY=/usr/bin/python3
FAILS=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }

# the test models, made again when gen_models.py is newer
pd_models() {
    if [ ! -f "$M/slow.onnx" ] || [ "$ROOT/tests/pd/gen_models.py" -nt "$M/slow.onnx" ]; then
        $PY "$ROOT/tests/pd/gen_models.py" "$M" >"$T/gen.log" 2>&1 || { cat "$T/gen.log"; exit 1; }
    fi
}

# fill TEMPLATE OUT NAME=VALUE...: @NAME@ replaced by VALUE, @M@ by $M
fill() {
    tpl=$1 out=$2; shift 2
    cp "$tpl" "$out"
    for kv in "$@"; do
        sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out"
    done
    sed -i "s|@M@|$M|g" "$out"
}

val() { sed -n "s/^$1: //p" "$2" | tail -n 1; } # last value printed as 'NAME: v'

# check_numbers PD EXTDIR ONYX: [onyx~ -sync] on three models (block 64,
# per-sample, block 1024) against PyTorch, and against `ONYX process` (the
# command's streaming runner, which removes the latency). PD should run
# -batch: the checks are of numbers, not of timing.
check_numbers() {
    cmd=$1 ext=$2 onyx=$3
    have_process=1
    $onyx process --help >/dev/null 2>&1 || have_process=0
    for case in "gru:-sync -block 64:64" "gru_ps:-sync:1" "conv1024:-sync:1024"; do
        name=${case%%:*} rest=${case#*:}
        flags=${rest%%:*} block=${rest#*:}
        fill "$ROOT/tests/pd/numbers.pd.in" "$T/numbers_$name.pd" "FLAGS=$flags" \
            "MODEL=$M/$name.onnx" "IN=$M/in.wav" "OUT=$T/${name}_pd.wav" MS=1100
        $cmd -path "$ext" -open "$T/numbers_$name.pd" >"$T/numbers_$name.log" 2>&1
        lat=$(val info_latency "$T/numbers_$name.log")
        if [ -z "$lat" ] || grep -q '^error' "$T/numbers_$name.log"; then
            fail "numbers $name: Pd run (see $T/numbers_$name.log)"; continue
        fi
        if $PY "$ROOT/tests/pd/compare.py" "$T/${name}_pd.wav" "$M/${name}_ref.npy" --latency "$lat"; then
            pass "numbers $name vs PyTorch (latency $lat)"
        else fail "numbers $name vs PyTorch"; fi
        if [ $have_process = 0 ]; then
            fail "numbers $name vs onyx process: $onyx has no 'process' command"; continue
        fi
        if $onyx process "$M/$name.onnx" "$M/in.wav" "$T/${name}_cli.wav" --block "$block" \
            >"$T/process_$name.log" 2>&1 &&
            $PY "$ROOT/tests/pd/compare.py" "$T/${name}_pd.wav" "$T/${name}_cli.wav" --latency "$lat" --tol 1e-6; then
            pass "numbers $name vs onyx process"
        else fail "numbers $name vs onyx process (see $T/process_$name.log)"; fi
    done
}

# check_offline PD EXTDIR MODEL:FLAGS:MS...: offline rendering (PD runs
# -batch, faster than real time): IN.wav through [onyx~ -sync FLAGS MODEL]
# and a threaded [onyx~ FLAGS MODEL] side by side for MS ms; the threaded
# one waits for its worker, so it renders what -sync renders, later by the
# difference of their latencies, with no overrun and no console error
check_offline() {
    cmd=$1 ext=$2; shift 2
    for case in "$@"; do
        name=${case%%:*} rest=${case#*:}
        flags=${rest%%:*} ms=${rest#*:}
        fill "$ROOT/tests/pd/offline.pd.in" "$T/off_$name.pd" "FLAGS=$flags" \
            "MODEL=$M/$name.onnx" "IN=$M/in.wav" "OUTS=$T/off_${name}_s.wav" \
            "OUTT=$T/off_${name}_t.wav" "MS=$ms"
        $cmd -path "$ext" -open "$T/off_$name.pd" >"$T/off_$name.log" 2>&1
        ls=$(val sync_latency "$T/off_$name.log")
        lt=$(val thr_latency "$T/off_$name.log")
        ovr=$(val thr_overruns "$T/off_$name.log")
        inf=$(val thr_inferences "$T/off_$name.log")
        if [ -z "$ls" ] || [ -z "$lt" ] || grep -q '^error' "$T/off_$name.log"; then
            fail "offline $name: Pd run (see $T/off_$name.log)"; continue
        fi
        if [ "$ovr" = 0 ] && [ "${inf:-0}" -gt 0 ] &&
            $PY "$ROOT/tests/pd/compare.py" "$T/off_${name}_t.wav" "$T/off_${name}_s.wav" \
                --latency $((lt - ls)) --tol 1e-5 --frames $((ms * 44100 / 1000 - 64)) \
                >"$T/off_$name.cmp"; then
            pass "offline $name: threaded = -sync $((lt - ls)) samples later, $inf inferences, 0 overruns"
        else
            fail "offline $name: overruns '$ovr', inferences '$inf' (see $T/off_$name.cmp)"
            sed 's/^/   /' "$T/off_$name.cmp"
        fi
    done
}

# check_fast_forward PD EXTDIR: Pd paced in real time (PD without -batch)
# fast-forwards 5 s, which an external cannot know: a threaded [onyx~]
# falls behind, and says so once, naming -sync
check_fast_forward() {
    cmd=$1 ext=$2
    fill "$ROOT/tests/pd/fastforward.pd.in" "$T/ff.pd" "FLAGS=-block 64" \
        "MODEL=$M/gru.onnx" FF=5000 MS=5800
    $cmd -path "$ext" -open "$T/ff.pd" >"$T/ff.log" 2>&1
    nwarn=$(grep -c 'faster than real time' "$T/ff.log")
    nerr=$(grep -c '^error' "$T/ff.log")
    if [ "$nwarn" = 1 ] && [ "$nerr" = 1 ] && grep -q 'faster than real time.*-sync' "$T/ff.log"; then
        pass "fast-forward: one warning naming -sync ($(val stats_overruns "$T/ff.log") overruns)"
    else fail "fast-forward: $nwarn warnings, $nerr errors (see $T/ff.log)"; fi
}

# check_latency PDB PDR EXTDIR NAME:FLAGS:b|r...: an identity model's delay,
# measured in the patch on impulses, equals what info reports; each case
# runs -batch (b: PDB) or at real-time pace (r: PDR)
check_latency() {
    pdb=$1 pdr=$2 ext=$3; shift 3
    for case in "$@"; do
        name=${case%%:*} rest=${case#*:}
        flags=${rest%%:*} mode=${rest#*:}
        fill "$ROOT/tests/pd/latency.pd.in" "$T/lat_$name.pd" "FLAGS=$flags" \
            "MODEL=$M/ident.onnx" "IN=$M/imp.wav" MS=1100
        if [ "$mode" = b ]; then cmd=$pdb; else cmd=$pdr; fi
        $cmd -path "$ext" -open "$T/lat_$name.pd" >"$T/lat_$name.log" 2>&1
        want=$(val info_latency "$T/lat_$name.log")
        got=$(val measured_latency "$T/lat_$name.log")
        if [ -n "$want" ] && [ "$want" = "$got" ]; then
            pass "latency [onyx~ $flags]: info $want, measured $got"
        else fail "latency [onyx~ $flags]: info '$want', measured '$got'"; fi
    done
}

# check_control PD EXTDIR MINSWAPS HEAVY: [onyx] lists, state, reset, -async,
# and [onyx~] loads swapped during DSP (more than MINSWAPS of the 60 asked
# for), of gru, ident and the model HEAVY (slow, or a lighter one where the
# -sync [onyx~] could not run slow in reasonable time). PD must run in real
# time (not -batch): the loads happen in the worker while 3 s of DSP go by.
check_control() {
    cmd=$1 ext=$2 minswaps=$3
    fill "$ROOT/tests/pd/control.pd.in" "$T/control.pd" "HEAVY=$4"
    $cmd -path "$ext" -open "$T/control.pd" >"$T/control.log" 2>&1
    rc=$?
    if $PY - "$T/control.log" "$M/mlp_ref.txt" "$minswaps" <<'EOF' && [ $rc = 0 ]
import sys
log = open(sys.argv[1]).read().splitlines()
ref = [list(map(float, l.split())) for l in open(sys.argv[2])]
def vals(name): return [list(map(float, l.split(': ')[1].split())) for l in log if l.startswith(name + ': ')]
out, s = vals('mlp_out'), vals('mlp_sum')
ok = out and s and max(abs(a - b) for a, b in zip(out[0], ref[0])) < 1e-5 and abs(s[0][0] - ref[1][0]) < 1e-5
ok = ok and [v[0] for v in vals('count_y')] == [1, 2, 3, 1] and vals('async_y') == [[1.0]]
swaps = sum('onyx~: loaded' in l for l in log)
ok = ok and swaps > int(sys.argv[3]) and not any(l.startswith('error') for l in log)
print('   mlp', out, s, 'count', vals('count_y'), 'async', vals('async_y'), 'swaps during DSP', swaps)
sys.exit(0 if ok else 1)
EOF
    then pass "control object and loads during DSP"; else fail "control (see $T/control.log)"; fi
}

# The scripted patches: a [qlist] file written by a Python helper drives
# Pd in real time (PD without -batch), and the helper checks the log.
# check_errors PD EXTDIR: wrong messages and creation arguments
# (tests/pd/errors.txt), one error each, nothing changed
check_errors() {
    cmd=$1 ext=$2
    $PY "$ROOT/tests/pd/errors.py" qlist "$ROOT/tests/pd/errors.txt" "$M" "$T/errors.qlist"
    fill "$ROOT/tests/pd/errors.pd.in" "$T/errors.pd" "STEPS=$T/errors.qlist"
    $cmd -path "$ext" -open "$T/errors.pd" >"$T/errors.log" 2>&1
    if $PY "$ROOT/tests/pd/errors.py" check "$ROOT/tests/pd/errors.txt" "$T/errors.log" "$M/mlp_ref.txt"; then
        pass "errors"
    else fail "errors (see $T/errors.log)"; fi
}

# check_lifecycle PD EXTDIR: objects freed while inferring or loading,
# several loads in one message, DSP on/off while loading
check_lifecycle() {
    cmd=$1 ext=$2
    $PY "$ROOT/tests/pd/lifecycle.py" qlist "$M" "$T/lifecycle.qlist"
    fill "$ROOT/tests/pd/lifecycle.pd.in" "$T/lifecycle.pd" "SCRIPT=$T/lifecycle.qlist"
    $cmd -path "$ext" -open "$T/lifecycle.pd" >"$T/lifecycle.log" 2>&1
    rc=$?
    if $PY "$ROOT/tests/pd/lifecycle.py" check "$T/lifecycle.log" "$M/mlp_ref.txt" && [ $rc = 0 ]; then
        pass "lifecycle"
    else fail "lifecycle: pd exit $rc (see $T/lifecycle.log)"; fi
}

# check_rates PD EXTDIR: block size, upsampling and sample rate changes
# while running
check_rates() {
    cmd=$1 ext=$2
    $PY "$ROOT/tests/pd/rates.py" qlist "$T/rates.qlist"
    fill "$ROOT/tests/pd/rates.pd.in" "$T/rates.pd" "SCRIPT=$T/rates.qlist" "IN=$M/imp.wav"
    $cmd -path "$ext" -open "$T/rates.pd" >"$T/rates.log" 2>&1
    rc=$?
    if $PY "$ROOT/tests/pd/rates.py" check "$T/rates.log" && [ $rc = 0 ]; then pass "rates"
    else fail "rates: pd exit $rc (see $T/rates.log)"; fi
}

# check_rt LABEL PD EXTDIR MODEL:FLAGS[:MS]...: the pacing patch with the
# externals of a -DONYX_RT_CHECK build, PD with tests/pd/rtcheck.c preloaded;
# fails on any violation (malloc, free, lock, clock, sleep, I/O... inside
# perform), when no perform was counted, or when perform's stack went deeper
# than RT_STACK_MAX bytes (rtcheck paints the stack below perform's frame
# and scans it after: the boards' audio threads have small stacks, and a
# page fault there is a Xenomai mode switch). MODEL is a name in $M or a
# path; MS is the patch's logical run time (default 1500 ms).
RT_STACK_MAX=16384
check_rt() {
    label=$1 cmd=$2 ext=$3; shift 3
    for case in "$@"; do
        model=${case%%:*} rest=${case#*:}
        flags=${rest%%:*} ms=${rest#*:}
        [ "$ms" != "$rest" ] || ms=1500
        case "$model" in */*) path=$model ;; *) path=$M/$model.onnx ;; esac
        fill "$ROOT/tests/pd/pacing.pd.in" "$T/rt.pd" "FLAGS=$flags" "MODEL=$path" "MS=$ms"
        $cmd -path "$ext" -open "$T/rt.pd" >"$T/rt.log" 2>&1
        rt_verdict "rtcheck $label $model ${flags:-threaded}"
    done
}

# check_rt_control LABEL PD EXTDIR MODEL: [onyx] without -async runs a list
# every 2 ms in Pd's thread (on Bela, the audio task), checked as perform is
check_rt_control() {
    fill "$ROOT/tests/pd/rt_control.pd.in" "$T/rt.pd" "MODEL=$4"
    $2 -path "$3" -open "$T/rt.pd" >"$T/rt.log" 2>&1
    rt_verdict "rtcheck $1 [onyx] $(basename "$4" .onnx) sync runs"
}

# check_rt_vad LABEL PD EXTDIR MODEL FLAGS SR [MIN_US]: the Silero VAD
# (MODEL, 512-sample blocks) in [onyx~ FLAGS] at real-time pace, perform
# checked by rt_verdict. SR 8000 chooses a branch that cannot run: every
# inference fails, the console shows exactly one error with the reason and
# stats counts them. SR 16000: no error, and stats' time per inference is
# that of the branch that plays, at least MIN_US (in sync mode it is the
# worker's calibration, which must use the sample rate set, not zero).
check_rt_vad() {
    fill "$ROOT/tests/pd/rt_vad.pd.in" "$T/rt.pd" "MODEL=$4" "FLAGS=$5" "SR=$6" "MS=2500"
    $2 -path "$3" -open "$T/rt.pd" >"$T/rt.log" 2>&1
    what="rtcheck $1 [onyx~ ${5:-(threaded)}] Silero at sr $6"
    n=$(grep -c 'inference failed' "$T/rt.log")
    errs=$(sed -n 's/^stats_errors: //p' "$T/rt.log")
    us=$(sed -n 's/^stats_mean_us: //p' "$T/rt.log")
    if [ "$6" = 8000 ]; then
        if [ "$n" != 1 ] || ! grep -q 'inference failed: .*the condition chose the else branch' "$T/rt.log" ||
            [ "${errs:-0}" = 0 ]; then
            cp "$T/rt.log" "$T/rt_vad_fail.log"
            fail "$what: $n error lines (want 1, with the reason), stats errors ${errs:-none} (see $T/rt_vad_fail.log)"
            return
        fi
        rt_verdict "$what (1 error line, $errs counted)"
    else
        if [ "$n" != 0 ] || [ "${errs:-x}" != 0 ] ||
            ! awk -v u="${us:-0}" -v m="${7:-0}" 'BEGIN { exit !(u >= m && u > 0) }'; then
            cp "$T/rt.log" "$T/rt_vad_fail.log"
            fail "$what: errors ${errs:-none}, mean ${us:-none} us (want >= ${7:-0}) (see $T/rt_vad_fail.log)"
            return
        fi
        rt_verdict "$what (no error, mean $us us >= ${7:-0})"
    fi
}

# the verdict on $T/rt.log, under the name WHAT
rt_verdict() {
    what=$1
    line=$(grep '^rtcheck: performs [1-9]' "$T/rt.log" | tail -n 1)
    stack=$(echo "$line" | sed -n 's/.*max_stack_bytes \([>=0-9]*\).*/\1/p')
    case "$line" in
    *"violations 0 "*)
        case "$stack" in
        "" | ">="*) fail "$what: stack deeper than rtcheck paints (${stack:-?} bytes): ${line#rtcheck: }" ;;
        *) if [ "$stack" -le $RT_STACK_MAX ]; then pass "$what: ${line#rtcheck: }"
           else fail "$what: stack $stack bytes > $RT_STACK_MAX: ${line#rtcheck: }"; fi ;;
        esac ;;
    *) fail "$what: ${line:-no report}" ;;
    esac
    case "$line" in *"violations 0 "*) ;; *)
        cp "$T/rt.log" "$T/rt_fail_$(echo "$what" | tr -c 'A-Za-z0-9_\n-' _).log" ;;
    esac
}

# check_help_open PD ROOTDIR: each help patch of ROOTDIR/help opens with no error
# (its [declare -path ..] finds the externals in ROOTDIR)
check_help_open() {
    cmd=$1 dir=$2
    for h in "$dir"/help/*.pd; do
        printf '#N canvas 0 0 300 200 12;\n#X obj 10 10 loadbang;\n#X msg 10 40 \\; pd open %s %s;\n#X obj 10 70 delay 1000;\n#X msg 10 100 \\; pd quit;\n#X connect 0 0 1 0;\n#X connect 0 0 2 0;\n#X connect 2 0 3 0;\n' \
            "$(basename "$h")" "$dir/help" >"$T/openhelp.pd"
        $cmd -open "$T/openhelp.pd" >"$T/help.log" 2>&1
        if grep -qi -e '^error' -e "couldn't create" -e 'fail' "$T/help.log"; then
            fail "help help/${h##*/}:"; sed 's/^/   /' "$T/help.log"
        else pass "help help/${h##*/}"; fi
    done
}

# check_installed PD DIR MS: DIR is an installed onyx/ folder (make install,
# or a deken package unzipped). It holds the externals, the help patches, the
# README and every model the help patches name; and in Pd with DIR as the
# only folder on its path (no standard paths), right-click -> Help on [onyx~]
# and [onyx] in a patch elsewhere opens both help patches from DIR, which
# load their models with no error within MS milliseconds
check_installed() {
    cmd=$1 dir=$2 ms=$3
    missing=
    for f in onyx~.pd_linux onyx.pd_linux onyx~-help.pd onyx-help.pd README.md; do
        [ -f "$dir/$f" ] || missing="$missing $f"
    done
    for p in $(grep -o 'doc/[A-Za-z0-9_~.-]*\.png' "$dir/README.md" | sort -u); do
        [ -f "$dir/$p" ] || missing="$missing $p"
    done
    for m in $(cat "$dir"/*-help.pd | tr -d '\n' | grep -o 'models/trained/[A-Za-z0-9_]*\.onnx' | sort -u); do
        [ -f "$dir/$m" ] || missing="$missing $m"
    done
    if [ -z "$missing" ]; then pass "$dir: externals, help patches, README and its pictures, every model they name"
    else fail "$dir: missing$missing"; fi
    # done-popup 2 X Y is what the GUI sends for right-click -> Help on the
    # box at X Y; a help patch that did not open has no pd-NAME to close
    printf '%s\n' '#N canvas 0 0 400 300 12;' '#X obj 10 10 onyx~;' '#X obj 10 60 onyx;' \
        '#X obj 200 10 loadbang;' \
        '#X msg 200 40 \; pd-rightclick.pd done-popup 2 15 20 \; pd-rightclick.pd done-popup 2 15 70;' \
        "#X obj 200 100 delay $ms;" \
        '#X msg 200 130 \; pd-onyx~-help.pd menuclose 0 \; pd-onyx-help.pd menuclose 0 \; pd quit;' \
        '#X connect 2 0 3 0;' '#X connect 2 0 4 0;' '#X connect 4 0 5 0;' >"$T/rightclick.pd"
    $cmd -noprefs -nostdpath -nosound -nogui -stderr -path "$dir" -open "$T/rightclick.pd" \
        >"$T/rightclick.log" 2>&1
    rc=$?
    if [ $rc = 0 ] &&
        ! grep -qi -e error -e "couldn't" -e fail -e 'not found' -e 'no such' "$T/rightclick.log"; then
        pass "right-click -> Help on [onyx~] and [onyx] opens both help patches from $dir, no error"
    else
        fail "right-click -> Help from $dir: pd exit $rc"; sed 's/^/   /' "$T/rightclick.log"
    fi
}
