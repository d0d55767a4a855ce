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


# ---------------------------------------------- the general case
# Variants of the models above as other exports write them, so that a speed-up
# is not tuned to one export's pattern.

class LogSpectrumSlices(nn.Module):
    """A log-magnitude spectrum written by hand: 7 frames of 256 samples, hop
    128, each cut with a Slice and joined with a Concat; a periodic Hann
    window applied by a Mul; the DFT as two MatMuls, by a cos and a sin basis
    (256 x 129 each); log(|X| + 1e-6). The general case of log_spectrum."""
    N, HOP, BINS, FRAMES = 256, 128, 129, 7

    def __init__(self):
        super().__init__()
        n = np.arange(self.N)[:, None]
        k = np.arange(self.BINS)[None, :]
        arg = 2 * np.pi * n * k / self.N
        window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self.N) / self.N)
        self.register_buffer("window", torch.tensor(window, dtype=torch.float32))  # (256,)
        self.register_buffer("cos", torch.tensor(np.cos(arg), dtype=torch.float32))  # (256, 129)
        self.register_buffer("sin", torch.tensor(np.sin(arg), dtype=torch.float32))  # (256, 129)

    def forward(self, x):  # (1, 1024) -> (1, 7, 129)
        frames = torch.cat([x[:, None, i * self.HOP:i * self.HOP + self.N]
                            for i in range(self.FRAMES)], dim=1)  # (1, 7, 256)
        frames = frames * self.window
        re = torch.matmul(frames, self.cos)
        im = torch.matmul(frames, self.sin)
        return torch.log(torch.sqrt(re * re + im * im) + 1e-6)

    def extra_macs(self, args):
        return self.FRAMES * self.N * 2 * self.BINS


class SileroLike(nn.Module):
    """A Silero-VAD-like detector at 16 kHz, one 512-sample chunk per time
    step: x (T, 576) is each chunk with the 64 samples before it. The chunk
    is reflect-padded by 64 on the right; an STFT as a strided Conv1d with one
    input channel (258 out, kernel 256, stride 128: 4 frames), magnitude
    from its two halves (129 bins); Conv1d 129->128 (kernel 3), then three
    strided Conv1d (stride 2, kernel 3) with ReLU down to one frame of 128;
    an LSTM(128, 128) over the chunks, state h, c (1, 1, 128); Linear(128, 1)
    and a sigmoid: one speech probability per chunk, y (T, 1)."""
    N, HOP, BINS = 256, 128, 129

    def __init__(self):
        super().__init__()
        self.stft = nn.Conv1d(1, 2 * self.BINS, self.N, stride=self.HOP, bias=False)
        self.encoder = nn.Sequential(
            nn.Conv1d(self.BINS, 128, 3, padding=1), nn.ReLU(),
            nn.Conv1d(128, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(64, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(64, 128, 3, stride=2, padding=1), nn.ReLU())
        self.rnn = nn.LSTM(128, 128)
        self.out = nn.Linear(128, 1)

    def forward(self, x, h, c):
        spec = self.stft(nn.functional.pad(x.unsqueeze(1), (0, 64), mode="reflect"))  # (T, 258, 4)
        re, im = spec[:, :self.BINS], spec[:, self.BINS:]
        feat = self.encoder(torch.sqrt(re * re + im * im))  # (T, 128, 1)
        y, (h_out, c_out) = self.rnn(feat.permute(0, 2, 1), (h, c))  # (T, 1, 128)
        return torch.sigmoid(self.out(y[:, 0])), h_out, c_out


class TransformerBlockSeqFirst(nn.Module):
    """transformer_block with batch_first=False (the PyTorch default): x is
    (sequence, batch, features) = (128, 1, 8), attention runs on that
    layout; the mean over the sequence, (1, 512)."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 512)
        self.enc = nn.TransformerEncoderLayer(d_model=512, nhead=4, dim_feedforward=512,
                                              batch_first=False)

    def forward(self, x):  # (128, 1, 8) -> (1, 512)
        return self.enc(self.proj(x)).mean(dim=0)


class ExplicitLayerNorm(nn.Module):
    """LayerNorm over the last axis written out, as older exports have it:
    ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, then Mul and Add by
    the learned scale and shift."""

    def __init__(self, features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(features))
        self.bias = nn.Parameter(0.1 * torch.randn(features))

    def forward(self, x):
        d = x - x.mean(dim=-1, keepdim=True)
        var = d.pow(2).mean(dim=-1, keepdim=True)
        return d / torch.sqrt(var + self.eps) * self.weight + self.bias


class LayerNormExplicit(nn.Module):
    """A residual MLP block over 64 tokens of 128 features, x (1, 64, 128):
    Linear(128, 256), ExplicitLayerNorm, ReLU, Linear(256, 128), plus x,
    ExplicitLayerNorm."""

    def __init__(self):
        super().__init__()
        self.up = nn.Linear(128, 256)
        self.norm1 = ExplicitLayerNorm(256)
        self.down = nn.Linear(256, 128)
        self.norm2 = ExplicitLayerNorm(128)

    def forward(self, x):
        return self.norm2(x + self.down(torch.relu(self.norm1(self.up(x)))))


class Snake(nn.Module):
    """x + sin(alpha x)^2 / alpha, alpha learned per channel (1, C, 1)."""

    def __init__(self, channels):
        super().__init__()
        self.alpha = nn.Parameter(torch.exp(0.3 * torch.randn(1, channels, 1)))

    def forward(self, x):
        return x + torch.sin(self.alpha * x).pow(2) / self.alpha


class CachedConv(nn.Module):
    """A causal Conv1d that streams: its input is prepended with the cache,
    the last (kernel - 1) x dilation input columns of the previous call,
    (1, in, n); returns the output and the new cache."""

    def __init__(self, cin, cout, kernel, dilation=1, conv=None):
        super().__init__()
        self.conv = conv or nn.Conv1d(cin, cout, kernel, dilation=dilation)
        self.cache_shape = (1, cin, (kernel - 1) * dilation)

    def forward(self, x, cache):
        inp = torch.cat([cache, x], dim=2)
        return self.conv(inp), inp[:, :, -self.cache_shape[2]:]


class CachedUpsample(nn.Module):
    """ConvTranspose1d(kernel 2r, stride r) that streams: an output frame
    depends on its input frame and the one before, so the previous call's
    last input frame is the cache (1, in, 1); of the r (T + 2) outputs of
    the cache and the block, the middle r T are this block's."""

    def __init__(self, cin, cout, ratio):
        super().__init__()
        self.ratio = ratio
        self.conv = nn.ConvTranspose1d(cin, cout, 2 * ratio, stride=ratio)
        self.cache_shape = (1, cin, 1)

    def forward(self, x, cache):
        inp = torch.cat([cache, x], dim=2)
        return self.conv(inp)[:, :, self.ratio:-self.ratio], inp[:, :, -1:]


class FixedConv1d(nn.Conv1d):
    """A Conv1d without bias whose weight is a constant (a buffer, not a
    parameter): a fixed filter bank."""

    def __init__(self, weight):
        super().__init__(weight.shape[1], weight.shape[0], weight.shape[2], bias=False)
        del self.weight
        self.register_buffer("weight", torch.tensor(weight, dtype=torch.float32))


def pqmf_synthesis(bands, taps, cutoff):
    """A cosine-modulated (PQMF) synthesis bank as a polyphase Conv1d weight
    (bands, bands, taps / bands): output phase p of sub-band time m is
    sum_b sum_j x_b[m - j] g_b[bands j + p], with g_b the band's synthesis
    filter (the prototype, a Kaiser-windowed (beta 9) sinc lowpass with
    `cutoff` in cycles per sample, modulated) times `bands` for the
    upsampling's gain. Built in float64."""
    n = np.arange(taps)
    centre = (taps - 1) / 2
    proto = 2 * cutoff * np.sinc(2 * cutoff * (n - centre)) * np.kaiser(taps, 9.0)
    proto /= proto.sum()
    g = np.stack([2 * proto * np.cos((2 * b + 1) * np.pi / (2 * bands) * (n - centre)
                                     - (-1) ** b * np.pi / 4) for b in range(bands)])
    j = taps // bands
    w = np.zeros((bands, bands, j))
    for p in range(bands):
        for k in range(j):
            w[p, :, k] = bands * g[:, bands * (j - 1 - k) + p]
    return w


class RaveDecoder(nn.Module):
    """A RAVE-style decoder streamed block by block: a latent z (1, 8, T) at
    48000 / 512 = 93.75 frames per second; a causal Conv1d(8, 256, 3); four
    stages, each a Snake, a ConvTranspose1d upsampling x4, x4, x4, x2
    (256 -> 128 -> 64 -> 32 -> 16 channels) and three residual blocks (Snake,
    causal Conv1d kernel 3 with dilation 1, 3, 9, Snake, Conv1d 1x1, plus the
    input); a causal Conv1d(16, 8, 7) to 4 bands of waveform and loudness,
    tanh(waveform) x sigmoid(loudness); a fixed 4-band PQMF synthesis bank
    (a polyphase Conv1d with constant weights, 64 taps) to y (1, 1, S),
    S = 512 T samples.
    Every causal convolution keeps its past inputs in a state pair cache_k
    -> cache_k_out, so that block after block equals one run over the whole
    latent sequence."""
    LATENT, BANDS, TAPS = 8, 4, 64
    # the prototype's cutoff (near 1 / 4 bands), tuned so that the matching
    # analysis bank then this one rebuild a signal to about -60 dB
    CUTOFF = 0.0709
    RATIOS = (4, 4, 4, 2)
    CHANNELS = (256, 128, 64, 32, 16)
    DILATIONS = (1, 3, 9)

    def __init__(self):
        super().__init__()
        ch = self.CHANNELS
        self.conv_in = CachedConv(self.LATENT, ch[0], 3)
        self.stages = nn.ModuleList()
        for i, r in enumerate(self.RATIOS):
            blocks = nn.ModuleList()
            c = ch[i + 1]
            for d in self.DILATIONS:
                blocks.append(nn.ModuleList([Snake(c), CachedConv(c, c, 3, d), Snake(c),
                                             nn.Conv1d(c, c, 1)]))
            self.stages.append(nn.ModuleList([Snake(ch[i]), CachedUpsample(ch[i], ch[i + 1], r),
                                              blocks]))
        self.conv_out = CachedConv(ch[-1], 2 * self.BANDS, 7)
        w = pqmf_synthesis(self.BANDS, self.TAPS, self.CUTOFF)
        self.synthesis = CachedConv(self.BANDS, self.BANDS, w.shape[2], conv=FixedConv1d(w))

    def cached(self):
        """The cached layers in the order of their state pairs."""
        out = [self.conv_in]
        for _snake, up, blocks in self.stages:
            out.append(up)
            out += [b[1] for b in blocks]
        return out + [self.conv_out, self.synthesis]

    def initial_state(self, scale=0.5):
        return {"cache_%d" % i: randn(*m.cache_shape, scale=scale)
                for i, m in enumerate(self.cached())}

    def forward(self, z, *caches):
        caches = list(caches)
        new = []

        def step(layer, x):
            y, c = layer(x, caches[len(new)])
            new.append(c)
            return y

        x = step(self.conv_in, z)
        for snake, up, blocks in self.stages:
            x = step(up, snake(x))
            for snake1, conv, snake2, mix in blocks:
                x = x + mix(snake2(step(conv, snake1(x))))
        wave, loud = step(self.conv_out, x).split(self.BANDS, dim=1)
        phases = step(self.synthesis, torch.tanh(wave) * torch.sigmoid(loud))  # (1, 4, 128 T)
        y = phases.transpose(1, 2).reshape(1, 1, -1)  # phase p of time m -> sample 4 m + p
        return (y, *new)


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
            dict(audio, time_axes={"x": 1, "y": 1}, samples_per_step=1, stream=stream)
    for hidden in (8, 16, 32, 64):
        yield "lstm%d" % hidden, AmpLSTM(hidden), \
            {"x": randn(1, 1024, 1, scale=0.5), "h": randn(1, 1, hidden, scale=0.5),
             "c": randn(1, 1, hidden, scale=0.5)}, \
            ["y", "h_out", "c_out"], {"x": T, "y": T}, \
            dict(audio, time_axes={"x": 1, "y": 1}, samples_per_step=1, stream=stream)
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
        dict(audio, time_axes={"x": 2, "y": 2}, samples_per_step=1, stream=stream)

    # the general case: other exports of the same kinds of model (appended, so
    # that the models above keep their seeds)
    yield "log_spectrum_slices", LogSpectrumSlices(), {"x": randn(1, 1024, scale=0.5)}, ["y"], \
        None, audio
    # 8 chunks of 512 samples with 64 of context, one chunk per call
    sig = randn(1, 8 * 512 + 64, scale=0.3)[0]
    chunks = np.stack([sig[i * 512:i * 512 + 576] for i in range(8)])
    yield "silero_like", SileroLike(), \
        {"x": chunks, "h": randn(1, 1, 128, scale=0.5), "c": randn(1, 1, 128, scale=0.5)}, \
        ["y", "h_out", "c_out"], {"x": {0: "T"}, "y": {0: "T"}}, \
        {"sample_rate": 16000, "time_axes": {"x": 0, "y": 0}, "block_length": 1,
         "samples_per_step": 512, "samples_per_call": 512, "stream": {"blocks": 8, "steps": 8}}
    yield "transformer_block_bf", TransformerBlockSeqFirst(), {"x": randn(128, 1, 8)}, ["y"], \
        None, {}
    yield "layernorm_explicit", LayerNormExplicit(), {"x": randn(1, 64, 128)}, ["y"], None, {}
    # 16 latent frames (8192 samples), streamed as 8 blocks of 2 and as 16
    # single frames; a call of the benchmark is 4 frames, 2048 samples
    rave = RaveDecoder()
    caches = rave.initial_state()
    yield "rave_decoder", rave, dict({"z": randn(1, rave.LATENT, 16)}, **caches), \
        ["y"] + [k + "_out" for k in caches], {"z": {2: "T"}, "y": {2: "S"}}, \
        dict(audio, time_axes={"z": 2, "y": 2}, block_length=4, samples_per_step=512,
             samples_per_call=4 * 512, stream={"blocks": 8, "steps": 16})


def check_stream(name, model, inputs, outputs, time_axes, blocks):
    """PyTorch itself, before export: the reference sequence cut into `blocks`
    blocks along the time axes, run block by block with every state output
    X_out fed back as X, must give the outputs and the last state of one run
    over the whole (to 1e-5 of the output's scale). Raises AssertionError."""
    model.eval()
    pairs = {n: n + "_out" for n in inputs if n + "_out" in outputs}
    with torch.no_grad():
        whole = dict(zip(outputs, model(*[torch.from_numpy(a) for a in inputs.values()])))
        state = {n: torch.from_numpy(inputs[n]) for n in pairs}
        pieces = {o: [] for o in outputs if o in time_axes}
        step = inputs[next(iter(time_axes))].shape[next(iter(time_axes.values()))] // blocks
        for k in range(blocks):
            feed = []
            for n, a in inputs.items():
                if n in pairs:
                    feed.append(state[n])
                elif n in time_axes:
                    feed.append(torch.from_numpy(a).narrow(time_axes[n], k * step, step))
                else:
                    feed.append(torch.from_numpy(a))
            got = dict(zip(outputs, model(*feed)))
            state = {n: got[o] for n, o in pairs.items()}
            for o in pieces:
                pieces[o].append(got[o])
    got = {o: torch.cat(p, dim=time_axes[o]) for o, p in pieces.items()}
    got.update({o: state[n] for n, o in pairs.items()})
    for o, g in got.items():
        w = whole[o]
        err = float((g - w).abs().max())
        if g.shape != w.shape or not err <= 1e-5 * max(1.0, float(w.abs().max())):
            raise AssertionError("%s: %s streamed in %d blocks differs from the whole run by %g"
                                 % (name, o, blocks, err))


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
        if "stream" in extra:
            check_stream(name, model, inputs, outputs, extra["time_axes"],
                         extra["stream"]["blocks"])
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
