#!/bin/sh
# The deken packages of make deken, each unzipped into an externals folder of
# its own and opened from there in a Pd of its architecture.
#
#   tests/pd/deken.sh [amd64] [armv7] [arm64]   (default: all three)
#
# For each: make deken-ARCH; the file name is the one deken parses
# (LIBNAME[vVERSION](Linux-ARCH-32).dek) with its object list beside it; the
# zip holds one folder, onyx/, with the files make install puts there; the
# externals are built for ARCH (ELF machine, armv7 for the 32-bit ARM one)
# and need only the C library. Then, unzipped, with onyx/ as the only folder
# on Pd's path: right-click -> Help opens both help patches, which load every
# model with no error (lib.sh's check_installed), and every help example
# plays (help.py --installed). amd64 runs in Debian's Pd, armv7 and
# arm64 in Debian's ARM Pd under qemu (tests/pd/arm.sh fetch puts it in
# build/pd-arm/). Exits non-zero when any check fails.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
T=$ROOT/build/deken/test
mkdir -p "$T"
. tests/pd/lib.sh
# deken's own pattern for a package's file name
DEKEN_RE='^([^][()]+)(\[v[^][()]+\])?((\([^][()]+\))*)\.(dek)$'

one() {
    arch=$1
    echo "== deken package for $arch"
    make -s -j"${JOBS:-2}" deken-$arch >"$T/build-$arch.log" 2>&1 ||
        { fail "make deken-$arch"; sed 's/^/   /' "$T/build-$arch.log"; return; }
    dek=$(sed -n 's|^wrote build/deken/||p' "$T/build-$arch.log")
    if echo "$dek" | grep -Eq "$DEKEN_RE" && echo "$dek" | grep -q "^onyx\[v[^]]*\](Linux-$arch-32)\.dek$" &&
        grep -q "^onyx~	" "build/deken/$dek.txt" && grep -q "^onyx	" "build/deken/$dek.txt"; then
        pass "$dek: deken's file name, and its object list"
    else fail "'$dek': not onyx[vVERSION](Linux-$arch-32).dek, or no object list"; fi

    # what the zip holds against what make install installs
    for f in onyx~.pd_linux onyx.pd_linux README.md help/*.pd models/trained/*.onnx doc/*.png; do
        echo "onyx/${f#help/}"
    done | sort >"$T/want-$arch"
    unzip -Z1 "build/deken/$dek" | grep -v '/$' | sort >"$T/got-$arch"
    if cmp -s "$T/want-$arch" "$T/got-$arch"; then
        pass "$dek holds onyx/ as make install lays it out: $(wc -l <"$T/got-$arch") files"
    else
        fail "$dek: not the files make install puts in onyx/ (want, got):"
        diff "$T/want-$arch" "$T/got-$arch" | sed 's/^/   /'
    fi

    D=$T/$arch/externals
    rm -rf "$T/$arch"
    mkdir -p "$D"
    unzip -q "build/deken/$dek" -d "$D" || { fail "unzip $dek"; return; }
    # the ELF machine, and the Pd to open the help in (the ARM ones under
    # qemu at real-time pace, with time for the models to load)
    case $arch in
    amd64) machine=X86-64 pdbin=$(command -v pd) pd=pd ms=1500 ;;
    armv7) machine=ARM pdbin=$ROOT/build/pd-arm/armhf/usr/lib/puredata/bin/pd ms=6000
        pd="qemu-arm -L ${QEMU_ROOT:-/} $pdbin -nrt" ;;
    arm64) machine=AArch64 pdbin=$ROOT/build/pd-arm/arm64/usr/lib/puredata/bin/pd ms=6000
        pd="qemu-aarch64 -L ${QEMU_ROOT:-/} $pdbin -nrt" ;;
    esac
    ok=1
    for x in "$D"/onyx/*.pd_linux; do
        readelf -h "$x" | grep -q "Machine:.*$machine" || ok=0
        [ $arch != armv7 ] || readelf -A "$x" | grep -q 'Tag_CPU_arch: v7$' || ok=0
        readelf -d "$x" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' |
            grep -vqx -e 'libc\.so\.6' -e 'libm\.so\.6' -e 'libpthread\.so\.0' && ok=0
    done
    if [ $ok = 1 ]; then pass "$dek: externals for $arch ($machine), needing only the C library"
    else fail "$dek: externals not for $machine, or needing more than the C library"; fi

    if [ ! -x "$pdbin" ]; then
        fail "no Pd for $arch ($pdbin; for ARM: tests/pd/arm.sh fetch)"
        return
    fi
    check_installed "timeout 300 $pd" "$D/onyx" $ms
    # under qemu the threaded [onyx~] overruns: help.py checks that it
    # plays, not that its level never drops (as in tests/pd/arm.sh)
    [ $arch = amd64 ] && unset ONYX_PD_EMULATED || export ONYX_PD_EMULATED=1
    for h in onyx~-help.pd onyx-help.pd; do
        if $PY tests/pd/help.py --pd "$pd" --installed "$D/onyx" "$T/help-$arch" "$h"; then
            pass "$dek: help $h, every example"
        else fail "$dek: help $h examples (see $T/help-$arch)"; fi
    done
}

for a in ${*:-amd64 armv7 arm64}; do
    case $a in amd64 | armv7 | arm64) one $a ;; *) echo "unknown architecture $a"; exit 2 ;; esac
done
echo
if [ $FAILS = 0 ]; then echo "all deken package tests passed"
else echo "$FAILS deken package test(s) failed"; fi
[ $FAILS = 0 ]
