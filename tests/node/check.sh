#!/bin/sh
# tests/node/check.sh ONYX [OUT] - ONNX's whole node test suite
# (/usr/share/libonnx-testdata/data/node, or $ONYX_TESTDATA/node).
#
# Every test must pass except those listed in tests/node/refused.txt, each
# with the reason ONNX's tests fall outside what onyx runs (string tensors,
# sequence/map/optional values, the training domain, random numbers). A
# listed test that now passes fails the check too, so the list stays true.
set -u
ONYX=$1
OUT=${2:-build/node}
DATA=${ONYX_TESTDATA:-/usr/share/libonnx-testdata/data}/node
LIST=$(dirname "$0")/refused.txt
mkdir -p "$OUT"
"$ONYX" test "$DATA" >"$OUT/node.txt" 2>&1
tail -n 1 "$OUT/node.txt"
sed -n -E 's#^(FAIL|SKIP) [^ ]*/(test_[^:/ ]*).*#\2#p' "$OUT/node.txt" | sort -u >"$OUT/not-passed"
sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$LIST" | awk '{print $1}' | sort -u >"$OUT/listed"
bad=0
for t in $(comm -23 "$OUT/not-passed" "$OUT/listed"); do
    grep -E "^(FAIL|SKIP) [^ ]*/$t[:]" "$OUT/node.txt"
    bad=1
done
for t in $(comm -13 "$OUT/not-passed" "$OUT/listed"); do
    echo "listed in $LIST but passes now: $t"
    bad=1
done
passed=$(grep -c '^PASS' "$OUT/node.txt")
listed=$(wc -l <"$OUT/listed")
echo "node suite: $passed passed, $listed refused as listed"
exit $bad
