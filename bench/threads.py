#!/usr/bin/python3
"""bench/threads.py - the scaling of the GEMM-bound zoo models from one
thread to N (default 2): onyx `--threads N` in both builds (OpenBLAS: bin/onyx;
BLAS=none: build/none/onyx) and ONNX Runtime with N intra-op threads
(bench/ort/ort_time.js, ORT_THREADS=N), in interleaved rounds on one
machine; a figure is the lowest per-round median.

usage: /usr/bin/python3 bench/threads.py [--rounds R] [--seconds S] [--threads N] [MODEL...]

onyx binds the zoo's input shapes with --shape (the reference input's), ORT
runs that reference input; ORT's times include its binding's per-call cost
(about 12 us here, well under a percent of these models' times). Prints a
markdown table: per contender the 1-thread and N-thread microseconds and the
speed-up."""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = ["siren_mlp", "simple_conv_1d", "resnet_1d", "transformer_block",
          "transformer_block_bf"]


def onyx_time(onyx, model, threads, seconds, shapes):
    cmd = [onyx, "bench", model, "--json", "--seconds", str(seconds),
           "--threads", str(threads)]
    for name, dims in shapes.items():
        cmd += ["--shape", "%s=%s" % (name, ",".join(map(str, dims)))]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["median_us"]


def ort_time(model, feeds, threads, runs):
    env = dict(os.environ, ORT_THREADS=str(threads))
    args = ["node", os.path.join(HERE, "ort", "ort_time.js"), str(runs), model] + \
        ["%s=%s" % kv for kv in feeds.items()]
    r = subprocess.run(args, capture_output=True, text=True, check=True, env=env)
    return json.loads(r.stdout.splitlines()[0])["median_us"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=100, help="ORT calls per round")
    ap.add_argument("models", nargs="*", default=MODELS)
    a = ap.parse_args()
    builds = [("onyx OpenBLAS", os.path.join(ROOT, "bin", "onyx")),
              ("onyx BLAS=none", os.path.join(ROOT, "build", "none", "onyx"))]
    builds = [(n, b) for n, b in builds if os.access(b, os.X_OK)]
    have_ort = subprocess.run(["node", "-e", "require('%s')" % os.path.join(
        ROOT, "tests", "thirdparty", "npy.js")], capture_output=True).returncode == 0
    best = {}
    for r in range(a.rounds):
        for m in a.models:
            d = os.path.join(ROOT, "models", "zoo", m)
            meta = json.load(open(os.path.join(d, "meta.json")))
            feeds, shapes = {}, {}
            for spec in meta["inputs"]:
                f = os.path.join(d, "input_%s.npy" % spec["name"])
                feeds[spec["name"]] = f
                shapes[spec["name"]] = list(np.load(f).shape)
            model = os.path.join(d, "model.onnx")
            for n in (1, a.threads):
                for name, b in builds:
                    t = onyx_time(b, model, n, a.seconds, shapes)
                    key = (m, name, n)
                    best[key] = min(best.get(key, 1e30), t)
                if have_ort:
                    t = ort_time(model, feeds, n, a.runs)
                    key = (m, "ORT", n)
                    best[key] = min(best.get(key, 1e30), t)
            sys.stderr.write("round %d %s done\n" % (r + 1, m))
    names = [n for n, _ in builds] + (["ORT"] if have_ort else [])
    print("| model | " + " | ".join("%s 1 / %d threads (us) | speed-up" % (n, a.threads)
                                    for n in names) + " |")
    print("|---|" + "---|---|" * len(names))
    for m in a.models:
        cells = []
        for n in names:
            t1, tn = best[(m, n, 1)], best[(m, n, a.threads)]
            cells.append("%.0f / %.0f | %.2f" % (t1, tn, t1 / tn))
        print("| %s | %s |" % (m, " | ".join(cells)))


if __name__ == "__main__":
    main()
