#!/bin/sh
# The onyx command's interface: exit statuses, --help, input matching by
# position and by name, missing / extra / mis-shaped inputs, output names;
# and the rough edges of issue 13: every option in --help, bench's block,
# info's refused --shape and sample_rate, symbolic shapes by name, test on a
# model file, unreadable sound files, output formats, options named in
# their errors.
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

# absent PATTERN: the last expect's output must not contain PATTERN
absent() {
    if grep -qF -- "$1" "$w/out"; then
        echo "FAIL: the output of the check above contains '$1':"
        sed 's/^/    /' "$w/out"
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
expect 2 "--shape x=1,,2: want NAME=D1,D2,..." "$onyx" info "$add" --shape x=1,,2
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

# ---- issue 13's rough edges ----
root=$(cd "$(dirname "$0")/../.." && pwd)
od=$root/models/trained/overdrive.onnx # x [1,T,1], h [1,1,16], sample_rate 48000
/usr/bin/python3 - "$w" <<'PY'
import sys, wave, numpy as np
w = sys.argv[1]
x = (0.5 * np.sin(np.arange(4800) * 2 * np.pi * 220 / 48000) * 32767).astype('<i2')
f = wave.open(w + "/sine.wav", "wb")
f.setnchannels(1); f.setsampwidth(2); f.setframerate(48000); f.writeframes(x.tobytes()); f.close()
np.save(w + "/x_wide.npy", np.zeros((1, 64, 2), np.float32))
np.save(w + "/h.npy", np.zeros((1, 1, 16), np.float32))
PY

# --help lists every command, and every option each command's help names
expect 0 "" "$onyx" --help
cp "$w/out" "$w/main_help"
for c in info run test process bench; do
    grep -q "^  $c " "$w/main_help" || { echo "FAIL: onyx --help omits '$c'"; fails=$((fails + 1)); }
    "$onyx" $c --help >"$w/help_$c" 2>&1
    for o in $(grep -o -- '--[a-z][a-z-]*' "$w/help_$c" | sort -u); do
        [ "$o" = --help ] && continue
        # the option on the command's own lines of the main help
        sed -n "/^  $c /,/^  [a-z]/p" "$w/main_help" | grep -q -- "$o" ||
            { echo "FAIL: onyx --help omits $c $o"; fails=$((fails + 1)); }
    done
done
expect 0 "usage: onyx bench" "$onyx" help bench

# bench: a symbolic time axis gets the block [onyx~] plays (64), or --block
expect 0 '"block":64,' "$onyx" bench "$od" --runs 3 --warmup 1 --json
expect 0 '"block":16,' "$onyx" bench "$od" --runs 3 --warmup 1 --json --block 16
expect 0 '"runs":3,"repeat":5,' "$onyx" bench "$od" --runs 3 --warmup 1 --json --repeat 5
expect 0 "block 64 samples" "$onyx" bench "$od" --runs 3 --warmup 1
expect 0 "symbolic time axis bound to 64 samples" "$onyx" bench "$od" --runs 3 --warmup 1

# info: a shape the model refuses is an error and no info; sample_rate shown
expect 1 "input 'x' has rank 2, the model expects 3" "$onyx" info "$od" --shape x=1,64
absent "opset:"
expect 1 "the model has no input named 'nope'" "$onyx" info "$od" --shape nope=1
absent "opset:"
expect 0 "sample_rate: 48000 (metadata)" "$onyx" info "$od"
expect 0 "x                        float32  [1,T,1]" "$onyx" info "$od"

# run names a symbolic dim as info does
expect 1 "input 'x' has shape [1,64,2], the model expects [1,T,1]" \
    "$onyx" run "$od" -i "$w/x_wide.npy" -i "$w/h.npy" -o "$w/o6"

# test on a model file or another binary file: a clear error, not a list
expect 1 "a model, not a test" "$onyx" test "$od"
absent "no such test folder"
expect 1 "a binary file, not a test" "$onyx" test "$w/sine.wav"
printf '{"name": "overdrive",\n "sample_rate": 48000}\n' >"$w/meta.json"
expect 1 "meta.json: not a test list: none of its 2 lines names a test folder" "$onyx" test "$w/meta.json"
absent "no such test folder"

# sound files that cannot be read: the file and the reason
expect 1 "missing.wav: cannot open: No such file or directory" \
    "$onyx" process "$od" "$w/missing.wav" "$w/o.wav"
expect 1 "x.npy: not a sound file libsndfile reads" "$onyx" process "$od" "$w/x.npy" "$w/o.wav"

# process writes the format OUT's extension names, or refuses it up front
expect 0 "FLAC 24-bit" "$onyx" process "$od" "$w/sine.wav" "$w/o.flac"
head -c 4 "$w/o.flac" | grep -q fLaC || { echo "FAIL: o.flac is not FLAC"; fails=$((fails + 1)); }
expect 0 "WAV float32" "$onyx" process "$od" "$w/sine.wav" "$w/o.wav"
expect 0 "AIFF float32" "$onyx" process "$od" "$w/sine.wav" "$w/o.aiff"
rm -f "$w/o.mp3"
expect 2 "not '.mp3'" "$onyx" process "$od" "$w/sine.wav" "$w/o.mp3"
[ ! -e "$w/o.mp3" ] || { echo "FAIL: o.mp3 was written"; fails=$((fails + 1)); }
expect 2 "not '(no extension)'" "$onyx" process "$od" "$w/sine.wav" "$w/o"

# --block is for a symbolic time axis: a static model says it plays its own
expect 0 "--block 32 ignored" "$onyx" process "$root/models/trained/sound_classes.onnx" \
    "$w/sine.wav" "$w/sc.csv" --block 32
expect 0 "--block 32 ignored" "$onyx" bench "$root/models/trained/sound_classes.onnx" \
    --block 32 --runs 2 --warmup 0

# every option's wrong value names the option (and the value)
expect 2 "--runs 0: want" "$onyx" bench "$od" --runs 0
expect 2 "--warmup -1: want" "$onyx" bench "$od" --warmup -1
expect 2 "--repeat 0: want" "$onyx" bench "$od" --repeat 0
expect 2 "--threads 0: want" "$onyx" bench "$od" --threads 0
expect 2 "--block 0: want" "$onyx" bench "$od" --block 0
expect 2 "--seconds x: want" "$onyx" bench "$od" --seconds x
expect 2 "--sr 0: want" "$onyx" bench "$od" --sr 0
expect 2 "--shape x: want" "$onyx" bench "$od" --shape x
expect 2 "--shape x=a: want" "$onyx" run "$od" --shape x=a
expect 2 "-i x=: want [NAME=]FILE" "$onyx" run "$od" -i x=
expect 2 "--block 1.5: want" "$onyx" process "$od" "$w/sine.wav" "$w/o.wav" --block 1.5
expect 2 "--set g: want" "$onyx" process "$od" "$w/sine.wav" "$w/o.wav" --set g
expect 2 "--state h: want IN:OUT" "$onyx" process "$od" "$w/sine.wav" "$w/o.wav" --state h
expect 2 "--shape x=1,,1: want" "$onyx" process "$od" "$w/sine.wav" "$w/o.wav" --shape x=1,,1
expect 2 "--controls needs" "$onyx" process "$od" "$w/sine.wav" "$w/o.wav" --controls

echo "cli: $n checks, $fails failed"
[ "$fails" -eq 0 ]
