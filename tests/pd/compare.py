#!/usr/bin/python3
"""Compares a float32 WAV written by Pd with a reference.

    compare.py OUT.wav REF.npy|REF.wav [--latency L] [--tol 1e-4] [--skip S]
               [--frames N]

Sample i of the output is matched with sample i - L of the reference; the
first S reference samples are skipped, and with --frames only the first N
output samples (what a patch rendered before it stopped) are compared. Passes when the largest difference is
within tol of the reference's scale (its largest magnitude). Prints figures.
"""
import argparse
import struct
import sys

import numpy as np


def read_wav(path):
    with open(path, 'rb') as f:
        b = f.read()
    if b[:4] != b'RIFF' or b[8:12] != b'WAVE':
        raise SystemExit('%s: not a WAV file' % path)
    at, fmt, data = 12, None, None
    while at + 8 <= len(b):
        cid, size = b[at:at + 4], struct.unpack('<I', b[at + 4:at + 8])[0]
        body = b[at + 8:at + 8 + size]
        if cid == b'fmt ':
            fmt = struct.unpack('<HHIIHH', body[:16])
        elif cid == b'data':
            data = body
        at += 8 + size + (size & 1)
    code, ch, _, _, _, bits = fmt
    if code == 0xFFFE:
        code = 3 if bits == 32 else 1
    if code == 3 and bits == 32:
        x = np.frombuffer(data, '<f4')
    elif code == 1 and bits == 16:
        x = np.frombuffer(data, '<i2') / 32768.0
    elif code == 1 and bits == 24:
        u = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        x = ((u[:, 0] | u[:, 1] << 8 | u[:, 2] << 16) << 8 >> 8) / 8388608.0
    else:
        raise SystemExit('%s: unsupported WAV format %d/%d' % (path, code, bits))
    return x.reshape(-1, ch)[:, 0].astype(np.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('ref')
    ap.add_argument('--latency', type=int, default=0)
    ap.add_argument('--tol', type=float, default=1e-4)
    ap.add_argument('--skip', type=int, default=0)
    ap.add_argument('--frames', type=int, default=0)
    a = ap.parse_args()
    out = read_wav(a.out)
    if a.frames:
        out = out[:a.frames]
    ref = np.load(a.ref).reshape(-1).astype(np.float64) \
        if a.ref.endswith('.npy') else read_wav(a.ref)
    out = out[a.latency:]
    n = min(len(out), len(ref))
    out, ref = out[a.skip:n], ref[a.skip:n]
    scale = max(np.abs(ref).max(), 1e-12)
    err = np.abs(out - ref).max() / scale
    ok = err <= a.tol and len(out) > 1000
    print('%s vs %s: %d samples, latency %d, max error %.3g of scale %.3g: %s'
          % (a.out, a.ref, len(out), a.latency, err, scale,
             'ok' if ok else 'FAIL'))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
