#!/usr/bin/python3
"""Tiny models, input sounds and PyTorch references for the headless Pd tests.

    /usr/bin/python3 tests/pd/gen_models.py OUTDIR

Writes into OUTDIR:
  ident.onnx      x (1,T,1) -> y = x            latency measurements
  ident2.onnx     x (1,T,2) -> y                two channels: does not fit a 1-in object
  gru.onnx        GRU-16, x (1,T,1), h (1,1,16) -> y (1,T,1), h_out    (state pair)
  gru_ps.onnx     the same weights, static block 1: x (1,1,1)          per-sample
  conv1024.onnx   static block 1024: x (1,1,1024) -> Conv1d k=9 -> tanh
  ctl.onnx        x (1,T,1), gain (1,) -> y = gain*x, power (1,1) = mean(x^2)
  slow.onnx       x (1,T,1) -> 24 x (512x512 MatMul + tanh) -> y   (too slow for 64)
  mlp.onnx        [onyx]: in (1,2) -> out (1,3), sum (1,1)
  count.onnx      [onyx] state: in (1,1), h (1,1) -> y = in + h, h_out = h + 1
  tick.onnx       [onyx] no input but a state: h (1,1) -> y = h, h_out = h + 1
  notonnx.onnx    a text file with an .onnx name
  in.wav, imp.wav test sounds (float32 WAV, 44100 Hz)
  gru_ref.npy, gru_ps_ref.npy, conv1024_ref.npy   PyTorch outputs for in.wav
"""
import os
import struct
import sys

import numpy as np
import torch

SR = 44100
N = 44100  # one second: 689 Pd blocks


def export(model, args, path, names_in, names_out, dynamic=None):
    torch.onnx.export(model, args, path, input_names=names_in,
                      output_names=names_out, dynamic_axes=dynamic,
                      opset_version=13)


def write_wav(path, x):
    """float32 mono WAV"""
    data = np.asarray(x, dtype='<f4').tobytes()
    fmt = struct.pack('<HHIIHH', 3, 1, SR, SR * 4, 4, 32)
    with open(path, 'wb') as f:
        f.write(b'RIFF' + struct.pack('<I', 4 + 8 + len(fmt) + 8 + len(data)))
        f.write(b'WAVE' + b'fmt ' + struct.pack('<I', len(fmt)) + fmt)
        f.write(b'data' + struct.pack('<I', len(data)) + data)


class Ident(torch.nn.Module):
    def forward(self, x):
        return x * 1.0


class Gru(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(1, 16, batch_first=True)
        self.out = torch.nn.Linear(16, 1)

    def forward(self, x, h):
        y, h_out = self.gru(x, h)
        return self.out(y), h_out


class Conv(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(1, 1, 9, padding=4)

    def forward(self, x):
        return torch.tanh(self.conv(x))


class Ctl(torch.nn.Module):
    def forward(self, x, gain):
        return x * gain, (x * x).mean(dim=1)


class Slow(torch.nn.Module):
    def __init__(self, n=512, depth=24):
        super().__init__()
        self.inp = torch.nn.Linear(1, n)
        self.w = torch.nn.Parameter(torch.randn(n, n) / n ** 0.5)
        self.depth = depth
        self.outp = torch.nn.Linear(n, 1)

    def forward(self, x):
        h = self.inp(x)
        for _ in range(self.depth):
            h = torch.tanh(h @ self.w)
        return self.outp(h)


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(2, 8)
        self.l2 = torch.nn.Linear(8, 3)

    def forward(self, x):
        y = self.l2(torch.tanh(self.l1(x)))
        return y, y.sum(dim=1, keepdim=True)


class Count(torch.nn.Module):
    def forward(self, x, h):
        return x + h, h + 1.0


class Tick(torch.nn.Module):
    def forward(self, h):
        return h * 1.0, h + 1.0


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)
    torch.manual_seed(1)
    T = {1: 'T'}

    export(Ident(), (torch.zeros(1, 64, 1),), p('ident.onnx'), ['x'], ['y'],
           {'x': T, 'y': T})
    export(Ident(), (torch.zeros(1, 64, 2),), p('ident2.onnx'), ['x'], ['y'],
           {'x': T, 'y': T})

    t = np.arange(N) / SR
    rng = np.random.default_rng(1)
    x = (0.5 * np.sin(2 * np.pi * 220 * t) + 0.2 * rng.standard_normal(N))
    x = x.astype(np.float32)
    write_wav(p('in.wav'), x)
    imp = np.zeros(N, np.float32)
    imp[10000::3000] = 1.0
    write_wav(p('imp.wav'), imp)
    xt = torch.from_numpy(x).reshape(1, N, 1)

    gru = Gru().eval()
    h0 = torch.zeros(1, 1, 16)
    export(gru, (torch.zeros(1, 64, 1), h0), p('gru.onnx'), ['x', 'h'],
           ['y', 'h_out'], {'x': T, 'y': T})
    export(gru, (torch.zeros(1, 1, 1), h0), p('gru_ps.onnx'), ['x', 'h'],
           ['y', 'h_out'])
    with torch.no_grad():
        ref = gru(xt, h0)[0].numpy().reshape(-1)
    np.save(p('gru_ref.npy'), ref)
    np.save(p('gru_ps_ref.npy'), ref)  # a GRU is causal: same as step by step

    conv = Conv().eval()
    export(conv, (torch.zeros(1, 1, 1024),), p('conv1024.onnx'), ['x'], ['y'])
    nb = N // 1024
    with torch.no_grad():
        blocks = torch.from_numpy(x[:nb * 1024]).reshape(nb, 1, 1024)
        ref = conv(blocks).numpy().reshape(-1)
    np.save(p('conv1024_ref.npy'), ref)

    export(Ctl(), (torch.zeros(1, 64, 1), torch.ones(1)), p('ctl.onnx'),
           ['x', 'gain'], ['y', 'power'], {'x': T, 'y': T})
    export(Slow().eval(), (torch.zeros(1, 64, 1),), p('slow.onnx'), ['x'],
           ['y'], {'x': T, 'y': T})
    torch.manual_seed(2)
    mlp = Mlp().eval()
    export(mlp, (torch.zeros(1, 2),), p('mlp.onnx'), ['in'], ['out', 'sum'])
    with torch.no_grad():
        o, s = mlp(torch.tensor([[0.25, -0.5]]))
    with open(p('mlp_ref.txt'), 'w') as f:
        f.write(' '.join('%.6f' % v for v in o.numpy().reshape(-1)) + '\n')
        f.write('%.6f\n' % s.item())
    export(Count(), (torch.zeros(1, 1), torch.zeros(1, 1)), p('count.onnx'),
           ['x', 'h'], ['y', 'h_out'])
    export(Tick(), (torch.zeros(1, 1),), p('tick.onnx'), ['h'],
           ['y', 'h_out'])
    with open(p('notonnx.onnx'), 'w') as f:
        f.write('this is not an ONNX model\n')


if __name__ == '__main__':
    main()
