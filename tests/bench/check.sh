#!/bin/sh
# `onyx bench`: its options, its JSON, and the --trace file (valid Chrome
# trace-event JSON with one complete event per node per profiled run).
# usage: tests/bench/check.sh ONYX_BINARY WORKDIR  (after `make models`)
set -eu
onyx=$1
w=$2
mkdir -p "$w"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for m in gru32 simple_conv_1d log_spectrum; do
    model=models/zoo/$m/model.onnx
    "$onyx" bench "$model" --runs 20 --warmup 2 --json --profile --trace "$w/$m.trace.json" \
        >"$w/$m.json" || fail "$m: onyx bench exited $?"
    /usr/bin/python3 - "$w/$m.json" "$w/$m.trace.json" "$m" <<'PY' || fail "$m: bad JSON"
import json, sys
r = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))
name = sys.argv[3]
for k in ["min_us", "median_us", "p99_us", "max_us", "inferences_per_s", "arena_bytes",
          "weight_bytes", "peak_rss_bytes", "flops", "gflops", "ops", "node_times"]:
    assert k in r, "missing " + k
assert r["runs"] == 20
assert 0 < r["min_us"] <= r["median_us"] <= r["p99_us"] <= r["max_us"]
assert abs(sum(o["share"] for o in r["ops"]) - 1) < 0.01
# the real-time budget: gru32's symbolic time axis gets the block [onyx~]
# plays (64), the others their own length 1024
want_block = {"gru32": 64, "simple_conv_1d": 1024, "log_spectrum": 1024}[name]
assert r["block"] == want_block, r["block"]
assert abs(r["budget_us"] - want_block / 48000 * 1e6) < 1e-3
ev = t["traceEvents"]
nodes = [e for e in ev if e.get("ph") == "X" and e.get("cat") != "run"]
runs = [e for e in ev if e.get("cat") == "run"]
assert len(runs) == r["profile_runs"], (len(runs), r["profile_runs"])
assert len(nodes) == r["nodes"] * r["profile_runs"]
for e in nodes:
    assert e["dur"] >= 0 and e["ts"] >= 0 and e["pid"] == 1 and "op" in e["args"]
# every node lies inside its run
for i, run in enumerate(runs):
    mine = nodes[i * r["nodes"]:(i + 1) * r["nodes"]]
    for e in mine:
        assert run["ts"] - 1 <= e["ts"] and e["ts"] + e["dur"] <= run["ts"] + run["dur"] + 1
PY
done
# the table output and its profile
"$onyx" bench models/zoo/gru32/model.onnx --seconds 0.2 --profile >"$w/table.txt" || fail "table: exit $?"
grep -q "% of the budget" "$w/table.txt" || fail "table: no real-time line"
grep -q "^  GRU " "$w/table.txt" || fail "table: no GRU row in the profile"
# --shape binds the block: 32 samples per call; so does --block, and 1 is
# the per-sample call
"$onyx" bench models/zoo/gru32/model.onnx --runs 5 --shape x=1,32,1 --json >"$w/b32.json"
/usr/bin/python3 -c "import json,sys; sys.exit(json.load(open('$w/b32.json'))['block'] != 32)" ||
    fail "--shape x=1,32,1 did not give block 32"
for b in 1 32; do
    "$onyx" bench models/zoo/gru32/model.onnx --runs 5 --block $b --json >"$w/block$b.json"
    /usr/bin/python3 -c "import json,sys; sys.exit(json.load(open('$w/block$b.json'))['block'] != $b)" ||
        fail "--block $b did not give block $b"
done
# usage errors exit 2, model errors 1
for args in "" "--runs" "--runs 0" "--runs x" "--seconds -1" "--threads 0" "--bogus" "--shape x" \
    "--block 0" "--block x" "--set" "--set x" "--set =1" "--set x=" "--set x=1,"; do
    set +e
    "$onyx" bench models/zoo/gru32/model.onnx $args >/dev/null 2>&1
    rc=$?
    set -e
    [ -z "$args" ] && continue
    [ $rc -eq 2 ] || fail "bench $args exited $rc, expected 2"
done
# --set: an input's values (gru32's h: 1x1x32 zeros, its x 0.5); a name the
# model lacks or a wrong count is a model error
"$onyx" bench models/zoo/gru32/model.onnx --runs 5 --block 1 --set x=0.5 >/dev/null ||
    fail "--set x=0.5: exit $?"
set +e
for args in "--set nope=1" "--set x=1,2"; do
    msg=$("$onyx" bench models/zoo/gru32/model.onnx --runs 5 --block 1 $args 2>&1 >/dev/null)
    rc=$?
    [ $rc -eq 1 ] && echo "$msg" | grep -q -e "no input of that name" -e "takes 1 value" ||
        fail "bench $args: exit $rc, '$msg'"
done
"$onyx" bench >/dev/null 2>&1; [ $? -eq 2 ] || fail "bench without a model should exit 2"
"$onyx" bench "$w/missing.onnx" >/dev/null 2>&1; [ $? -eq 1 ] || fail "bench on a missing file should exit 1"
set -e
echo "bench: $fails failed"
[ $fails -eq 0 ]
