#!/usr/bin/python3
"""Trains `gesture`: a small mixture-density LSTM that continues a 2-D
gesture, for the gesture example of help/onyx-help.pd, and writes
models/trained/gesture.onnx, its meta.json and a reference input/output pair.

The model is the zoo's MDRNN (models/zoo.py) with 2 LSTM layers of 32: the
last point x (1, T, 2) in, per step a mixture of 5 Gaussians over the next
point: means (1, T, 5, 2), scales (1, T, 5, 2), weights (1, T, 5); states
h and c (2, 1, 32) paired with h_out and c_out. Training data: synthetic
gestures sampled every 50 ms, ellipses and figure-eights (Lissajous 1:2)
around the middle of [-1, 1]^2, of random size, speed, direction and
rotation, plus a little jitter. Loss: the negative log-likelihood of the
next point, Adam on batches of 32 sequences of 64 steps.

The script prints the held-out scores: the mean negative log-likelihood per
step on fresh gestures, the mean distance from the most likely mean to the
true next point (next to that of repeating the last point), and a rollout
at temperature 0 from (0, 0) with a zero state (what the help patch's reset
does): the box it stays in and its mean step.

usage: /usr/bin/python3 models/train_gesture.py [OUTDIR]   (default models/trained)
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnxexport  # noqa: E402
import training  # noqa: E402
from zoo import MDRNN  # noqa: E402

HIDDEN = 32
STEPS = 64  # steps per training sequence (3.2 s at 50 ms)


def gestures(rng, n, steps=STEPS + 1):
    """n gestures (n, steps, 2): ellipses and figure-eights, each with a
    random centre, size, rotation, start phase, speed and direction."""
    t = np.arange(steps)[None, :]
    speed = rng.uniform(0.08, 0.25, (n, 1)) * rng.choice([-1, 1], (n, 1))  # radians per step
    phase = rng.uniform(0, 2 * math.pi, (n, 1)) + speed * t
    ax, ay = rng.uniform(0.3, 0.9, (n, 1)), rng.uniform(0.3, 0.9, (n, 1))
    eight = rng.uniform(0, 1, (n, 1)) < 0.5
    x = ax * np.sin(phase)
    y = ay * np.where(eight, np.sin(2 * phase), np.cos(phase))
    rot = rng.uniform(0, math.pi, (n, 1))
    cx, cy = rng.uniform(-0.2, 0.2, (n, 1)), rng.uniform(-0.2, 0.2, (n, 1))
    pts = np.stack([cx + x * np.cos(rot) - y * np.sin(rot), cy + x * np.sin(rot) + y * np.cos(rot)], -1)
    return (pts + rng.normal(0, 0.01, pts.shape)).astype(np.float32)


def nll(mean, scale, weight, target):
    """Negative log-likelihood of target (N, T, 2) under the mixture:
    mean, scale (N, T, K, 2), weight (N, T, K); mean over steps."""
    z = (target[:, :, None, :] - mean) / scale
    comp = -0.5 * (z ** 2).sum(-1) - torch.log(scale).sum(-1) - math.log(2 * math.pi)
    return -torch.logsumexp(torch.log(weight + 1e-12) + comp, -1).mean()


def run(model, x):
    """The model over gestures x (N, T, 2) from a zero state. Its forward
    flattens the batch into the time axis (the export has batch 1): the
    outputs are folded back to (N, T, ...)."""
    n, t = x.shape[0], x.shape[1]
    h = torch.zeros(2, n, HIDDEN)
    mean, scale, weight, _, _ = model(x, h, h.clone())
    k, d = model.MIX, model.DIMS
    return mean.reshape(n, t, k, d), scale.reshape(n, t, k, d), weight.reshape(n, t, k)


class Gesture(MDRNN):
    """Gesture continuation: a (1, T, 2) point stream into 2 LSTM layers of
    32; per step a mixture of 5 Gaussians over the next point: means
    (1,T,5,2), scales (1,T,5,2) > 0, weights (1,T,5) summing to 1. States
    h, c (2, 1, 32)."""


def rollout(model, steps=200):
    """Temperature 0 from (0, 0), as the help patch plays it: the mean of the
    most likely component goes back in."""
    x = torch.zeros(1, 1, 2)
    h, c = torch.zeros(2, 1, HIDDEN), torch.zeros(2, 1, HIDDEN)
    pts = []
    with torch.no_grad():
        for _ in range(steps):
            mean, _, weight, h, c = model(x, h, c)
            k = int(weight[0, 0].argmax())
            x = mean[:, :, k, :]
            pts.append(x[0, 0].numpy().copy())
    return np.array(pts)


def main(argv):
    outdir, rng, t0 = training.start(argv)
    model = Gesture(HIDDEN)

    def step_loss(step):
        g = torch.from_numpy(gestures(rng, 32))
        return nll(*run(model, g[:, :-1]), g[:, 1:])

    training.fit(model, 1e-2, 1500, step_loss, log_every=250, t0=t0)

    model.eval()
    test = torch.from_numpy(gestures(np.random.default_rng(1), 256))
    with torch.no_grad():
        mean, scale, weight = run(model, test[:, :-1])
        held_nll = float(nll(mean, scale, weight, test[:, 1:]))
        best = weight.argmax(-1)[..., None, None].expand(-1, -1, 1, 2)
        pred = mean.gather(2, best)[:, :, 0]
    err = float((pred - test[:, 1:]).norm(dim=-1)[:, 8:].mean())  # after 8 steps of context
    hold = float((test[:, :-1] - test[:, 1:]).norm(dim=-1)[:, 8:].mean())
    roll = rollout(model)
    box = [round(float(v), 3) for v in (roll[:, 0].min(), roll[:, 0].max(),
                                         roll[:, 1].min(), roll[:, 1].max())]
    step = float(np.linalg.norm(np.diff(roll, axis=0), axis=1).mean())
    print("held-out: nll %.3f per step; next-point error %.4f (repeating the last point: %.4f); "
          "rollout at temperature 0: x in [%g, %g], y in [%g, %g], mean step %.4f"
          % (held_nll, err, hold, *box, step))

    ref = gestures(np.random.default_rng(2), 1)[:, :STEPS]
    meta = onnxexport.package(
        "gesture", model, {"x": ref, "h": np.zeros((2, 1, HIDDEN), np.float32),
                           "c": np.zeros((2, 1, HIDDEN), np.float32)},
        ["mean", "scale", "weight", "h_out", "c_out"], outdir, stem="gesture",
        dynamic={"x": {1: "T"}, "mean": {1: "T"}, "scale": {1: "T"}, "weight": {1: "T"}},
        time_axes={"x": 1, "mean": 1, "scale": 1, "weight": 1}, block_length=1,
        stream={"blocks": 8, "steps": 64},
        description="Gesture continuation: mixture-density LSTM (2 x 32, 5 Gaussians over the next "
                    "2-D point), trained on synthetic ellipses and figure-eights (train_gesture.py)",
        training={"script": "models/train_gesture.py",
                  "held_out": {"nll_per_step": round(held_nll, 4), "next_point_error": round(err, 5),
                               "repeat_last_point_error": round(hold, 5),
                               "rollout_box": box, "rollout_mean_step": round(step, 5)}})
    training.wrote(outdir, meta, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
