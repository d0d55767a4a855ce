#!/bin/sh
# `onyx run` under valgrind (memcheck): every zoo and trained model, and the
# malformed-model corpus's refusals, must run with no memory error and no
# leak (--leak-check=full --error-exitcode=1).
# usage: tests/valgrind_run.sh ONYX_BINARY WORKDIR [MALFORMED_MODELS_DIR]
set -u
onyx=$1 work=$2 malformed=${3:-}
mkdir -p "$work"
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1"
fails=0 n=0
check() { # label, then the command's arguments
    label=$1; shift
    n=$((n + 1))
    $VG "$onyx" "$@" >"$work/out.txt" 2>"$work/err.txt"
    rc=$?
    if [ $rc -gt 1 ] || grep -q '^==[0-9]*==' "$work/err.txt"; then
        echo "FAIL valgrind $label (exit $rc)"; cat "$work/err.txt"; fails=$((fails + 1))
    fi
}
for d in models/zoo/*/; do
    name=$(basename "$d")
    set --
    for i in "$d"input_*.npy; do
        base=$(basename "$i" .npy)
        set -- "$@" -i "${base#input_}=$i"
    done
    check "run $name" run "$d/model.onnx" "$@" -o "$work/out"
done
for m in models/trained/*.onnx; do
    check "info $(basename "$m")" info "$m"
done
# refusals: the error paths free what they allocated
for f in ${malformed:+"$malformed"/must_fail_*.onnx}; do
    [ -f "$f" ] || continue
    case $f in *million*) continue ;; esac # slow under valgrind, same path as the others
    check "refuse $(basename "$f")" info "$f"
done
echo "valgrind: $n runs, $fails failed"
[ $fails -eq 0 ]
