#!/usr/bin/python3
"""Models for the soak test, each calibrated to about half of its real-time
budget at block 64 and 44100 Hz (one inference of 64 samples in 1451 us).

    /usr/bin/python3 tests/soak/gen.py OUTDIR ONYX [TARGET_PERCENT]

Three families, so that every load swaps in a different graph, arena and
set of weights: a MatMul + tanh chain (soak_mm), a Conv1d stack (soak_conv)
and a stacked GRU with its state pair (soak_gru). Each is exported with a
depth, timed with `ONYX bench --json` (field rt_percent: mean inference time
as a share of the budget, single-threaded), and re-exported with the depth
scaled by TARGET / rt_percent until it lands within 40-60% of the budget
(TARGET defaults to 50). Prints one line per model and writes
OUTDIR/models.txt: file name, depth, rt_percent.
"""
import json
import os
import subprocess
import sys

import torch

SR, BLOCK = 44100, 64


class MM(torch.nn.Module):
    def __init__(self, depth, n=256):
        super().__init__()
        self.inp = torch.nn.Linear(1, n)
        self.layers = torch.nn.ModuleList(torch.nn.Linear(n, n) for _ in range(depth))
        self.outp = torch.nn.Linear(n, 1)

    def forward(self, x):  # x (1,T,1)
        h = self.inp(x)
        for layer in self.layers:
            h = torch.tanh(layer(h))
        return self.outp(h)


class Conv(torch.nn.Module):
    def __init__(self, depth, c=32):
        super().__init__()
        self.inp = torch.nn.Conv1d(1, c, 9, padding=4)
        self.layers = torch.nn.ModuleList(torch.nn.Conv1d(c, c, 9, padding=4)
                                          for _ in range(depth))
        self.outp = torch.nn.Conv1d(c, 1, 1)

    def forward(self, x):  # x (1,1,T)
        h = torch.tanh(self.inp(x))
        for layer in self.layers:
            h = torch.tanh(layer(h))
        return self.outp(h)


class Gru(torch.nn.Module):
    def __init__(self, depth, n=64):
        super().__init__()
        self.gru = torch.nn.GRU(1, n, num_layers=depth, batch_first=True)
        self.outp = torch.nn.Linear(n, 1)

    def forward(self, x, h):  # x (1,T,1), h (depth,1,n)
        y, h_out = self.gru(x, h)
        return self.outp(y), h_out


def export(family, depth, path):
    torch.manual_seed(depth)
    if family == 'mm':
        m, args, names, outs, shape = MM(depth), (torch.zeros(1, BLOCK, 1),), ['x'], ['y'], '1,%d,1'
        dyn = {'x': {1: 'T'}, 'y': {1: 'T'}}
    elif family == 'conv':
        m, args, names, outs, shape = Conv(depth), (torch.zeros(1, 1, BLOCK),), ['x'], ['y'], '1,1,%d'
        dyn = {'x': {2: 'T'}, 'y': {2: 'T'}}
    else:
        m = Gru(depth)
        args = (torch.zeros(1, BLOCK, 1), torch.zeros(depth, 1, 64))
        names, outs, shape = ['x', 'h'], ['y', 'h_out'], '1,%d,1'
        dyn = {'x': {1: 'T'}, 'y': {1: 'T'}}
    torch.onnx.export(m.eval(), args, path, input_names=names, output_names=outs,
                      dynamic_axes=dyn, opset_version=13)
    return 'x=' + shape % BLOCK


def bench(onyx, path, shape):
    out = subprocess.run([onyx, 'bench', path, '--json', '--shape', shape, '--sr', str(SR),
                          '--seconds', '1'], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)['rt_percent']


def main():
    out, onyx = sys.argv[1], sys.argv[2]
    target = float(sys.argv[3]) if len(sys.argv) > 3 else 50.0
    os.makedirs(out, exist_ok=True)
    rows = []
    for family, depth in (('mm', 4), ('conv', 12), ('gru', 8)):
        path = os.path.join(out, 'soak_%s.onnx' % family)
        for _ in range(5):
            shape = export(family, depth, path)
            pct = bench(onyx, path, shape)
            if 0.8 * target <= pct <= 1.2 * target:
                break
            new = max(1, round(depth * target / pct))
            if new == depth:
                break
            depth = new
        print('soak model %-16s depth %3d: %5.1f%% of the budget (block %d, %d Hz)'
              % (os.path.basename(path), depth, pct, BLOCK, SR))
        rows.append('%s %d %.1f' % (os.path.basename(path), depth, pct))
    with open(os.path.join(out, 'models.txt'), 'w') as f:
        f.write('\n'.join(rows) + '\n')


if __name__ == '__main__':
    main()
