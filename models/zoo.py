#!/usr/bin/python3
"""The onyx model zoo: every architecture onyx is measured on, defined in
PyTorch with a fixed seed (untrained, default init), exported to ONNX, with
reference inputs and PyTorch's outputs.

usage: /usr/bin/python3 models/zoo.py [OUTDIR] [NAME...]
       (OUTDIR defaults to models/zoo next to this script; NAMEs pick models)

Per model it writes OUTDIR/<name>/:
  model.onnx          opset 14; symbolic time axis "T" where the model streams
  input_<x>.npy       reference inputs (float32), one per graph input
  output_<y>.npy      PyTorch's outputs for them
  test_data_set_0/    the same as .pb, so `onyx test OUTDIR/<name>` works too
  meta.json           inputs, outputs, state pairs, block length, sample rate,
                      parameter count, MACs, and how to stream it (see below)

Stateful models (gru*, lstm*, mdrnn, tcn) have state pairs h/h_out (and
c/c_out). Their reference input is a long sequence that tests/zoo/streaming.py
cuts into `stream.blocks` blocks (and into `stream.steps` one-step calls),
feeding the state back, and compares with PyTorch's run over the whole.
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnxexport  # noqa: E402

SR = 48000  # the sample rate written into the audio models


# ---------------------------------------------- the embedded-model-zoo set
# Input: one block of 1024 samples, shape (1, 1024).

class SingleMM(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1024, 1024, bias=False)

    def forward(self, x):
        return self.fc(x)


class BasicMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1024, 1024), nn.Tanh(), nn.Linear(1024, 1024),
                                 nn.Tanh(), nn.Linear(1024, 1024))

    def forward(self, x):
        return self.net(x)


class SirenMLP(nn.Module):
    """Each sample is a coordinate: (1024, 1) -> Linear(1, 256) -> then
    Linear(256,256) x3 and Linear(256,1), each on sin() of the previous."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(1, 256)
        self.rest = nn.ModuleList([nn.Linear(256, 256) for _ in range(3)] + [nn.Linear(256, 1)])

    def forward(self, x):
        y = self.first(x.reshape(1024, 1))
        for layer in self.rest:
            y = layer(torch.sin(y))
        return y.reshape(1, 1024)


class SimpleConv1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(1, 256, 9), nn.AvgPool1d(2), nn.ReLU(),
                                 nn.Conv1d(256, 256, 9), nn.AvgPool1d(2), nn.ReLU(),
                                 nn.Conv1d(256, 8, 1))

    def forward(self, x):
        return self.net(x.reshape(1, 1, 1024)).mean(dim=2)  # (1, 8)


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(nn.LeakyReLU(0.2), nn.Dropout(0.1), nn.Conv1d(ch, ch, 3, padding=1),
                                  nn.LeakyReLU(0.2), nn.Dropout(0.1), nn.Conv1d(ch, ch, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class ResNet1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(1, 256, 3), ResBlock(256), ResBlock(256), ResBlock(256),
                                 nn.Conv1d(256, 8, 1))

    def forward(self, x):
        return torch.softmax(self.net(x.reshape(1, 1, 1024)).mean(dim=2), dim=1)  # (1, 8)


class SimpleRNN(nn.Module):
    """The block as 1024 steps of one feature into RNN(1, 256, tanh) from a
    fixed initial state (a constant of the model); output the last state."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(1, 256, nonlinearity="tanh")
        self.register_buffer("h0", 0.1 * torch.randn(1, 1, 256))

    def forward(self, x):
        _, h = self.rnn(x.reshape(1024, 1, 1), self.h0)
        return h.reshape(1, 256)


class TransformerBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 512)
        self.enc = nn.TransformerEncoderLayer(d_model=512, nhead=4, dim_feedforward=512,
                                              batch_first=True)

    def forward(self, x):  # (1, 128, 8) -> (1, 512)
        return self.enc(self.proj(x)).mean(dim=1)


class LogSpectrum(nn.Module):
    """Log power spectrogram: 256-sample periodic Hann frames, hop 128, no
    padding (7 frames of a 1024 block), 129 bins. Framing is a Gather with a
    constant index matrix and the DFT one MatMul with the windowed cos/-sin
    basis (built in float64), so PyTorch 1.13 exports it at opset 14."""
    N, HOP, BINS = 256, 128, 129

    def __init__(self, block=1024):
        super().__init__()
        frames = (block - self.N) // self.HOP + 1
        idx = torch.arange(frames)[:, None] * self.HOP + torch.arange(self.N)[None, :]
        n = np.arange(self.N)[:, None]
        k = np.arange(self.BINS)[None, :]
        window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self.N) / self.N)
        arg = 2 * np.pi * n * k / self.N
        basis = window[:, None] * np.concatenate([np.cos(arg), -np.sin(arg)], axis=1)
        self.register_buffer("idx", idx)  # (frames, 256) int64
        self.register_buffer("basis", torch.tensor(basis, dtype=torch.float32))  # (256, 258)

    def forward(self, x):  # (1, 1024) -> (1, 7, 129)
        spec = torch.matmul(x[:, self.idx], self.basis)
        re, im = spec[..., :self.BINS], spec[..., self.BINS:]
        return torch.log(re * re + im * im + 1e-10)

    def extra_macs(self, args):
        return self.idx.shape[0] * self.N * 2 * self.BINS


class VariationalEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.mu = nn.Linear(1024, 128)
        self.log_sigma = nn.Linear(1024, 128)

    def forward(self, x, eps):
        mu = torch.relu(self.mu(x))
        sigma = torch.exp(self.log_sigma(x))
        return mu + sigma * eps, mu, sigma


# ---------------------------------------------- real-time audio and control

class AmpGRU(nn.Module):
    """Amp/effect model: GRU over a (1, T, 1) signal, Linear(hidden, 1) plus
    the input. State h (1, 1, hidden)."""

    def __init__(self, hidden):
        super().__init__()
        self.rnn = nn.GRU(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x, h):
        y, h_out = self.rnn(x, h)
        return self.out(y) + x, h_out


class AmpLSTM(nn.Module):
    """As AmpGRU with an LSTM: states h and c, (1, 1, hidden) each."""

    def __init__(self, hidden):
        super().__init__()
        self.rnn = nn.LSTM(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x, h, c):
        y, (h_out, c_out) = self.rnn(x, (h, c))
        return self.out(y) + x, h_out, c_out


class MDRNN(nn.Module):
    """Mixture-density RNN for gesture prediction: a (1, T, 2) control
    stream into 2 LSTM layers of 64; per step a mixture of 5 Gaussians over
    2 dims: means (1,T,5,2), scales (1,T,5,2) > 0, weights (1,T,5) summing
    to 1. States h, c (2, 1, 64)."""
    DIMS, MIX = 2, 5

    def __init__(self, hidden=64):
        super().__init__()
        self.rnn = nn.LSTM(self.DIMS, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, self.MIX * (2 * self.DIMS + 1))

    def forward(self, x, h, c):
        y, (h_out, c_out) = self.rnn(x, (h, c))
        p = self.head(y)
        md = self.MIX * self.DIMS
        mean = p[..., :md].reshape(1, -1, self.MIX, self.DIMS)
        scale = torch.exp(p[..., md:2 * md]).reshape(1, -1, self.MIX, self.DIMS)
        weight = torch.softmax(p[..., 2 * md:], dim=-1)
        return mean, scale, weight, h_out, c_out


class TCN(nn.Module):
    """Causal dilated convolution stack on a (1, 1, T) block: 4 layers of 16
    channels, kernel 3, dilations 1, 2, 4, 8, tanh; a 1x1 conv to one channel.
    Causal across blocks: the state h (1, 16, 30) holds each layer's last
    (kernel-1)*dilation input samples (2, 4, 8, 16 columns; layer 1 has one
    channel, the rest of its rows are zero), so block after block equals
    one run over the whole signal."""

    def __init__(self, channels=16, kernel=3, dilations=(1, 2, 4, 8)):
        super().__init__()
        self.channels = channels
        self.convs = nn.ModuleList([nn.Conv1d(1 if i == 0 else channels, channels, kernel, dilation=d)
                                    for i, d in enumerate(dilations)])
        self.history = [(kernel - 1) * d for d in dilations]
        self.out = nn.Conv1d(channels, 1, 1)

    def state_length(self):
        return sum(self.history)

    def forward(self, x, h):
        y = x
        new_state = []
        start = 0
        for conv, n in zip(self.convs, self.history):
            past = h[:, :conv.in_channels, start:start + n]
            inp = torch.cat([past, y], dim=2)  # (1, in, n + T)
            keep = inp[:, :, -n:]
            if conv.in_channels < self.channels:
                keep = torch.cat([keep, torch.zeros(1, self.channels - conv.in_channels, n)], dim=1)
            new_state.append(keep)
            y = torch.tanh(conv(inp))  # (1, channels, T)
            start += n
        return self.out(y), torch.cat(new_state, dim=2)


# ---------------------------------------------- the list

def randn(*shape, scale=1.0):
    return (scale * np.random.randn(*shape)).astype(np.float32)


def cases():
    """(name, model, reference inputs, output names, dynamic axes, extra meta)."""
    T = {1: "T"}
    yield "single_mm", SingleMM(), {"x": randn(1, 1024)}, ["y"], None, {}
    yield "basic_mlp", BasicMLP(), {"x": randn(1, 1024)}, ["y"], None, {}
    yield "siren_mlp", SirenMLP(), {"x": np.random.uniform(-1, 1, (1, 1024)).astype(np.float32)}, \
        ["y"], None, {}
    audio = {"sample_rate": SR}
    yield "simple_conv_1d", SimpleConv1d(), {"x": randn(1, 1024, scale=0.5)}, ["y"], None, audio
    yield "resnet_1d", ResNet1d(), {"x": randn(1, 1024, scale=0.5)}, ["y"], None, audio
    yield "simple_rnn", SimpleRNN(), {"x": randn(1, 1024, scale=0.5)}, ["h_last"], None, audio
    yield "transformer_block", TransformerBlock(), {"x": randn(1, 128, 8)}, ["y"], None, {}
    yield "log_spectrum", LogSpectrum(), {"x": randn(1, 1024, scale=0.5)}, ["y"], None, audio
    yield "variational_encoder", VariationalEncoder(), \
        {"x": randn(1, 1024), "eps": randn(1, 128)}, ["z", "mu", "sigma"], None, {}

    # stateful audio models: reference = 1024 samples, streamed as 8 blocks of
    # 128 and as 64 one-sample calls
    stream = {"blocks": 8, "steps": 64}
    for hidden in (8, 16, 32, 64):
        yield "gru%d" % hidden, AmpGRU(hidden), \
            {"x": randn(1, 1024, 1, scale=0.5), "h": randn(1, 1, hidden, scale=0.5)}, \
            ["y", "h_out"], {"x": T, "y": T}, \
            dict(audio, time_axes={"x": 1, "y": 1}, stream=stream)
    for hidden in (8, 16, 32, 64):
        yield "lstm%d" % hidden, AmpLSTM(hidden), \
            {"x": randn(1, 1024, 1, scale=0.5), "h": randn(1, 1, hidden, scale=0.5),
             "c": randn(1, 1, hidden, scale=0.5)}, \
            ["y", "h_out", "c_out"], {"x": T, "y": T}, \
            dict(audio, time_axes={"x": 1, "y": 1}, stream=stream)
    yield "mdrnn", MDRNN(), \
        {"x": randn(1, 64, 2), "h": randn(2, 1, 64, scale=0.5), "c": randn(2, 1, 64, scale=0.5)}, \
        ["mean", "scale", "weight", "h_out", "c_out"], \
        {"x": T, "mean": T, "scale": T, "weight": T}, \
        {"time_axes": {"x": 1, "mean": 1, "scale": 1, "weight": 1}, "block_length": 1,
         "stream": {"blocks": 8, "steps": 64}}
    tcn = TCN()
    yield "tcn", tcn, \
        {"x": randn(1, 1, 1024, scale=0.5), "h": randn(1, 16, tcn.state_length(), scale=0.5)}, \
        ["y", "h_out"], {"x": {2: "T"}, "y": {2: "T"}}, \
        dict(audio, time_axes={"x": 2, "y": 2}, stream=stream)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = argv[1] if len(argv) > 1 else os.path.join(here, "zoo")
    only = set(argv[2:])
    unknown = only - {c[0] for c in cases()} if only else None
    if unknown:
        sys.stderr.write("zoo.py: no model named %s\n" % ", ".join(sorted(unknown)))
        return 2
    torch.set_num_threads(1)
    os.makedirs(outdir, exist_ok=True)
    t0 = time.time()
    for name, model, inputs, outputs, dynamic, extra in cases_seeded():
        if only and name not in only:
            continue
        t = time.time()
        meta = onnxexport.package(name, model, inputs, outputs, os.path.join(outdir, name),
                                  dynamic=dynamic, **extra)
        print("%-20s params %9d  MACs %11d  %.1fs"
              % (name, meta["params"], meta["macs"], time.time() - t))
    print("zoo written to %s in %.0fs" % (outdir, time.time() - t0))
    return 0


def cases_seeded():
    """cases() with every model seeded by its position, so one model can be
    regenerated alone and come out the same."""
    gen = cases()
    i = 0
    while True:
        torch.manual_seed(1000 + i)
        np.random.seed(1000 + i)
        try:
            yield next(gen)
        except StopIteration:
            return
        i += 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
