"""seeds.py - the fuzzers' seed corpus (make fuzz-seeds): OUT/load and
OUT/run get every zoo, trained and conformance model; OUT/tensor gets the
conformance .pb tensors and .npy files of every dtype the reader takes (a
first byte 0x01 selects .pb, 0x00 .npy; see fuzz_tensor.c).

The harnesses bind no input values, so a conformance model as it is leaves
the ops that need a value at prepare (Reshape's shape, Slice's starts...)
unexplored. Each conformance model therefore also comes with its test
inputs made initializers: all of them for OUT/load (resolve folds the whole
graph, running every kernel), the integer ones for OUT/run.

usage: seeds.py OUT [TESTDATA]"""
import glob
import hashlib
import io
import os
import sys

import numpy as np
import onnx

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def put(folder, data):
    """Writes data under its hash: reruns add nothing twice."""
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def npy_bytes(a, version=None):
    b = io.BytesIO()
    if version is None:
        np.save(b, a)
    else:
        np.lib.format.write_array(b, a, version=version)
    return b.getvalue()


def inlined(model_path, only_ints):
    """The model with its test_data_set_0 inputs as initializers (all, or
    only the integer ones), or None when nothing changes."""
    pbs = sorted(glob.glob(os.path.join(os.path.dirname(model_path),
                                        "test_data_set_0", "input_*.pb")),
                 key=lambda p: int(p.rsplit("_", 1)[1][:-3]))
    m = onnx.load(model_path)
    inits = {i.name for i in m.graph.initializer}
    inputs = [i for i in m.graph.input if i.name not in inits]
    if not pbs or len(pbs) != len(inputs):
        return None
    keep, changed = [], False
    for vi, pb in zip(inputs, pbs):
        t = onnx.TensorProto()
        t.ParseFromString(read(pb))
        is_int = t.data_type in (onnx.TensorProto.INT64, onnx.TensorProto.INT32)
        if len(t.SerializeToString()) > 65536 or (only_ints and not is_int):
            keep.append(vi)
            continue
        t.name = vi.name
        m.graph.initializer.append(t)
        changed = True
    if not changed:
        return None
    del m.graph.input[:]
    m.graph.input.extend(keep)
    return m.SerializeToString()


def main():
    out = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/libonnx-testdata/data"
    models = sorted(glob.glob(os.path.join(ROOT, "models/zoo/*/model.onnx")))
    models += sorted(glob.glob(os.path.join(ROOT, "models/trained/*.onnx")))
    tests = [l.strip() for l in open(os.path.join(ROOT, "tests/conformance/core_tests.txt"))
             if l.strip()]
    pbs = []
    for t in tests:
        models.append(os.path.join(data, t, "model.onnx"))
        pbs += sorted(glob.glob(os.path.join(data, t, "test_data_set_*/*.pb")))
    n_models = 0
    for m in models:
        if os.path.isfile(m):
            put(os.path.join(out, "load"), read(m))
            put(os.path.join(out, "run"), read(m))
            n_models += 1
    for t in tests:
        path = os.path.join(data, t, "model.onnx")
        if not os.path.isfile(path):
            continue
        for harness, only_ints in (("load", False), ("run", True)):
            b = inlined(path, only_ints)
            if b:
                put(os.path.join(out, harness), b)
    tensor = os.path.join(out, "tensor")
    for p in pbs:
        put(tensor, b"\x01" + read(p))
    npys = sorted(glob.glob(os.path.join(ROOT, "models/zoo/*/*.npy")))
    npys += sorted(glob.glob(os.path.join(ROOT, "models/trained/*.npy")))
    for p in npys:
        if os.path.getsize(p) <= 1 << 20:
            put(tensor, b"\x00" + read(p))
    rng = np.random.default_rng(0)
    arrays = [
        np.float32(1.5),
        np.zeros((0,), np.float32),
        np.zeros((2, 0, 3), np.int64),
        rng.standard_normal((3, 4)).astype(np.float32),
        rng.standard_normal((2, 3, 4)).astype(np.float64),
        np.arange(12, dtype=np.int64).reshape(3, 4),
        np.arange(6, dtype=np.int32),
        np.array([True, False, True]),
        np.ones((1, 1, 1, 1, 1, 1, 1, 1), np.float32),
        np.asfortranarray(rng.standard_normal((3, 2)).astype(np.float32)),
        np.zeros((2, 2), np.float16),
    ]
    for a in arrays:
        put(tensor, b"\x00" + npy_bytes(a))
    for v in [(2, 0), (3, 0)]:
        put(tensor, b"\x00" + npy_bytes(arrays[3], v))
    n_tensor = len(os.listdir(tensor))
    n_load = len(os.listdir(os.path.join(out, "load")))
    n_run = len(os.listdir(os.path.join(out, "run")))
    print(f"seeds: {n_models} models; corpus: {n_load} load, {n_run} run, "
          f"{n_tensor} tensor inputs in {out}")


if __name__ == "__main__":
    main()
