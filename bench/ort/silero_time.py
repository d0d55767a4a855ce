#!/usr/bin/python3
"""bench/ort/silero_time.py [ONYX] - onyx's time per Silero VAD chunk
(legacy, v5, v6 from @ricky0123/vad-web, 16 kHz) beside ONNX Runtime's,
one thread each, in one run on one machine.

onyx: `onyx bench --set sr=16000 --json` (the model as the streaming
runner plays it: the sample rate an input, the If decided at run time).
ONNX Runtime: ort_time.js, RUNS calls of session.run from node. Each call
also pays the node binding (tensors in and out, a promise): that cost is
measured on a model of the same inputs whose outputs are Identity copies of
them, in the same node process, and subtracted. Chunks are what vad-web
feeds: 512 samples to the legacy model, 64 samples of context + 512 to v5
and v6. Run `sh tests/thirdparty/fetch.sh` first."""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(ROOT, 'build', 'thirdparty', 'vad-web', 'dist')
OUT = os.path.join(ROOT, 'build', 'bench-silero')
RUNS = 3000

CASES = (  # name, samples per call, state inputs
    ('silero_vad_legacy', 512, {'h': (2, 1, 64), 'c': (2, 1, 64)}),
    ('silero_vad_v5', 576, {'state': (2, 1, 128)}),
    ('silero_vad_v6', 576, {'state': (2, 1, 128)}),
)


def identity_model(path, inputs):
    """inputs: name -> (dtype, shape); one Identity output per input"""
    vi, out, nodes = [], [], []
    for name, (dt, shape) in inputs.items():
        vi.append(helper.make_tensor_value_info(name, dt, list(shape)))
        out.append(helper.make_tensor_value_info(name + '_out', dt, list(shape)))
        nodes.append(helper.make_node('Identity', [name], [name + '_out']))
    g = helper.make_graph(nodes, 'binding_overhead', vi, out)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 7
    onnx.save(m, path)


def main():
    onyx = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'bin', 'onyx')
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(3)
    ort_args, rows = [], []
    for name, n, states in CASES:
        model = os.path.join(MODELS, name + '.onnx')
        files = {'input': rng.uniform(-0.3, 0.3, (1, n)).astype(np.float32),
                 'sr': np.array(16000, np.int64)}
        for k, shape in states.items():
            files[k] = np.zeros(shape, np.float32)
        args = []
        for k, v in files.items():
            p = os.path.join(OUT, '%s-%s.npy' % (name, k))
            np.save(p, v)
            args.append('%s=%s' % (k, p))
        ident = os.path.join(OUT, name + '-identity.onnx')
        identity_model(ident, {k: (TensorProto.INT64 if v.dtype == np.int64
                                   else TensorProto.FLOAT, v.shape)
                               for k, v in files.items()})
        ort_args += [model] + args + ['--', ident] + args + ['--']
        cmd = [onyx, 'bench', model, '--json', '--seconds', '2', '--sr',
               '16000', '--shape', 'input=1,%d' % n, '--set', 'sr=16000']
        for k, shape in states.items():
            cmd += ['--shape', '%s=%s' % (k, ','.join(map(str, shape)))]
        r = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append((name, n, json.loads(r.stdout)))
    r = subprocess.run(['node', os.path.join(HERE, 'ort_time.js'), str(RUNS)]
                       + ort_args[:-1], capture_output=True, text=True,
                       check=True)
    ort = [json.loads(l) for l in r.stdout.splitlines()]
    print('%-18s %6s %12s %12s %12s %12s %8s' % (
        'model', 'chunk', 'onyx med us', 'ORT med us', 'ORT binding',
        'ORT - bind', 'ratio'))
    for i, (name, n, b) in enumerate(rows):
        o, ident = ort[2 * i], ort[2 * i + 1]
        net = o['median_us'] - ident['median_us']
        med = b.get('median_us', b.get('latency_median_us'))
        print('%-18s %6d %12.1f %12.1f %12.1f %12.1f %7.2fx' % (
            name, n, med, o['median_us'], ident['median_us'], net,
            net / med if med else float('nan')))


if __name__ == '__main__':
    main()
