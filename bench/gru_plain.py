#!/usr/bin/python3
"""Per-sample GRU: onyx against a plain C step (bench/gru_plain.c), in one
run, interleaved rounds (issue 12: onyx at most 0.65x of the plain step).

usage: bench/gru_plain.py --onyx BIN --plain BIN [--rounds N] [--seconds S] [H ...]

For each H (default 8 16 32 64) and round: the plain step's median ns per
step, then `onyx bench models/zoo/gruH/model.onnx --block 1 --repeat 1000`
(one sample per call through the public run API, timed 1000 calls at a
time as the plain step is timed 1000 steps at a time). Prints each ratio onyx/plain per round and their spread.
"""
import argparse
import json
import statistics
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onyx", required=True)
    ap.add_argument("--plain", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("sizes", nargs="*", type=int, default=[8, 16, 32, 64])
    a = ap.parse_args()
    print("| GRU(1,H)+Linear per sample | plain C ns (median of rounds) | onyx ns | onyx/plain: min | median | max |")
    print("|---|---|---|---|---|---|")
    for h in a.sizes:
        plain, onyx, ratio = [], [], []
        for _ in range(a.rounds):
            p = float(subprocess.run([a.plain, str(h), str(a.seconds)], check=True,
                                     capture_output=True, text=True).stdout)
            out = subprocess.run([a.onyx, "bench", "models/zoo/gru%d/model.onnx" % h, "--block", "1", "--repeat", "1000",
                                  "--seconds", str(a.seconds), "--json"], check=True,
                                 capture_output=True, text=True).stdout
            o = json.loads(out)["median_us"] * 1000
            plain.append(p)
            onyx.append(o)
            ratio.append(o / p)
        print("| H=%d | %.1f | %.1f | %.2f | %.2f | %.2f |" % (
            h, statistics.median(plain), statistics.median(onyx), min(ratio),
            statistics.median(ratio), max(ratio)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
