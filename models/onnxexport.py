"""Shared by zoo.py and the train_*.py scripts: export a PyTorch module to ONNX
the way onyx wants it, count its parameters and multiply-accumulates, and
write the model, its reference inputs/outputs (.npy) and meta.json.

Conventions (see models/README.md):
  - opset 14; symbolic dims come from `dynamic_axes` (the time axis is "T");
  - a recurrent state is a pair: graph input `h` and graph output `h_out` of
    the same shape (and `c`/`c_out` for an LSTM's cell state);
  - audio models carry the metadata_props key "sample_rate".
"""
import json
import os
import re
import warnings

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn

OPSET = 14


# --------------------------------------------------------------- counting

def param_count(model):
    return int(sum(p.numel() for p in model.parameters()))


def _rnn_macs(m, inp):
    """Gates * H * (I + H) per step, layer and direction."""
    x = inp[0]
    if m.batch_first:
        n, t = x.shape[0], x.shape[1]
    else:
        t, n = x.shape[0], x.shape[1]
    gates = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}[m.mode]
    dirs = 2 if m.bidirectional else 1
    total = 0
    for layer in range(m.num_layers):
        i = m.input_size if layer == 0 else m.hidden_size * dirs
        total += gates * m.hidden_size * (i + m.hidden_size) * dirs
    return total * t * n


def mac_count(model, args):
    """Multiply-accumulates of one forward pass on `args`: Linear, Conv1d,
    ConvTranspose1d, RNN/GRU/LSTM and multi-head attention (projections, QK^T and AV), plus
    whatever the model declares in `extra_macs(args)` (a MatMul written by
    hand, say). Elementwise ops are not counted."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Linear):
            total[0] += inp[0].numel() // m.in_features * m.in_features * m.out_features
        elif isinstance(m, nn.Conv1d):
            n, _, lout = out.shape
            k = m.kernel_size[0]
            total[0] += n * m.out_channels * lout * (m.in_channels // m.groups) * k
        elif isinstance(m, nn.ConvTranspose1d):
            n, _, lin = inp[0].shape
            k = m.kernel_size[0]
            total[0] += n * m.in_channels * lin * (m.out_channels // m.groups) * k
        elif isinstance(m, nn.RNNBase):
            total[0] += _rnn_macs(m, inp)
        elif isinstance(m, nn.MultiheadAttention):
            q = inp[0]
            n, l = (q.shape[0], q.shape[1]) if m.batch_first else (q.shape[1], q.shape[0])
            e = m.embed_dim
            # in_proj 3 L E E (self-attention), QK^T and AV L L E each,
            # out_proj L E E (its weight is used directly, its hook never runs)
            total[0] += n * (4 * l * e * e + 2 * l * l * e)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Linear, nn.Conv1d, nn.ConvTranspose1d, nn.RNNBase,
                                      nn.MultiheadAttention))]
    try:
        # grad enabled: keeps TransformerEncoderLayer off its fused fast path,
        # which would skip the submodules' hooks
        with torch.enable_grad():
            model(*args)
    finally:
        for h in handles:
            h.remove()
    if hasattr(model, "extra_macs"):
        total[0] += int(model.extra_macs(args))
    return int(total[0])


# --------------------------------------------------------------- export

def export(model, inputs, outputs, path, dynamic=None, sample_rate=None, doc=None):
    """Export `model` (eval mode) called with the arrays of the dict `inputs`
    (name -> float32 ndarray, in call order); `outputs` names the results in
    order; `dynamic` maps a tensor name to {axis: "symbol"}. Returns PyTorch's
    outputs as a dict name -> ndarray."""
    model.eval()
    args = tuple(torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))
                 for v in inputs.values())
    with torch.no_grad():
        want = model(*args)
    if not isinstance(want, (tuple, list)):
        want = (want,)
    if len(want) != len(outputs):
        raise ValueError("%s: model returns %d outputs, %d names given"
                         % (path, len(want), len(outputs)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, path, input_names=list(inputs),
                          output_names=list(outputs), dynamic_axes=dynamic or {},
                          opset_version=OPSET, do_constant_folding=True)
    m = onnx.load(path)
    # PyTorch names dims it could not infer (after a Reshape, or a Concat
    # along time as in tcn's h_out) with made-up symbols, which would hide a
    # state pair's equal shapes: every dim not declared dynamic is set to
    # PyTorch's size.
    sizes = dict(zip(outputs, (w.shape for w in want)))
    for out in m.graph.output:
        declared = (dynamic or {}).get(out.name, {})
        for axis, d in enumerate(out.type.tensor_type.shape.dim):
            if axis not in declared and d.dim_param:
                d.Clear()
                d.dim_value = int(sizes[out.name][axis])
    if sample_rate:
        p = m.metadata_props.add()
        p.key, p.value = "sample_rate", str(int(sample_rate))
    if doc:
        m.doc_string = doc
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return {n: w.detach().numpy().astype(np.float32) for n, w in zip(outputs, want)}


def io_spec(path):
    """The graph's inputs and outputs as [{"name", "dtype", "shape"}], with a
    symbolic dim as its name (a string)."""
    m = onnx.load(path, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}

    def spec(v):
        dims = [d.dim_param if d.dim_param else int(d.dim_value)
                for d in v.type.tensor_type.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type).name \
            if hasattr(onnx.helper, "tensor_dtype_to_np_dtype") \
            else onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[v.type.tensor_type.elem_type].name
        return {"name": v.name, "dtype": dtype, "shape": dims}

    return ([spec(v) for v in m.graph.input if v.name not in inits],
            [spec(v) for v in m.graph.output], m.opset_import[0].version)


def state_pairs(inputs, outputs):
    """Every input X with an output X_out: the state the caller feeds back."""
    outs = {o["name"] for o in outputs}
    return [{"input": i["name"], "output": i["name"] + "_out", "shape": i["shape"]}
            for i in inputs if i["name"] + "_out" in outs]


def save_arrays(folder, prefix, arrays):
    """Writes each array as folder/<prefix><name>.npy; returns name -> file."""
    files = {}
    for name, a in arrays.items():
        f = "%s%s.npy" % (prefix, name)
        np.save(os.path.join(folder, f), np.ascontiguousarray(a, dtype=np.float32))
        files[name] = f
    return files


def write_meta(path, **fields):
    text = json.dumps(fields, indent=1)
    # a list of numbers or short strings (a shape, say) on one line
    text = re.sub(r"\[\s*([^\[\]{}]*?)\s*\]",
                  lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)
    with open(path, "w") as f:
        f.write(text + "\n")


def write_pb(folder, names, arrays, prefix):
    """The arrays as serialized TensorProtos <prefix>_<i>.pb, as in ONNX's
    backend test folders."""
    os.makedirs(folder, exist_ok=True)
    for i, n in enumerate(names):
        t = onnx.numpy_helper.from_array(np.ascontiguousarray(arrays[n], dtype=np.float32), n)
        with open(os.path.join(folder, "%s_%d.pb" % (prefix, i)), "wb") as f:
            f.write(t.SerializeToString())


def package(name, model, inputs, outputs, folder, stem=None, dynamic=None, sample_rate=None,
            time_axes=None, block_length="T", stream=None, **extra_meta):
    """Exports `model` and writes everything a check needs, returns the meta.

    stem None (the zoo): folder/model.onnx, folder/input_<x>.npy,
      folder/output_<y>.npy, folder/test_data_set_0/ and folder/meta.json.
    stem "overdrive" (a committed trained model): folder/overdrive.onnx,
      folder/overdrive.input_<x>.npy, ... and folder/overdrive.meta.json.

    time_axes (name -> axis) marks a model with a symbolic time length T; its
    reference length is the first input's length along that axis, and
    `stream` ({"blocks", "steps"}) asks the streaming check to cut it.
    """
    os.makedirs(folder, exist_ok=True)
    pre = stem + "." if stem else ""
    onnx_file = stem + ".onnx" if stem else "model.onnx"
    path = os.path.join(folder, onnx_file)
    doc = " ".join((model.__doc__ or model.__class__.__name__).split())
    want = export(model, inputs, outputs, path, dynamic=dynamic, sample_rate=sample_rate, doc=doc)
    args = tuple(torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for v in inputs.values())
    macs = mac_count(model, args)
    ins, outs, opset = io_spec(path)
    meta = {"name": name, "file": onnx_file, "opset": opset, "description": doc,
            "inputs": ins, "outputs": outs, "state": state_pairs(ins, outs)}
    if time_axes:
        first = ins[0]["name"]
        ref_len = int(inputs[first].shape[time_axes[first]])
        meta["block_length"] = block_length
        meta["time_axes"] = time_axes
        meta["reference_length"] = ref_len
        meta["macs_per_step"] = macs // ref_len
    else:
        meta["block_length"] = int(inputs[ins[0]["name"]].shape[-1])
    if sample_rate:
        meta["sample_rate"] = int(sample_rate)
    meta["params"] = param_count(model)
    meta["macs"] = macs
    meta.update(extra_meta)
    meta["reference"] = {"inputs": save_arrays(folder, pre + "input_", inputs),
                         "outputs": save_arrays(folder, pre + "output_", want)}
    if stream:
        meta["stream"] = stream
    if not stem:
        write_pb(os.path.join(folder, "test_data_set_0"), [i["name"] for i in ins], inputs, "input")
        write_pb(os.path.join(folder, "test_data_set_0"), outputs, want, "output")
    write_meta(os.path.join(folder, pre + "meta.json"), **meta)
    return meta
