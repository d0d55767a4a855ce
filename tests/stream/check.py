#!/usr/bin/python3
"""`onyx process` against PyTorch and `onyx run`: small models exported here
stream a sound file through the streaming runner, as [onyx~ -sync] would in
Pd; the output (latency compensated) must match PyTorch on the whole file
within 1e-4 of the output's scale, and `onyx run` on the whole file where
the model allows it. Then the command's errors.

  gru        GRU(1->16)+Linear, state pair h/h_out, T symbolic: blocks 64
             (latency 0), 100 (latency 100), 1 (per sample)
  gru1       the same GRU exported with a static (1,1,1) input: a per-sample
             model by its own shape
  identity   y = x: the latency printed for blocks 64, 100, 1024, and the
             output equal to the input sample for sample
  conv1024   a static (1,1,1024) Conv1d net: each block of 1024 on its own
  gain       y = x * g[0] + g[1], g a control set with --set
  stereo     x (1,2,T) channel-major in, y (1,T,2) interleaved out
  threaded   --threaded (inference in the worker thread, the reader
             waiting for it): OUT bit for bit the unthreaded run's, at the
             threaded latency 2*ceil(64/B)*B

usage: /usr/bin/python3 tests/stream/check.py ONYX_BINARY WORKDIR
"""
import os
import re
import struct
import subprocess
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn

warnings.filterwarnings("ignore")
torch.manual_seed(0)
np.random.seed(0)
RATE = 48000


# ---- float32 WAV files (no soundfile module on Debian by default) ----
def write_wav(path, x):
    """x: (frames, channels) float32"""
    x = np.ascontiguousarray(x, dtype="<f4")
    frames, ch = x.shape
    data = x.tobytes()
    fmt = struct.pack("<HHIIHH", 3, ch, RATE, RATE * 4 * ch, 4 * ch, 32)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(data)) + data)


def read_wav(path):
    """-> (frames, channels) float32, rate; float32 WAV only"""
    b = open(path, "rb").read()
    assert b[:4] == b"RIFF" and b[8:12] == b"WAVE", path
    pos, ch, rate, bits, fmt_tag = 12, None, None, None, None
    while pos + 8 <= len(b):
        cid, size = b[pos:pos + 4], struct.unpack("<I", b[pos + 4:pos + 8])[0]
        body = b[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt_tag, ch, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if fmt_tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the subformat's tag
                fmt_tag = struct.unpack("<H", body[24:26])[0]
        elif cid == b"data":
            assert fmt_tag == 3 and bits == 32, "%s: not float32 (%s, %s)" % (path, fmt_tag, bits)
            return np.frombuffer(body, dtype="<f4").reshape(-1, ch), rate
        pos += 8 + size + (size & 1)
    raise ValueError(path + ": no data chunk")


# ---- models ----
class GRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(1, 16, batch_first=True)
        self.out = nn.Linear(16, 1)

    def forward(self, x, h):
        y, h_out = self.rnn(x, h)
        return torch.tanh(self.out(y)), h_out


class Identity(nn.Module):
    def forward(self, x):
        return x * 1.0


class Conv(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(1, 4, 9, padding=4)
        self.c2 = nn.Conv1d(4, 1, 5, padding=2)

    def forward(self, x):
        return self.c2(torch.tanh(self.c1(x)))


class Gain(nn.Module):
    def forward(self, x, g):
        return x * g[:, 0:1].unsqueeze(2) + g[:, 1:2].unsqueeze(2)


class Stereo(nn.Module):
    def forward(self, x):
        a, b = x[:, 0], x[:, 1]
        return torch.stack([a - b, 2 * a + torch.tanh(b)], dim=2)


def export(model, args, names, outs, path, dyn=None, meta=None):
    model.eval()
    torch.onnx.export(model, args, path, input_names=names, output_names=outs,
                      opset_version=14, dynamic_axes=dyn)
    if meta:
        m = onnx.load(path)
        for k, v in meta.items():
            m.metadata_props.add(key=k, value=v)
        onnx.save(m, path)


# ---- running the command ----
failures = 0


def report(ok, msg):
    global failures
    print(("PASS " if ok else "FAIL ") + msg)
    if not ok:
        failures += 1


def process(onyx, model, x, work, name, extra=(), want_rc=0):
    """Writes x to a WAV file, runs onyx process; -> (output, stdout, stderr)"""
    inp = os.path.join(work, name + "_in.wav")
    out = os.path.join(work, name + "_out.wav")
    write_wav(inp, x)
    if os.path.exists(out):
        os.remove(out)
    r = subprocess.run([onyx, "process", model, inp, out] + list(extra),
                       capture_output=True, text=True)
    if r.returncode != want_rc:
        report(False, "%s: onyx process exited %d (want %d): %s" %
               (name, r.returncode, want_rc, r.stderr.strip()))
        return None, r.stdout, r.stderr
    if want_rc:
        return None, r.stdout, r.stderr
    y, rate = read_wav(out)
    if rate != RATE or y.shape[0] != x.shape[0]:
        report(False, "%s: output %d frames at %d Hz, want %d at %d" %
               (name, y.shape[0], rate, x.shape[0], RATE))
        return None, r.stdout, r.stderr
    return y, r.stdout, r.stderr


def latency_of(stdout):
    m = re.search(r"latency: (\d+) samples", stdout)
    return int(m.group(1)) if m else None


def close(name, got, want, note=""):
    if got is None:
        return
    if got.shape != want.shape:
        report(False, "%s: shape %s, want %s" % (name, got.shape, want.shape))
        return
    tol = 1e-4 * max(1.0, float(np.abs(want).max()))
    err = float(np.abs(got - want).max())
    report(err <= tol, "%s%s (max abs error %.2g, tolerance %.2g)" % (name, note, err, tol))


def onyx_run(onyx, model, feeds, work, name):
    """-> {output name: array} from `onyx run` on the given inputs"""
    d = os.path.join(work, name + "_run")
    os.makedirs(d, exist_ok=True)
    args = [onyx, "run", model, "-o", d]
    for k, v in feeds.items():
        f = os.path.join(d, k + ".npy")
        np.save(f, v.astype(np.float32))
        args += ["-i", "%s=%s" % (k, f)]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode:
        report(False, "%s: onyx run exited %d: %s" % (name, r.returncode, r.stderr.strip()))
        return None
    return {f[:-4]: np.load(os.path.join(d, f)) for f in os.listdir(d)
            if f.endswith(".npy") and f[:-4] not in feeds}


def main():
    onyx, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    N = 3000  # frames: not a multiple of 64, 100 or 1024
    x1 = (0.5 * np.sin(np.arange(N) * 0.05) + 0.1 * np.random.randn(N)).astype(np.float32)
    x1 = x1.reshape(N, 1)

    # -- GRU with the state pair h / h_out, T symbolic
    gru = GRU()
    p_gru = os.path.join(work, "gru.onnx")
    export(gru, (torch.zeros(1, 64, 1), torch.zeros(1, 1, 16)), ["x", "h"], ["y", "h_out"],
           p_gru, dyn={"x": {1: "T"}, "y": {1: "T"}}, meta={"sample_rate": "48000"})
    with torch.no_grad():
        want = gru(torch.tensor(x1).reshape(1, N, 1), torch.zeros(1, 1, 16))[0].numpy().reshape(N, 1)
    ran = onyx_run(onyx, p_gru, {"x": x1.reshape(1, N, 1), "h": np.zeros((1, 1, 16))}, work, "gru")
    if ran is not None:
        close("gru: onyx run on the whole file vs PyTorch", ran["y"].reshape(N, 1), want)
    for block, lat in ((0, 0), (100, 100), (1, 0), (32, 0), (1024, 1024)):
        extra = ["--block", str(block)] if block else []
        y, out, err = process(onyx, p_gru, x1, work, "gru_b%d" % block, extra)
        report(latency_of(out) == lat, "gru block %d: latency %s, want %d" %
               (block or 64, latency_of(out), lat))
        close("gru block %d vs PyTorch" % (block or 64), y, want)
        if ran is not None and y is not None:
            close("gru block %d vs onyx run" % (block or 64), y, ran["y"].reshape(N, 1))
        if "warning" in err:
            report(False, "gru: unexpected warning: " + err.strip())

    # -- the same GRU with a static (1,1,1) input: per sample by its shape
    p_gru1 = os.path.join(work, "gru1.onnx")
    export(gru, (torch.zeros(1, 1, 1), torch.zeros(1, 1, 16)), ["x", "h"], ["y", "h_out"], p_gru1,
           meta={"sample_rate": "44100"})
    y, out, err = process(onyx, p_gru1, x1, work, "gru1")
    report("block: 1," in out and latency_of(out) == 0,
           "gru1: static per-sample model runs with block 1, latency 0 (%s)" % out.strip().replace("\n", "; "))
    close("gru1 (per sample) vs PyTorch", y, want)
    report("warning" in err and "44100" in err, "gru1: warns that the file is not at the model's rate")

    # -- identity: the latency, and the output equal to the input
    p_id = os.path.join(work, "identity.onnx")
    export(Identity(), (torch.zeros(1, 1, 64),), ["x"], ["y"], p_id,
           dyn={"x": {2: "T"}, "y": {2: "T"}})
    for block, lat in ((0, 0), (1, 0), (100, 100), (1024, 1024), (48, 48)):
        extra = ["--block", str(block)] if block else []
        y, out, _ = process(onyx, p_id, x1, work, "identity_b%d" % block, extra)
        report(latency_of(out) == lat and y is not None and np.array_equal(y, x1),
               "identity block %d: latency %s (want %d), output == input" %
               (block or 64, latency_of(out), lat))

    # -- a static block of 1024: each block on its own
    conv = Conv()
    p_conv = os.path.join(work, "conv1024.onnx")
    export(conv, (torch.zeros(1, 1, 1024),), ["x"], ["y"], p_conv)
    padded = np.zeros(((N + 1023) // 1024) * 1024, np.float32)
    padded[:N] = x1[:, 0]
    with torch.no_grad():
        want_c = np.concatenate([conv(torch.tensor(b).reshape(1, 1, 1024)).numpy().reshape(-1)
                                 for b in padded.reshape(-1, 1024)])[:N].reshape(N, 1)
    y, out, _ = process(onyx, p_conv, x1, work, "conv1024")
    report("block: 1024," in out and latency_of(out) == 1024,
           "conv1024: block 1024, latency 1024 (%s)" % out.strip().replace("\n", "; "))
    close("conv1024 vs PyTorch per block", y, want_c)

    # -- a control input set with --set
    p_gain = os.path.join(work, "gain.onnx")
    export(Gain(), (torch.zeros(1, 1, 64), torch.zeros(1, 2)), ["x", "g"], ["y"], p_gain,
           dyn={"x": {2: "T"}, "y": {2: "T"}})
    y, _, err = process(onyx, p_gain, x1, work, "gain", ["--set", "g=0.5,0.25"])
    close("gain --set g=0.5,0.25", y, x1 * 0.5 + 0.25)
    y, _, err = process(onyx, p_gain, x1, work, "gain0")
    close("gain without --set: g zeros", y, np.zeros_like(x1))
    report("'g' not set" in err, "gain: notes the control left at zeros")

    # -- two signal channels: channel-major in, interleaved out
    x2 = np.stack([x1[:, 0], np.cos(np.arange(N) * 0.01).astype(np.float32)], axis=1)
    p_st = os.path.join(work, "stereo.onnx")
    export(Stereo(), (torch.zeros(1, 2, 64),), ["x"], ["y"], p_st,
           dyn={"x": {2: "T"}, "y": {1: "T"}})
    with torch.no_grad():
        want_s = Stereo()(torch.tensor(x2.T.copy()).reshape(1, 2, N)).numpy().reshape(N, 2)
    y, _, _ = process(onyx, p_st, x2, work, "stereo", ["--block", "100"])
    close("stereo (1,2,T) -> (1,T,2), block 100", y, want_s)

    # -- --threaded: the same OUT, bit for bit, at the threaded latency
    for name, model, x, extra in (
            [("gru_b%d" % b, p_gru, x1, ["--block", str(b)] if b else [])
             for b in (0, 100, 1, 32, 1024)] +
            [("conv1024", p_conv, x1, []), ("stereo", p_st, x2, ["--block", "100"]),
             ("gain", p_gain, x1, ["--set", "g=0.5,0.25"])]):
        y0, _, _ = process(onyx, model, x, work, name + "_sync", extra)
        y1, out, _ = process(onyx, model, x, work, name + "_threaded", extra + ["--threaded"])
        m = re.search(r"block: (\d+),", out)
        B = int(m.group(1)) if m else 0
        lat = 2 * B * ((64 + B - 1) // B) if B else None
        report(y0 is not None and y1 is not None and np.array_equal(y0, y1) and
               latency_of(out) == lat,
               "%s --threaded: output == unthreaded, latency %s (want %s)" %
               (name, latency_of(out), lat))
    _, _, err = process(onyx, p_gain, x1, work, "err_threaded",
                        ["--threaded", "--controls", os.path.join(work, "c.csv")], want_rc=2)
    report("--threaded writes signal outputs only" in err,
           "--threaded with --controls: exit 2 (%s)" % err.strip())

    # -- errors: exit 1 for model and file errors, 2 for usage
    _, _, err = process(onyx, p_st, x1, work, "err_channels", want_rc=1)
    report("1 channel" in err and "2 signal input channels" in err,
           "a mono file for a stereo model: exit 1, names the counts (%s)" % err.strip())
    _, _, err = process(onyx, p_gain, x1, work, "err_set", ["--set", "gain=1,2"], want_rc=1)
    report("no control input named 'gain'" in err and " g" in err,
           "--set with an unknown name: exit 1, lists the controls (%s)" % err.strip())
    _, _, err = process(onyx, p_gain, x1, work, "err_count", ["--set", "g=1"], want_rc=1)
    report("takes 2 values" in err, "--set with the wrong count: exit 1 (%s)" % err.strip())
    _, _, err = process(onyx, p_gain, x1, work, "err_syntax", ["--set", "g"], want_rc=2)
    report("--set g: want NAME=v1,v2,..." in err, "--set without values: exit 2, names the option")
    _, _, err = process(onyx, p_gain, x1, work, "err_block", ["--block", "0"], want_rc=2)
    report("--block 0: want a whole number" in err, "--block 0: exit 2, names the option")
    _, _, err = process(onyx, os.path.join(work, "missing.onnx"), x1, work, "err_model", want_rc=1)
    report("missing.onnx" in err, "a missing model: exit 1")
    r = subprocess.run([onyx, "process", p_id, os.path.join(work, "missing.wav"),
                        os.path.join(work, "x.wav")], capture_output=True, text=True)
    report(r.returncode == 1 and "missing.wav: cannot open: No such file or directory" in r.stderr,
           "a missing sound file: exit 1, names the file and the reason (%s)" % r.stderr.strip())
    r = subprocess.run([onyx, "process", "--help"], capture_output=True, text=True)
    report(r.returncode == 0 and "usage: onyx process" in r.stdout, "--help: exit 0")

    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
