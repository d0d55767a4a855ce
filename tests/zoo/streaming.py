#!/usr/bin/python3
"""Streaming check for every stateful model (a meta.json with "stream"): the
reference sequence is cut into `stream.blocks` blocks along the time axis and
run block by block through `onyx run`, each state output (h_out, c_out) fed
back as the next call's state input (h, c); the concatenated outputs and the
last state must equal PyTorch's run over the whole sequence at once. Then the
first `stream.steps` steps are run one per call, the way a per-sample model
runs in Pd. Tolerance as in accuracy.py: 1e-4 * max(1, max|want|).

usage: /usr/bin/python3 tests/zoo/streaming.py ONYX WORKDIR DIR...
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def stream(onyx, meta, inputs, want, n_calls, step, work):
    """Runs n_calls calls of `step` time steps each from the reference state;
    returns the time outputs concatenated, and the last state, in `want`'s
    names."""
    axes = meta["time_axes"]
    pairs = {p["input"]: p["output"] for p in meta["state"]}
    state = {i: inputs[i] for i in pairs}
    pieces = {o: [] for o in want if o in axes}
    model = common.model_path(meta)
    for k in range(n_calls):
        feed = {}
        for name, a in inputs.items():
            if name in pairs:
                feed[name] = state[name]
            elif name in axes:
                idx = [slice(None)] * a.ndim
                idx[axes[name]] = slice(k * step, (k + 1) * step)
                feed[name] = a[tuple(idx)]
            else:
                feed[name] = a
        got = common.onyx_run(onyx, model, feed, work)
        for i, o in pairs.items():
            state[i] = got[o]
        for o in pieces:
            pieces[o].append(got[o])
    out = {o: np.concatenate(p, axis=axes[o]) for o, p in pieces.items()}
    out.update({o: state[i] for i, o in pairs.items()})
    return out


def head(want, axes, n):
    """The first n time steps of the time outputs of `want`."""
    out = {}
    for o, a in want.items():
        if o in axes:
            idx = [slice(None)] * a.ndim
            idx[axes[o]] = slice(0, n)
            out[o] = a[tuple(idx)]
    return out


def check(onyx, meta, inputs, want, d):
    name, length = meta["name"], meta["reference_length"]
    blocks, steps = meta["stream"]["blocks"], meta["stream"]["steps"]
    if length % blocks:
        raise AssertionError("%s: %d steps do not cut into %d blocks" % (name, length, blocks))
    got = stream(onyx, meta, inputs, want, blocks, length // blocks, d)
    label = "%s, %d blocks of %d" % (name, blocks, length // blocks)
    err_b, _ = common.compare(got, want, label)
    got = stream(onyx, meta, inputs, want, steps, 1, d)
    part = head(want, meta["time_axes"], steps) if steps < length else want
    err_s, _ = common.compare(got, part, "%s, %d single steps" % (name, steps))
    return ("%d blocks of %d: max abs error %.2g; %d single steps: %.2g"
            % (blocks, length // blocks, err_b, steps, err_s))


def main(argv):
    return common.run_checks(argv, __doc__, "streaming", "stateful models", check,
                             lambda meta: "stream" in meta)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
