"""Shared by the train_*.py scripts: the start of main() (output folder,
seeds), the Adam loop with a cosine schedule, and the closing line."""
import os
import time

import numpy as np
import torch


def start(argv):
    """OUTDIR from argv (default models/trained), one torch thread, seed 0
    for torch and for the numpy generator; returns (outdir, rng, t0)."""
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = argv[1] if len(argv) > 1 else os.path.join(here, "trained")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return outdir, np.random.default_rng(0), time.time()


def fit(model, lr, steps, step_loss, log_every=0, t0=None):
    """Adam at learning rate lr, cosine-annealed over `steps` steps;
    step_loss(step) gives one batch's loss. Prints the loss every
    log_every steps (0: never)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for step in range(steps):
        loss = step_loss(step)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if log_every and step % log_every == log_every - 1:
            print("step %4d  loss %.4f  (%.0fs)" % (step + 1, loss.item(), time.time() - t0))


def wrote(outdir, meta, t0):
    """The last line: the model written, its parameters and the time taken."""
    print("wrote %s (%d parameters) in %.0fs" % (os.path.join(outdir, meta["file"]), meta["params"],
                                                 time.time() - t0))
