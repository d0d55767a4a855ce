#!/usr/bin/python3
"""Trains `presets`: an MLP from an XY pad (2 values in [0, 1]) to 8 synthesis
parameters in [0, 1], interpolating between 4 corner presets, and writes
models/trained/presets.onnx, its meta.json and a reference input/output pair.

The MLP: Linear(2, 32) - Tanh - Linear(32, 32) - Tanh - Linear(32, 8) -
Sigmoid. Target: the bilinear blend of the corner presets (x = 0 left,
y = 0 bottom), so the pad's corners give the presets exactly and the middle
gives their average. Trained with Adam on random pad points plus the four
corners. The script prints the held-out scores: the largest error at the
corners, the largest error against the bilinear blend on a 101 x 101 grid,
and smoothness as the largest change of any parameter between neighbouring
grid points (step 0.01) over that of the bilinear blend.

usage: /usr/bin/python3 models/train_presets.py [OUTDIR]   (default models/trained)
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnxexport  # noqa: E402
import training  # noqa: E402

PARAMS = ["cutoff", "resonance", "attack", "decay", "sustain", "release", "detune", "gain"]
# (x, y) corner -> parameters, each in [0, 1]
CORNERS = {
    (0, 0): [0.15, 0.10, 0.02, 0.20, 0.80, 0.30, 0.05, 0.70],  # warm pad
    (1, 0): [0.85, 0.60, 0.01, 0.10, 0.20, 0.10, 0.02, 0.90],  # bright pluck
    (0, 1): [0.40, 0.85, 0.60, 0.70, 0.50, 0.90, 0.30, 0.50],  # slow resonant swell
    (1, 1): [0.95, 0.25, 0.10, 0.40, 0.90, 0.50, 0.80, 0.60],  # detuned lead
}


class Presets(nn.Module):
    """XY pad (1, 2) in [0, 1]^2 -> 8 synthesis parameters (1, 8) in [0, 1]."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                                 nn.Linear(32, len(PARAMS)), nn.Sigmoid())

    def forward(self, xy):
        return self.net(xy)


def blend(xy):
    """Bilinear blend of the corner presets at points xy (n, 2)."""
    x, y = xy[:, :1], xy[:, 1:]
    c = {k: np.asarray(v)[None, :] for k, v in CORNERS.items()}
    return ((1 - x) * (1 - y) * c[(0, 0)] + x * (1 - y) * c[(1, 0)]
            + (1 - x) * y * c[(0, 1)] + x * y * c[(1, 1)]).astype(np.float32)


def grid(n=101):
    g = np.linspace(0, 1, n)
    return np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2).astype(np.float32)


def roughness(values, n=101):
    """Largest change of a parameter between neighbouring grid points."""
    v = values.reshape(n, n, -1)
    return float(max(np.abs(np.diff(v, axis=0)).max(), np.abs(np.diff(v, axis=1)).max()))


def main(argv):
    outdir, rng, t0 = training.start(argv)
    model = Presets()
    corners = np.array(list(CORNERS), dtype=np.float32)

    def step_loss(step):
        xy = np.concatenate([rng.uniform(0, 1, (60, 2)), corners]).astype(np.float32)
        want = torch.from_numpy(blend(xy))
        pred = model(torch.from_numpy(xy))
        # the corners weigh 10 times more: they are the presets themselves
        w = torch.ones(len(xy), 1)
        w[-4:] = 10.0
        return (w * (pred - want) ** 2).mean()

    training.fit(model, 1e-2, 8000, step_loss)

    model.eval()
    with torch.no_grad():
        at_corners = model(torch.from_numpy(corners)).numpy()
        g = grid()
        on_grid = model(torch.from_numpy(g)).numpy()
    corner_err = float(np.abs(at_corners - blend(corners)).max())
    grid_err = float(np.abs(on_grid - blend(g)).max())
    rough, rough_ref = roughness(on_grid), roughness(blend(g))
    print("held-out: corner error max %.4f; grid error max %.4f; "
          "smoothness: largest step %.4f per 0.01 of pad (bilinear blend %.4f, ratio %.2f)"
          % (corner_err, grid_err, rough, rough_ref, rough / rough_ref))

    ref = np.array([[0.3, 0.7]], dtype=np.float32)
    meta = onnxexport.package(
        "presets", model, {"xy": ref}, ["params"], outdir, stem="presets",
        description="XY pad -> 8 synth parameters, interpolating 4 corner presets (train_presets.py)",
        parameters=PARAMS, corners={"%d,%d" % k: v for k, v in CORNERS.items()},
        training={"script": "models/train_presets.py",
                  "held_out": {"corner_error_max": round(corner_err, 5),
                               "grid_error_max": round(grid_err, 5),
                               "largest_step_per_0.01": round(rough, 5),
                               "bilinear_largest_step_per_0.01": round(rough_ref, 5)}})
    training.wrote(outdir, meta, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
