#!/usr/bin/python3
"""Trains `overdrive`: the zoo's gru16 amp model (GRU(1, 16) over the signal,
Linear(16, 1) plus the input) imitating an analog-style overdrive with
memory, and writes models/trained/overdrive.onnx, its meta.json and a
reference input/output pair.

The target (48 kHz): an envelope follower (attack 1 ms, release 30 ms) on
|x| sets the cutoff of a one-pole lowpass, 9 kHz when quiet falling to
about 1.4 kHz at full level (the tone darkens as it is driven harder), and
a tanh waveshaper with drive 4 follows it; out = 0.6 tanh(4 lowpass(x)).

Training: 48 clips of 0.25 s (sine sweeps, tones with amplitude ramps,
plucked harmonic notes, gated filtered noise; peak levels 0.02 to 1),
truncated backpropagation through time over 512-sample chunks carrying
the state, Adam, loss = error-to-signal ratio (ESR). Held-out: a 2 s log
sine sweep 20 Hz - 16 kHz at three levels and 2 s of noise bursts, both
from another seed; the script prints the ESR on each.

usage: /usr/bin/python3 models/train_overdrive.py [OUTDIR]   (default models/trained)
"""
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnxexport  # noqa: E402
from zoo import AmpGRU  # noqa: E402

SR = 48000
HIDDEN = 16
DRIVE, GAIN = 4.0, 0.6


def target(x):
    """The overdrive, sample by sample over the last axis of x (batch, T)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    att = 1 - math.exp(-1 / (0.001 * SR))
    rel = 1 - math.exp(-1 / (0.030 * SR))
    env = np.zeros(x.shape[0])
    lp = np.zeros(x.shape[0])
    y = np.empty_like(x)
    for n in range(x.shape[1]):
        a = np.abs(x[:, n])
        env += np.where(a > env, att, rel) * (a - env)
        fc = 9000.0 / (1.0 + 5.5 * env)
        lp += (1 - np.exp(-2 * np.pi * fc / SR)) * (x[:, n] - lp)
        y[:, n] = GAIN * np.tanh(DRIVE * lp)
    return y.astype(np.float32)


def log_sweep(n, f0, f1):
    t = np.arange(n) / SR
    k = math.log(f1 / f0)
    dur = n / SR
    return np.sin(2 * np.pi * f0 * dur / k * (np.exp(t / dur * k) - 1))


def one_pole(x, a):
    y = np.empty_like(x)
    s = 0.0
    for i, v in enumerate(x):
        s += a * (v - s)
        y[i] = s
    return y


def noise_bursts(rng, n):
    """Gated noise, each burst with its own level, length and brightness."""
    out = np.zeros(n)
    pos = 0
    while pos < n:
        gap = int(rng.uniform(0.005, 0.05) * SR)
        length = int(rng.uniform(0.02, 0.2) * SR)
        seg = rng.standard_normal(length)
        seg = one_pole(seg, rng.uniform(0.05, 1.0)) if rng.random() < 0.7 else seg
        seg *= rng.uniform(0.02, 1.0) / (np.abs(seg).max() + 1e-9)
        fade = min(length // 2, int(0.002 * SR))
        seg[:fade] *= np.linspace(0, 1, fade)
        seg[length - fade:] *= np.linspace(1, 0, fade)
        a, b = pos + gap, min(n, pos + gap + length)
        if a < n:
            out[a:b] = seg[:b - a]
        pos = b
    return out


def clip(rng, n):
    """One training clip of n samples."""
    kind = rng.integers(4)
    t = np.arange(n) / SR
    if kind == 0:
        f0 = rng.uniform(20, 200)
        x = log_sweep(n, f0, f0 * rng.uniform(4, 80))
    elif kind == 1:
        x = np.sin(2 * np.pi * rng.uniform(40, 4000) * t + rng.uniform(0, 6.3))
        x *= np.linspace(rng.uniform(0, 1), rng.uniform(0, 1), n)
    elif kind == 2:
        f = rng.uniform(60, 800)
        x = sum(np.sin(2 * np.pi * f * h * t) / h ** rng.uniform(0.8, 2) for h in range(1, 8))
        start = rng.integers(n // 2)
        env = np.zeros(n)
        env[start:] = np.exp(-(t[:n - start]) / rng.uniform(0.03, 0.3))
        x = x * env
    else:
        return noise_bursts(rng, n)
    return x * rng.uniform(0.02, 1.0) / (np.abs(x).max() + 1e-9)


def esr(y, t):
    return float(np.sum((y - t) ** 2) / np.sum(t ** 2))


def run(model, x):
    """The model over a whole signal (1-D), from a zero state."""
    with torch.no_grad():
        y, _ = model(torch.from_numpy(x.astype(np.float32)).reshape(1, -1, 1),
                     torch.zeros(1, 1, HIDDEN))
    return y.numpy().reshape(-1)


def held_out():
    rng = np.random.default_rng(12345)
    n = 2 * SR
    third = n // 3
    sweep = np.concatenate([level * log_sweep(third, 20, 16000) for level in (0.1, 0.4, 1.0)])
    return {"sine sweep": sweep.astype(np.float32),
            "noise bursts": noise_bursts(rng, n).astype(np.float32)}


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = argv[1] if len(argv) > 1 else os.path.join(here, "trained")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    t0 = time.time()

    clips, length, chunk, epochs = 48, SR // 4, 512, 30
    x = np.stack([clip(rng, length) for _ in range(clips)]).astype(np.float32)
    y = target(x)
    print("data: %d clips of %d samples (%.1fs)" % (clips, length, time.time() - t0))

    model = AmpGRU(HIDDEN)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    xt = torch.from_numpy(x).unsqueeze(-1)
    yt = torch.from_numpy(y).unsqueeze(-1)
    for epoch in range(epochs):
        h = torch.zeros(1, clips, HIDDEN)
        total = 0.0
        for start in range(0, length - chunk + 1, chunk):
            xb, yb = xt[:, start:start + chunk], yt[:, start:start + chunk]
            pred, h = model(xb, h)
            h = h.detach()
            if start == 0:  # the first chunk only warms the state up
                continue
            loss = ((pred - yb) ** 2).sum() / ((yb ** 2).sum() + 1e-6)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        sched.step()
        if epoch % 5 == 4 or epoch == epochs - 1:
            print("epoch %2d  training ESR %.4f  (%.0fs)" % (epoch + 1, total / (length // chunk - 1),
                                                              time.time() - t0))

    model.eval()
    scores = {}
    for name, sig in held_out().items():
        scores[name] = esr(run(model, sig), target(sig)[0])
        print("held-out ESR on %s: %.4f" % (name, scores[name]))

    ref = held_out()["sine sweep"][SR // 2:SR // 2 + 2048].reshape(1, -1, 1)
    meta = onnxexport.package(
        "overdrive", model, {"x": ref, "h": np.zeros((1, 1, HIDDEN), np.float32)}, ["y", "h_out"],
        outdir, stem="overdrive", dynamic={"x": {1: "T"}, "y": {1: "T"}}, sample_rate=SR,
        time_axes={"x": 1, "y": 1}, stream={"blocks": 8, "steps": 64},
        description="Overdrive imitation: GRU(1, 16) + Linear(16, 1) + input, trained on a tanh "
                    "waveshaper behind a level-dependent one-pole lowpass (train_overdrive.py)",
        training={"script": "models/train_overdrive.py",
                  "held_out_esr": {k.replace(" ", "_"): round(v, 5) for k, v in scores.items()}})
    print("wrote %s (%d parameters) in %.0fs" % (os.path.join(outdir, meta["file"]), meta["params"],
                                                 time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
