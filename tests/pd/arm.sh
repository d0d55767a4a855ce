#!/bin/sh
# The Bela builds' Pd externals in Debian's Pd for ARM, run under qemu-user.
#
#   tests/pd/arm.sh fetch      Debian's puredata-core for armhf and arm64,
#                              unpacked into build/pd-arm/<arch>/ (it cannot be
#                              installed beside the amd64 one), and the
#                              libraries its pd needs, installed through
#                              multiarch. Needs root or sudo; no questions asked.
#   tests/pd/arm.sh bela|gem   the headless Pd tests of the externals of
#                              make PLATFORM=bela|gem, in that Pd under
#                              qemu-arm|qemu-aarch64; exits non-zero when any fails
#
# What runs (the checks are those of tests/pd/run.sh, from tests/pd/lib.sh):
# - numbers: [onyx~ -sync] on a block-64 GRU, a per-sample GRU and a
#   block-1024 conv, against PyTorch and against the board's own `onyx
#   process` (build/<p>/onyx through qemu);
# - latency: an identity model's delay measured in the patch equals what
#   info reports, -sync and threaded;
# - [onyx]: lists, state, reset, -async, and [onyx~] loads during DSP;
# - wrong messages and creation arguments: one error each, nothing changed;
# - real-time safety: the -DONYX_RT_CHECK build of the externals with
#   tests/pd/rtcheck.c built for the board and preloaded (qemu -E
#   LD_PRELOAD=...): no allocation, lock, clock, sleep or I/O inside
#   perform and at most 16 KB of stack below it, -sync and threaded, and
#   the same for [onyx]'s synchronous runs;
# - the help patches open with no error, and every example in them is
#   played (tests/pd/help.py).
# Numbers and the -sync checks run with -batch (as fast as qemu goes);
# the threaded ones at real-time pace with -nrt (Pd's watchdog, which it
# starts under real-time priority, is an ARM program qemu cannot exec).
# Under emulation the threaded mode is slower than on the boards, so its
# overruns are not tested here (tests/pd/run.sh does on this machine), nor
# is what depends on them: the block size and sample rate changes of
# rates.py (a late block loses an impulse). lifecycle.py is left out too:
# its -sync objects load the slow model, seconds per block under qemu. No
# ThreadSanitizer or valgrind here (neither runs ARM code on this machine).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
ARCHS="armhf arm64"
# what the pd of puredata-core needs (readelf -d: NEEDED), beside libc6
PD_LIBS="libc6 libasound2 libjack-jackd2-0 libportaudio2"

pd_bin() { echo "$ROOT/build/pd-arm/$1/usr/lib/puredata/bin/pd"; }
qemu_for() { case $1 in armhf) echo qemu-arm ;; arm64) echo qemu-aarch64 ;; esac; }

fetch() {
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    APT="$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q"
    missing=
    for a in $ARCHS; do
        dpkg --print-foreign-architectures | grep -qx $a || $SUDO dpkg --add-architecture $a
        for p in $PD_LIBS; do
            dpkg-query -W -f='${Status}\n' "$p:$a" 2>/dev/null | grep -q '^install ok installed' ||
                missing="$missing $p:$a"
        done
    done
    updated=0
    if [ -n "$missing" ]; then
        echo "installing:$missing"
        $APT update && updated=1
        # shellcheck disable=SC2086
        $APT install -y --no-install-recommends $missing || exit 1
    fi
    for a in $ARCHS; do
        pd=$(pd_bin $a)
        if [ ! -x "$pd" ]; then
            dl=$ROOT/build/pd-arm/deb
            rm -rf "$dl"
            mkdir -p "$dl"
            # apt's sandbox user must be able to write there, or apt warns
            chmod 777 "$dl"
            if ! (cd "$dl" && apt-get -q download puredata-core:$a); then
                [ $updated = 1 ] || { $APT update && updated=1; }
                (cd "$dl" && apt-get -q download puredata-core:$a) || exit 1
            fi
            rm -rf "$ROOT/build/pd-arm/$a"
            dpkg-deb -x "$dl"/puredata-core_*_$a.deb "$ROOT/build/pd-arm/$a" || exit 1
            rm -rf "$dl"
        fi
        "$(qemu_for $a)" -L / "$pd" -version || { echo "$pd does not run under qemu"; exit 1; }
    done
}

run() {
    p=$1
    case $p in
    bela) arch=armhf ;;
    gem) arch=arm64 ;;
    esac
    PDBIN=$(pd_bin $arch)
    [ -x "$PDBIN" ] || { echo "no ARM Pd in build/pd-arm/$arch: run tests/pd/arm.sh fetch"; exit 1; }
    T=$ROOT/build/pd-arm/test-$p
    M=$ROOT/build/pd-test/models # shared with tests/pd/run.sh
    EXT=$ROOT/build/$p
    mkdir -p "$T"
    . tests/pd/lib.sh
    # the threaded [onyx~] overruns under qemu: errors.py and help.py then
    # check that it plays, not that its level never drops
    export ONYX_PD_EMULATED=1
    start=$(date +%s)
    section() { echo "== $* ($(($(date +%s) - start)) s)"; }

    section "build: make PLATFORM=$p, its -DONYX_RT_CHECK externals and rtcheck.c"
    make -s -j"${JOBS:-2}" PLATFORM=$p default platform-rtcheck platform-runner \
        >"$T/build.log" 2>&1 || { cat "$T/build.log"; exit 1; }
    pd_models

    qpd="$(qemu_for $arch) -L ${QEMU_ROOT:-/}"
    PDB="timeout 300 $qpd $PDBIN -batch -nrt -noprefs -nosound -nogui -stderr"
    PDR="timeout 300 $qpd $PDBIN -nrt -noprefs -nosound -nogui -sleepgrain 1 -stderr"
    PDRT="timeout 300 $qpd -E LD_PRELOAD=$EXT/rtcheck/librtcheck.so $PDBIN"

    section "numbers: [onyx~ -sync] vs PyTorch and the board's onyx process"
    check_numbers "$PDB" "$EXT" "$EXT/onyx-run"

    section "latency: identity model, measured in the patch vs info"
    check_latency "$PDB" "$PDR" "$EXT" "s64:-sync -block 64:b" "s100:-sync -block 100:b" \
        "t64:-block 64:r" "t256:-block 256:r"

    section "[onyx]: lists, state, reset, -async; [onyx~] loads swapped during DSP"
    # a load (read, plan, swap at a block boundary) is slower under qemu:
    # fewer of the 60 loads asked for in 3 s are done than on the PC; and
    # the block-1024 conv is swapped in instead of the slow model, which the
    # -sync [onyx~] of the patch would run for seconds per block
    check_control "$PDR" "$EXT" 5 conv1024

    section "wrong messages and creation arguments (tests/pd/errors.txt): one error each, nothing changed"
    check_errors "$PDR" "$EXT"

    section "real-time safety: no malloc/free/lock/clock/sleep/I/O inside perform, at most 16 KB of stack"
    # -sync: perform runs each inference, so -batch (the slow model, 24
    # 512x512 matrix products per block, for only a few blocks); threaded: at
    # real-time pace, the worker's results coming back into perform (the slow
    # model's never in time: that perform plays silence and counts overruns)
    check_rt $p "$PDRT -batch -nrt -noprefs -nosound -nogui -stderr" "$EXT/rtcheck" \
        "gru:-sync" "conv1024:-sync" "slow:-sync:10"
    check_rt $p "$PDRT -nrt -noprefs -nosound -nogui -sleepgrain 1 -stderr" "$EXT/rtcheck" \
        "gru:" "conv1024:" "slow:"
    check_rt_control $p "$PDRT -batch -nrt -noprefs -nosound -nogui -stderr" "$EXT/rtcheck" \
        "$ROOT/models/trained/presets.onnx"

    # the help patches find the externals with [declare -path ..]: a folder
    # laid out like the repository, with the board's externals at its top
    S=$T/root
    rm -rf "$S"
    mkdir -p "$S/help"
    ln -s "$ROOT"/help/*.pd "$S/help/"
    ln -s "$ROOT/models" "$S/models"
    ln -s "$EXT/onyx~.pd_linux" "$EXT/onyx.pd_linux" "$S/"
    section "help patches open with no error"
    check_help_open "$PDB" "$S"

    section "help patches: every example played headless"
    for h in onyx~-help.pd onyx-help.pd; do
        if $PY tests/pd/help.py --pd "$qpd $PDBIN -nrt" "$S" "$T/help" "$h"; then
            pass "help $h: every example"
        else fail "help $h: examples (see $T/help)"; fi
    done

    echo
    echo "$p: $(($(date +%s) - start)) s"
    if [ $FAILS = 0 ]; then echo "all ARM Pd tests passed ($p)"; else echo "$FAILS ARM Pd test(s) failed ($p)"; fi
    [ $FAILS = 0 ]
}

case ${1:-} in
fetch) fetch ;;
bela | gem) run "$1" ;;
*)
    sed -n '3,9p' "$0"
    exit 2
    ;;
esac
