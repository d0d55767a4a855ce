#!/bin/sh
# Runs `onyx info` (load, resolve, plan) and `onyx run` (with a zero input)
# on every malformed model. must_fail_* must exit 1 (with the phrase from
# expect.txt in the message, where it gives one); valid_* must exit 0; the
# rest may exit 0 or 1; anything else (a signal, a sanitizer report) fails
# the test.
# usage: tests/malformed/check.sh ONYX_BINARY WORKDIR
set -u
onyx=$1
work=$2
mkdir -p "$work"
/usr/bin/python3 "$(dirname "$0")/gen.py" "$work/models" >/dev/null || exit 1
/usr/bin/python3 -c "import numpy as np; np.save('$work/x.npy', np.zeros((1,1,16), np.float32))"
# sanitizers report with their own exit codes, not 1
export ASAN_OPTIONS=exitcode=99:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:exitcode=98:print_stacktrace=1
bad=0
n=0
for f in "$work"/models/*.onnx; do
    n=$((n + 1))
    name=$(basename "$f" .onnx)
    "$onyx" info "$f" >"$work/out.txt" 2>&1
    rc=$?
    "$onyx" run "$f" -i "$work/x.npy" -o "$work/run" >"$work/out2.txt" 2>&1
    rc2=$?
    case $name in
    must_fail_*)
        if [ $rc -ne 1 ]; then
            echo "FAIL $name: onyx info exited $rc, expected 1"; cat "$work/out.txt"; bad=$((bad + 1))
        fi
        phrase=$(sed -n "s/^$name //p" "$work/models/expect.txt")
        if [ -n "$phrase" ] && ! grep -q -F "$phrase" "$work/out.txt"; then
            echo "FAIL $name: the error does not name '$phrase'"; cat "$work/out.txt"; bad=$((bad + 1))
        fi ;;
    valid_*)
        if [ $rc -ne 0 ] || [ $rc2 -ne 0 ]; then
            echo "FAIL $name: exited $rc/$rc2, expected 0"; cat "$work/out.txt" "$work/out2.txt"; bad=$((bad + 1))
        fi ;;
    *)
        if [ $rc -gt 1 ]; then
            echo "FAIL $name: onyx info exited $rc"; cat "$work/out.txt"; bad=$((bad + 1))
        fi ;;
    esac
    if [ $rc2 -gt 1 ]; then
        echo "FAIL $name: onyx run exited $rc2"; cat "$work/out2.txt"; bad=$((bad + 1))
    fi
done
echo "malformed models: $n checked, $bad failed"
[ $bad -eq 0 ]
