#!/usr/bin/python3
"""make bench-arm: instructions per inference of every zoo and trained model
on both Bela boards, counted under qemu, and what they predict for the boards.

Wall time under emulation means nothing, but the number of instructions a
program executes is exact and repeatable. bench/arm/insn_run.c runs a model
RUNS times through the public run API (state outputs fed back); qemu with
bench/arm/insn_plugin.so counts the instructions. The count for 2N runs minus
the count for N runs is N inferences, loading and planning cancelled out.

The time and real-time estimates assume cycles per instruction (CPI) that are
assumptions, not measurements: printed with the table.

  bench_arm.py [--zoo models/zoo] [--trained models/trained] [--out bench/results.arm]
               [--boards bela,gem] [MODEL...]
"""
import argparse
import json
import os
import subprocess
import sys
import time

BOARDS = {
    # name: (qemu, build dir, label, clock MHz, assumed cycles per instruction)
    "bela": ("qemu-arm", "build/bela", "Bela (Cortex-A8, 1 GHz, armv7 NEON)", 1000.0, 1.5),
    "gem": ("qemu-aarch64", "build/gem", "Bela Gem (Cortex-A53, 1.4 GHz, aarch64)", 1400.0, 1.0),
}
SR = 44100.0  # Bela's audio rate

# Published IREE-on-Bela figures (ms per inference), quoted in issue 10 of
# this project; transformer_block and resnet_1d crashed there.
IREE_BELA_MS = {"basic_mlp": 222, "single_mm": 19.7, "siren_mlp": 778,
                "simple_conv_1d": 2549, "mdrnn": 37.6,
                "transformer_block": "crashed", "resnet_1d": "crashed"}

# RTNeural's run-time API, per-sample GRU(1,H) + Linear(H,1), instructions per
# sample under qemu (issue 10's calibration); onyx's goal is 0.6x of these.
RTNEURAL = {"bela": {"gru8": 1801, "gru16": 3104, "gru32": 6765, "gru64": 18556},
            "gem": {"gru8": 1462, "gru16": 2278, "gru32": 4500, "gru64": 11343}}
GOAL_RATIO = 0.6
PLUGIN = "build/bench/insn_plugin.so"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def load_meta(path):
    with open(path) as f:
        return json.load(f)


def cases(zoo, trained, names):
    """(label, model path, meta, T) for every model: per-sample recurrent
    models run one sample per call (T = 1, as in Pd with the default block)."""
    out = []
    metas = []
    if os.path.isdir(zoo):
        for d in sorted(os.listdir(zoo)):
            p = os.path.join(zoo, d, "meta.json")
            if os.path.exists(p):
                m = load_meta(p)
                metas.append((m["name"], os.path.join(zoo, d, m.get("file", "model.onnx")), m))
    if os.path.isdir(trained):
        for f in sorted(os.listdir(trained)):
            if f.endswith(".meta.json"):
                m = load_meta(os.path.join(trained, f))
                metas.append((m["name"], os.path.join(trained, m["file"]), m))
    for name, path, meta in metas:
        if names and name not in names:
            continue
        T = 1 if meta.get("time_axes") else None
        out.append((name, path, meta, T))
    return out


def bindings(meta, T):
    """--shape style NAME=D1,... for inputs with symbolic dims: the time axis
    gets T, any other symbolic dim 1."""
    axes = meta.get("time_axes") or {}
    out = []
    for spec in meta["inputs"]:
        if not any(isinstance(d, str) for d in spec["shape"]):
            continue
        dims = [d if not isinstance(d, str) else
                (T if axes.get(spec["name"]) == i else 1)
                for i, d in enumerate(spec["shape"])]
        out.append("%s=%s" % (spec["name"], ",".join(str(d) for d in dims)))
    return out


def count(board, path, runs, binds):
    """(instructions, vector float ops, scalar float ops) of RUNS runs"""
    qemu, build, _, _, _ = BOARDS[board]
    cmd = [qemu, "-plugin", PLUGIN + ",fp=on", "-L", os.environ.get("QEMU_ROOT", "/"),
           os.path.join(build, "insn_run"), path, str(runs)] + binds
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    n = fp = None
    for line in r.stderr.splitlines():
        if line.startswith("onyx-insns "):
            n = int(line.split()[1])
        if line.startswith("onyx-fp "):
            fp = [int(v) for v in line.split()[1:3]]
    if n is None or fp is None:
        raise RuntimeError("no instruction count from %s" % " ".join(cmd))
    return [n] + fp


def per_inference(board, path, binds):
    """(instructions, vector float ops, scalar float ops) per inference:
    (I(2N) - I(N)) / N, N chosen so that the N runs execute about 20 million
    instructions (at least 1, at most 1000)"""
    def diff(a, b, n):
        return [(x - y) / n for x, y in zip(a, b)]
    one = count(board, path, 1, binds)
    probe = diff(count(board, path, 2, binds), one, 1)
    n = max(1, min(1000, int(2e7 / max(probe[0], 1))))
    if n == 1:
        return probe
    return diff(count(board, path, 2 * n, binds), count(board, path, n, binds), n)


def stream_per_sample(board, path):
    """instructions per sample through the streaming runner as [onyx~ -sync
    -block 1] drives it (insn_run --stream): 64-frame host blocks, the count
    of 2N frames minus N frames over N"""
    qemu, build, _, _, _ = BOARDS[board]

    def one(frames):
        cmd = [qemu, "-plugin", PLUGIN, "-L", os.environ.get("QEMU_ROOT", "/"),
               os.path.join(build, "insn_run"), "--stream", "1", path, str(frames)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        for line in r.stderr.splitlines():
            if r.returncode == 0 and line.startswith("onyx-insns "):
                return int(line.split()[1])
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    n = 3200
    return (one(2 * n) - one(n)) / n


def macs_of(meta, T):
    if T is not None and "macs_per_step" in meta:
        return int(meta["macs_per_step"]) * T
    return int(meta.get("macs", 0))


def block_of(meta, T):
    """samples of audio one inference covers, or None for control-rate models;
    a step of the time axis covers samples_per_step samples (1 for the
    per-sample models, 512 for rave_decoder's latent frames)"""
    if T is not None:
        return T * int(meta.get("samples_per_step", 1))
    b = meta.get("block_length")
    return b if isinstance(b, int) and b >= 16 else None


def fmt_int(x):
    return "{:,}".format(int(round(x))).replace(",", " ")


def fmt_t(us):
    if us >= 1000:
        return "%.1f ms" % (us / 1000)
    return "%.2f us" % us if us < 10 else "%.1f us" % us


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zoo", default="models/zoo")
    ap.add_argument("--trained", default="models/trained")
    ap.add_argument("--out", default="bench/results.arm")
    ap.add_argument("--boards", default="bela,gem")
    ap.add_argument("models", nargs="*")
    a = ap.parse_args(argv)
    boards = [b for b in a.boards.split(",") if b]
    for b in boards:
        if b not in BOARDS:
            sys.exit("bench_arm: unknown board %s (bela, gem)" % b)
    t0 = time.time()
    rows = []
    for name, path, meta, T in cases(a.zoo, a.trained, a.models):
        row = {"model": name, "T": T, "macs": macs_of(meta, T), "block": block_of(meta, T)}
        binds = bindings(meta, T)
        for b in boards:
            n, fv, fs = per_inference(b, path, binds)
            _, _, _, mhz, cpi = BOARDS[b]
            us = n * cpi / mhz
            r = {"insns": n, "est_us": us, "fp_vector": fv, "fp_scalar": fs,
                 "macs_per_insn": row["macs"] / n if n else 0}
            if row["block"]:
                sr = meta.get("sample_rate", SR)
                r["rt_percent"] = 100.0 * us / (row["block"] / sr * 1e6)
            if T == 1 and int(meta.get("samples_per_step", 1)) == 1:
                r["stream_insns"] = stream_per_sample(b, path)
            if name in RTNEURAL.get(b, {}):
                r["rtneural"] = RTNEURAL[b][name]
                r["ratio"] = n / RTNEURAL[b][name]
                r["stream_ratio"] = r["stream_insns"] / RTNEURAL[b][name]
            row[b] = r
            log("%-20s %-5s %12s instructions per inference" % (name, b, fmt_int(n)))
        rows.append(row)
    info = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "seconds": round(time.time() - t0, 1),
            "boards": {b: {"label": BOARDS[b][2], "mhz": BOARDS[b][3], "cpi": BOARDS[b][4]}
                       for b in boards}}
    with open(a.out + ".json", "w") as f:
        json.dump({"info": info, "rows": rows}, f, indent=1)
    md = render(info, rows, boards)
    with open(a.out + ".md", "w") as f:
        f.write(md)
    print(md)


def render(info, rows, boards):
    L = ["# onyx on Bela: instructions per inference under qemu (%s, %s s)" %
         (info["date"], info["seconds"]), ""]
    L.append("Counted, not timed: each model runs N and 2N times through the public run API "
             "under qemu-user with a counting plugin (bench/arm/); the difference over N is one "
             "inference. Recurrent models run one sample per call with the state fed back. "
             "**Time and budget are estimates**, from assumed cycles per instruction:")
    for b in boards:
        bi = info["boards"][b]
        L.append("- %s: %.1f cycles per instruction assumed, so %.2f ns per instruction." %
                 (bi["label"], bi["cpi"], 1000.0 * bi["cpi"] / bi["mhz"]))
    L.append("")
    L.append("Budget: the share of real time at %d Hz that one inference of its block takes "
             "(a block of 1 sample is 22.7 us), or at the model's own sample_rate where its "
             "meta.json gives one; models without an audio block show n/a. "
             "MACs/insn: the model's multiply-adds per executed instruction. "
             "Vector: the share of executed float arithmetic instructions that work on "
             "4-float NEON vectors (the rest are scalar VFP / FP instructions)." % SR)
    L.append("")
    head = "| model | MACs |"
    sep = "|---|---:|"
    for b in boards:
        short = "Bela" if b == "bela" else "Gem"
        head += (" %s insns | %s MACs/insn | %s vector | %s est. time | %s budget |"
                 " %s stream insns/sample |" % ((short,) * 6))
        sep += "---:|---:|---:|---:|---:|---:|"
    head += " IREE on Bela (published) |"
    sep += "---:|"
    L += [head, sep]
    for r in rows:
        label = r["model"] + ((" (one sample per call)" if r["block"] == 1 else
                               " (one step, %d samples, per call)" % r["block"])
                              if r["T"] == 1 else "")
        line = "| %s | %s |" % (label, fmt_int(r["macs"]))
        for b in boards:
            x = r[b]
            tot = x["fp_vector"] + x["fp_scalar"]
            line += " %s | %.2f | %s | %s | %s |" % (
                fmt_int(x["insns"]), x["macs_per_insn"],
                ("%.0f%%" % (100.0 * x["fp_vector"] / tot)) if tot else "-",
                fmt_t(x["est_us"]),
                ("%.2f%%" % x["rt_percent"]) if "rt_percent" in x else "n/a")
            line += " %s |" % (fmt_int(x["stream_insns"]) if "stream_insns" in x else "")
        iree = IREE_BELA_MS.get(r["model"])
        line += " %s |" % ("" if iree is None else iree if isinstance(iree, str) else "%g ms" % iree)
        L.append(line)
    rt = [r for r in rows if any("rtneural" in r.get(b, {}) for b in boards)]
    if rt:
        L += ["", "Per-sample GRU(1,H) + Linear(H,1) against RTNeural's run-time API "
              "(instructions per sample under qemu, issue 10's calibration; goal %.1fx), "
              "through the run API and through the streaming runner as `[onyx~ -sync -block 1]` "
              "drives it (64-frame host blocks):" % GOAL_RATIO, ""]
        L.append("| model | " + " | ".join("%s RTNeural | %s run API | ratio | %s stream | ratio" % ((b,) * 3)
                                          for b in boards) + " |")
        L.append("|---|" + "---:|---:|---:|---:|---:|" * len(boards))
        for r in rt:
            cells = []
            for b in boards:
                x = r[b]
                def mark(v):
                    return "%.2f%s" % (v, "" if v <= GOAL_RATIO else " **missed**")
                cells.append("%s | %s | %s | %s | %s" % (
                    fmt_int(x["rtneural"]), fmt_int(x["insns"]), mark(x["ratio"]),
                    fmt_int(x["stream_insns"]), mark(x["stream_ratio"])))
            L.append("| %s | %s |" % (r["model"], " | ".join(cells)))
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main(sys.argv[1:])
