#!/usr/bin/python3
"""Exports small PyTorch models to ONNX, runs each through `onyx run`, and
checks the outputs against PyTorch's (|got - want| <= 1e-4 * max(1, max|want|)).
The scripted ones (torch.jit.script) export their Python for- and
while-loops as ONNX Loops, which onyx unrolls when it resolves the model.

usage: /usr/bin/python3 tests/models/torch_models.py ONYX_BINARY WORKDIR
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn

warnings.filterwarnings("ignore")
torch.manual_seed(0)
np.random.seed(0)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 64),
                                 nn.ReLU(), nn.Linear(64, 4))

    def forward(self, x):
        return self.net(x)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(1, 8, 9, padding=4)
        self.c2 = nn.Conv1d(8, 8, 3, dilation=2, padding=2, groups=2)
        self.bn = nn.BatchNorm1d(8)
        self.c3 = nn.Conv1d(8, 4, 1)

    def forward(self, x):
        y = torch.relu(self.c1(x))
        y = nn.functional.avg_pool1d(y, 2)
        y = torch.tanh(self.bn(self.c2(y)))
        return self.c3(y).mean(dim=2)


class GRUModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(2, 16, num_layers=2, batch_first=True)
        self.out = nn.Linear(16, 1)

    def forward(self, x, h):
        y, h_out = self.rnn(x, h)
        return self.out(y), h_out


class LSTMModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 12, batch_first=True, bidirectional=True)
        self.out = nn.Linear(24, 2)

    def forward(self, x, h, c):
        y, (h_out, c_out) = self.rnn(x, (h, c))
        return self.out(y), h_out, c_out


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 32)
        self.enc = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64,
                                              batch_first=True)

    def forward(self, x):
        return self.enc(self.proj(x)).mean(dim=1)


class ScriptedCell(nn.Module):
    """a tanh RNN cell run by a Python for-loop over time: a Loop whose trip
    count is x's length (Shape -> Gather), reading x and the weights from
    the main graph"""

    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 8)
        self.rec = nn.Linear(8, 8, bias=False)

    def forward(self, x):
        h = torch.zeros(x.size(1), 8)
        for t in range(x.size(0)):
            h = torch.tanh(self.inp(x[t]) + self.rec(h))
        return h


class ScriptedNested(nn.Module):
    """two nested for-loops over x's shape (the inner Loop in the outer
    one's body, its iteration number a value), two loop-carried values"""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        acc = torch.zeros_like(x[0])
        y = x[0]
        for i in range(x.size(0)):
            for j in range(x.size(2)):
                y = torch.sin(self.lin(y)) + x[i] * float(j + 1)
            acc = acc + y
        return acc, y


class ScriptedWhile(nn.Module):
    """a while-loop whose condition reads the data: at most 8 iterations,
    ending early once |y| reaches 4. x has more than 4096 elements, so
    `onyx run` does not bind it as a value: the condition is only known at
    run time and the iterations run under guards."""

    def forward(self, x):
        y = x
        i = 0
        while i < 8 and bool(y.abs().max() < 4.0):
            y = y * 1.5 - 0.1
            i += 1
        return y


def cases():
    yield "mlp", MLP(), {"x": np.random.randn(3, 16)}
    conv = ConvNet()
    conv.bn.running_mean.uniform_(-0.5, 0.5)
    conv.bn.running_var.uniform_(0.5, 2.0)
    yield "conv1d", conv, {"x": np.random.randn(2, 1, 64)}
    yield "gru", GRUModel(), {"x": np.random.randn(1, 20, 2), "h": 0.1 * np.random.randn(2, 1, 16)}
    yield "lstm", LSTMModel(), {"x": np.random.randn(2, 10, 3), "h": 0.1 * np.random.randn(2, 2, 12),
                                "c": 0.1 * np.random.randn(2, 2, 12)}
    yield "transformer", Transformer(), {"x": np.random.randn(1, 10, 8)}
    yield "scripted_loop", torch.jit.script(ScriptedCell()), {"x": np.random.randn(6, 2, 4)}
    yield "scripted_while", torch.jit.script(ScriptedWhile()), {"x": np.random.randn(64, 80) * 0.3}
    yield "scripted_while_to_the_end", torch.jit.script(ScriptedWhile()), {"x": np.random.randn(64, 80) * 0.01}
    yield "scripted_nested_loops", torch.jit.script(ScriptedNested()), {"x": np.random.randn(4, 2, 3)}


def main():
    onyx, work = sys.argv[1], sys.argv[2]
    failures = 0
    for name, model, inputs in cases():
        model.eval()
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        feeds = {k: torch.tensor(v, dtype=torch.float32) for k, v in inputs.items()}
        with torch.no_grad():
            want = model(*feeds.values())
        if not isinstance(want, tuple):
            want = (want,)
        n_out = len(want)
        out_names = ["out%d" % i for i in range(n_out)]
        path = os.path.join(d, "model.onnx")
        torch.onnx.export(model, tuple(feeds.values()), path, input_names=list(feeds),
                          output_names=out_names, opset_version=14)
        args = [onyx, "run", path, "-o", os.path.join(d, "got")]
        for k, v in feeds.items():
            f = os.path.join(d, k + ".npy")
            np.save(f, v.numpy())
            args += ["-i", "%s=%s" % (k, f)]
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL %s: onyx run exited %d: %s" % (name, r.returncode, r.stderr.strip()))
            failures += 1
            continue
        worst = 0.0
        ok = True
        for oname, w in zip(out_names, want):
            w = w.numpy()
            g = np.load(os.path.join(d, "got", oname + ".npy"))
            if g.shape != w.shape:
                print("FAIL %s: output %s has shape %s, PyTorch %s" % (name, oname, g.shape, w.shape))
                ok = False
                break
            tol = 1e-4 * max(1.0, float(np.abs(w).max()))
            err = float(np.abs(g - w).max())
            worst = max(worst, err)
            if not err <= tol:
                print("FAIL %s: output %s differs by %.3g (tolerance %.3g)" % (name, oname, err, tol))
                ok = False
        if ok:
            print("PASS %s (max abs error %.2g)" % (name, worst))
        else:
            failures += 1
    print("%d models, %d failed" % (len(list(cases())), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
