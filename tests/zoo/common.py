"""Shared by the zoo checks: find the models' meta.json files, run
`onyx run` on .npy inputs, compare with PyTorch's outputs, and the main()
loop over the models."""
import glob
import json
import os
import subprocess
import sys
import time

import numpy as np


def metas(dirs):
    """Every model described under DIRs: <dir>/*/meta.json (the generated zoo)
    and <dir>/*.meta.json (the committed trained models), sorted by name."""
    found = []
    for d in dirs:
        found += glob.glob(os.path.join(d, "*", "meta.json"))
        found += glob.glob(os.path.join(d, "*.meta.json"))
    out = []
    for path in sorted(found):
        with open(path) as f:
            meta = json.load(f)
        meta["_dir"] = os.path.dirname(path)
        out.append(meta)
    return out


def model_path(meta):
    return os.path.join(meta["_dir"], meta["file"])


def reference(meta):
    """(inputs, outputs) as dicts name -> ndarray, in graph order."""
    ref = meta["reference"]
    load = lambda f: np.load(os.path.join(meta["_dir"], f))  # noqa: E731
    ins = {i["name"]: load(ref["inputs"][i["name"]]) for i in meta["inputs"]}
    outs = {o["name"]: load(ref["outputs"][o["name"]]) for o in meta["outputs"]}
    return ins, outs


class OnyxError(Exception):
    pass


def onyx_run(onyx, model, inputs, work):
    """Runs the model once on inputs (name -> ndarray) in folder `work`;
    returns the outputs as name -> ndarray."""
    os.makedirs(work, exist_ok=True)
    args = [onyx, "run", model, "-o", os.path.join(work, "got")]
    for name, a in inputs.items():
        f = os.path.join(work, "in_%s.npy" % name)
        np.save(f, np.ascontiguousarray(a, dtype=np.float32))
        args += ["-i", "%s=%s" % (name, f)]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise OnyxError("onyx run exited %d: %s" % (r.returncode, r.stderr.strip()))
    got = {}
    for f in os.listdir(os.path.join(work, "got")):
        if f.endswith(".npy"):
            got[f[:-4]] = np.load(os.path.join(work, "got", f))
    return got


def compare(got, want, label):
    """(largest |got - want|, the same over max(1, max|want|)) over the
    outputs of `want`; raises AssertionError
    naming the output when a shape differs or an error exceeds
    1e-4 * max(1, max|want|) (NaN never passes)."""
    worst, worst_scaled = 0.0, 0.0
    for name, w in want.items():
        if name not in got:
            raise AssertionError("%s: onyx wrote no output %s" % (label, name))
        g = got[name]
        if g.shape != w.shape:
            raise AssertionError("%s: output %s has shape %s, PyTorch %s"
                                 % (label, name, g.shape, w.shape))
        tol = 1e-4 * max(1.0, float(np.abs(w).max()))
        err = float(np.abs(g.astype(np.float64) - w).max()) if w.size else 0.0
        if not err <= tol:
            i = np.unravel_index(np.nanargmax(np.abs(g - w)), w.shape) if np.isfinite(err) else None
            raise AssertionError("%s: output %s differs by %.3g (tolerance %.3g) at %s: got %r, want %r"
                                 % (label, name, err, tol, i, g[i] if i else None, w[i] if i else None))
        worst = max(worst, err)
        worst_scaled = max(worst_scaled, err / max(1.0, float(np.abs(w).max())))
    return worst, worst_scaled


def run_checks(argv, doc, title, what, check, wanted=lambda meta: True):
    """The main() of a zoo check, usage `ONYX WORKDIR DIR...`: for every model
    under the DIRs that `wanted(meta)` accepts, check(onyx, meta, inputs,
    want, workdir) returns the rest of its PASS line, or raises OnyxError or
    AssertionError for a FAIL line; a summary `title: N what, F failed`
    follows. Returns the exit status (2: usage, 1: no models or a failure)."""
    if len(argv) < 4:
        sys.stderr.write(doc)
        return 2
    onyx, work, dirs = argv[1], argv[2], argv[3:]
    models = [m for m in metas(dirs) if wanted(m)]
    if not models:
        print("FAIL: no %s under %s (run `make models`)" % (what, " ".join(dirs)))
        return 1
    failures = 0
    t0 = time.time()
    for meta in models:
        name = meta["name"]
        inputs, want = reference(meta)
        try:
            print("PASS %-20s %s" % (name, check(onyx, meta, inputs, want, os.path.join(work, name))))
        except (OnyxError, AssertionError) as e:
            print("FAIL %s: %s" % (name, e))
            failures += 1
    print("%s: %d %s, %d failed (%.1fs)" % (title, len(models), what, failures, time.time() - t0))
    return 1 if failures else 0
