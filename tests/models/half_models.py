#!/usr/bin/python3
"""Half-precision models: small PyTorch models exported in float32, then
turned into float16 (or bfloat16) ONNX models the way `model.half()` exports
look (weights, constants, graph inputs and outputs in half precision), run
through `onyx run`, and checked against PyTorch in float32:

  - against the float32 model whose weights and inputs are rounded to the
    half type (what onyx computes, in float32): only the final rounding of
    the outputs differs, |got - want| <= 2 ulp of the type * max(1, max|want|);
  - against the unrounded float32 model, within 3e-2 * max(1, max|want|).

torch 1.13 on the CPU cannot run half precision itself, hence the rounding
of a float32 model instead.

usage: /usr/bin/python3 tests/models/half_models.py ONYX_BINARY WORKDIR
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, numpy_helper

warnings.filterwarnings("ignore")
torch.manual_seed(0)
np.random.seed(0)


class LinearGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(3, 8)
        self.rnn = nn.GRU(8, 16, batch_first=True)
        self.out = nn.Linear(16, 2)

    def forward(self, x, h):
        y, h_out = self.rnn(torch.tanh(self.inp(x)), h)
        return self.out(y), h_out


class Conv(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(1, 8, 9, padding=4)
        self.c2 = nn.Conv1d(8, 4, 3, padding=1)

    def forward(self, x):
        y = torch.relu(self.c1(x))
        return self.c2(y) * 0.5 + 1.0


def bf16_round(a):
    """float32 -> the float32 value of its bfloat16 rounding (to nearest even)"""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return r.astype(np.uint32).view(np.float32)


def bf16_bits(a):
    return (bf16_round(a).view(np.uint32) >> 16).astype(np.uint16)


# (ONNX elem type, round a float32 array to the type, its bits for a
# TensorProto, relative size of one unit in the last place)
HALF = {
    "float16": (TensorProto.FLOAT16, lambda a: a.astype(np.float16).astype(np.float32),
                lambda a: a.astype(np.float16), 2.0 ** -10),
    "bfloat16": (TensorProto.BFLOAT16, bf16_round, bf16_bits, 2.0 ** -7),
}


def half_tensor(t, kind):
    """a float32 TensorProto as a half-precision one of the same name"""
    elem, _, bits, _ = HALF[kind]
    a = numpy_helper.to_array(t)
    h = onnx.TensorProto()
    h.name = t.name
    h.dims.extend(a.shape)
    h.data_type = elem
    h.raw_data = np.ascontiguousarray(bits(a)).view(np.uint16).tobytes()
    return h


def to_half(model, kind):
    """every float32 value of the graph becomes `kind`"""
    elem = HALF[kind][0]
    g = model.graph
    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT:
            g.initializer[i].CopyFrom(half_tensor(t, kind))
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                a.t.CopyFrom(half_tensor(a.t, kind))
            if node.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = elem
    for v in list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = elem
    del g.value_info[:]
    return model


def cases():
    yield "linear_gru", LinearGRU(), {"x": np.random.randn(1, 12, 3),
                                      "h": 0.1 * np.random.randn(1, 1, 16)}
    yield "conv1d", Conv(), {"x": np.random.randn(2, 1, 32)}


def run_torch(model, feeds):
    with torch.no_grad():
        y = model(*[torch.tensor(v, dtype=torch.float32) for v in feeds.values()])
    return [t.numpy() for t in (y if isinstance(y, tuple) else (y,))]


def main():
    onyx, work = sys.argv[1], sys.argv[2]
    failures = n = 0
    for name, model, inputs in cases():
        model.eval()
        want32 = run_torch(model, inputs)
        out_names = ["out%d" % i for i in range(len(want32))]
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        path32 = os.path.join(d, "model32.onnx")
        feeds = {k: torch.tensor(v, dtype=torch.float32) for k, v in inputs.items()}
        torch.onnx.export(model, tuple(feeds.values()), path32, input_names=list(feeds),
                          output_names=out_names, opset_version=14)
        for kind, (_, rnd, bits, ulp) in HALF.items():
            n += 1
            label = "%s %s" % (name, kind)
            path = os.path.join(d, "model_%s.onnx" % kind)
            m = to_half(onnx.load(path32), kind)
            onnx.checker.check_model(m)
            onnx.save(m, path)
            # the float32 model with the weights and inputs onyx sees
            rounded = type(model)()
            rounded.load_state_dict({k: torch.tensor(rnd(v.numpy()))
                                     for k, v in model.state_dict().items()})
            rounded.eval()
            rin = {k: rnd(np.asarray(v, dtype=np.float32)) for k, v in inputs.items()}
            want = run_torch(rounded, rin)
            args = [onyx, "run", path, "-o", os.path.join(d, "got_" + kind)]
            for k, v in rin.items():
                f = os.path.join(d, "%s_%s.npy" % (k, kind))
                # float16 inputs as '<f2'; bfloat16 ones as float32 .npy,
                # which onyx rounds (exactly: they are already rounded)
                np.save(f, v.astype(np.float16) if kind == "float16" else v)
                args += ["-i", "%s=%s" % (k, f)]
            r = subprocess.run(args, capture_output=True, text=True)
            if r.returncode != 0:
                print("FAIL %s: onyx run exited %d: %s" % (label, r.returncode, r.stderr.strip()))
                failures += 1
                continue
            ok, worst = True, 0.0
            for oname, w, w32 in zip(out_names, want, want32):
                g = np.load(os.path.join(d, "got_" + kind, oname + ".npy")).astype(np.float32)
                if g.shape != w.shape:
                    print("FAIL %s: output %s has shape %s, PyTorch %s" % (label, oname, g.shape, w.shape))
                    ok = False
                    break
                scale = max(1.0, float(np.abs(w).max()))
                err = float(np.abs(g - w).max())
                err32 = float(np.abs(g - w32).max())
                worst = max(worst, err)
                if not err <= 2 * ulp * scale:
                    print("FAIL %s: output %s differs from the rounded model by %.3g (tolerance %.3g)"
                          % (label, oname, err, 2 * ulp * scale))
                    ok = False
                if not err32 <= 3e-2 * scale:
                    print("FAIL %s: output %s differs from the float32 model by %.3g (tolerance %.3g)"
                          % (label, oname, err32, 3e-2 * scale))
                    ok = False
            if ok:
                print("PASS %s (max abs error %.2g)" % (label, worst))
            else:
                failures += 1
    print("%d models, %d failed" % (n, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
