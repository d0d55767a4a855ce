#!/bin/sh
# The onyx command's interface: exit statuses, --help, input matching by
# position and by name, missing / extra / mis-shaped inputs, output names.
# usage: tests/cli/check.sh ONYX_BINARY WORKDIR
set -u
onyx=$1
w=$2
D=${ONYX_TESTDATA:-/usr/share/libonnx-testdata/data}
mkdir -p "$w"
fails=0
n=0

# expect STATUS PATTERN CMD...: runs CMD, checks its exit status and that
# stdout+stderr contain PATTERN (a fixed string; "" matches anything)
expect() {
    want=$1 pat=$2
    shift 2
    n=$((n + 1))
    "$@" >"$w/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ] || ! grep -qF -- "$pat" "$w/out"; then
        echo "FAIL: $* -> exit $got (want $want), output:"
        sed 's/^/    /' "$w/out"
        echo "    (wanted to see: $pat)"
        fails=$((fails + 1))
    fi
}

/usr/bin/python3 - "$w" <<'PY'
import sys, numpy as np
w = sys.argv[1]
np.save(w + "/x.npy", np.arange(60, dtype=np.float32).reshape(3, 4, 5))
np.save(w + "/y.npy", np.ones((3, 4, 5), np.float32))
np.save(w + "/bad.npy", np.ones((3, 4), np.float32))
np.save(w + "/int.npy", np.ones((3, 4, 5), np.int64))
np.save(w + "/f64.npy", np.ones((3, 4, 5), np.float64))
open(w + "/junk.npy", "wb").write(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'")
PY
add=$D/node/test_add/model.onnx

expect 2 "usage: onyx COMMAND" "$onyx"
expect 0 "usage: onyx COMMAND" "$onyx" --help
expect 2 "unknown command 'frobnicate'" "$onyx" frobnicate
for c in info run test; do
    expect 0 "usage: onyx $c" "$onyx" $c --help
done
expect 2 "no MODEL given" "$onyx" info
expect 2 "unknown option '--bogus'" "$onyx" info "$add" --bogus
expect 2 "bad shape" "$onyx" info "$add" --shape x=1,,2
expect 2 "needs" "$onyx" run "$add" -i
expect 2 "no PATH given" "$onyx" test
expect 1 "cannot open" "$onyx" info "$w/nope.onnx"
expect 1 "cannot open" "$onyx" run "$w/nope.onnx"

# info
expect 0 "opset: " "$onyx" info "$add"
expect 0 "x                        float32  [3,4,5]" "$onyx" info "$add"
expect 0 "Add                      1" "$onyx" info "$add"
expect 0 "flops: 60 per inference" "$onyx" info "$add"

# run: by position, by name, converted float64, errors naming the input
expect 0 "sum float32 [3,4,5]" "$onyx" run "$add" -i "$w/x.npy" -i "$w/y.npy" -o "$w/o1"
expect 0 "sum float32 [3,4,5]" "$onyx" run "$add" -i y="$w/y.npy" -i x="$w/x.npy" -o "$w/o2"
expect 0 "sum float32 [3,4,5]" "$onyx" run "$add" -i "$w/x.npy" -i "$w/f64.npy" -o "$w/o3"
expect 1 "input 'y' is missing" "$onyx" run "$add" -i "$w/x.npy" -o "$w/o4"
expect 1 "extra input file" "$onyx" run "$add" -i "$w/x.npy" -i "$w/y.npy" -i "$w/y.npy"
expect 1 "no input named 'z'" "$onyx" run "$add" -i z="$w/x.npy"
expect 1 "input 'y' has rank 2, the model expects 3" "$onyx" run "$add" -i "$w/x.npy" -i "$w/bad.npy"
expect 1 "input 'y': the file holds int64, the model takes float32" "$onyx" run "$add" -i "$w/x.npy" -i "$w/int.npy"
expect 1 "junk.npy" "$onyx" run "$add" -i "$w/x.npy" -i "$w/junk.npy"
expect 1 "input 'x' is given twice" "$onyx" run "$add" -i "$w/x.npy" -i x="$w/y.npy"
/usr/bin/python3 -c "
import numpy as np, sys
s = np.load('$w/o1/sum.npy'); x = np.load('$w/x.npy')
sys.exit(0 if s.dtype == np.float32 and (s == x + 1).all() else 1)" || {
    echo "FAIL: run wrote a wrong sum.npy"; fails=$((fails + 1)); }
# .pb inputs, and an output name with characters that become _
expect 0 "" "$onyx" run "$D/node/test_gru_defaults/model.onnx" \
    -i "$D/node/test_gru_defaults/test_data_set_0/input_0.pb" \
    -i "$D/node/test_gru_defaults/test_data_set_0/input_1.pb" \
    -i "$D/node/test_gru_defaults/test_data_set_0/input_2.pb" -o "$w/o5"
[ -f "$w/o5/Y_h.npy" ] || { echo "FAIL: no Y_h.npy written"; fails=$((fails + 1)); }

# test: a folder, a folder of folders, a list; a failing comparison
expect 0 "1 passed, 0 failed, 0 skipped" "$onyx" test "$D/node/test_add"
printf 'node/test_add\n# a comment\n\nnode/test_relu\n' >"$w/list.txt"
expect 0 "2 passed, 0 failed, 0 skipped" "$onyx" test "$w/list.txt"
expect 1 "no such test folder" "$onyx" test "$w/missing_dir"
rm -rf "$w/t"
mkdir -p "$w/t/test_wrong/test_data_set_0"
cp "$add" "$w/t/test_wrong/model.onnx"
cp "$D/node/test_add/test_data_set_0/input_0.pb" "$D/node/test_add/test_data_set_0/input_1.pb" "$w/t/test_wrong/test_data_set_0/"
cp "$D/node/test_add/test_data_set_0/input_0.pb" "$w/t/test_wrong/test_data_set_0/output_0.pb"
expect 1 "FAIL $w/t/test_wrong: test_data_set_0: output 'sum': element 0" "$onyx" test "$w/t"

echo "cli: $n checks, $fails failed"
[ "$fails" -eq 0 ]
