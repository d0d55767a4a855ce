#!/usr/bin/python3
"""Writes malformed ONNX files into OUTDIR for tests/malformed/check.sh.

Files named must_fail_*.onnx must be refused (exit status 1); fuzz_*.onnx
(truncations and byte flips of valid models) may load or not, but must never
crash or trip a sanitizer; valid_*.onnx must load and run. OUTDIR/expect.txt
lists, for some must_fail files, a phrase the error message must contain
(the resource limits name the onyx_limits field to raise).

usage: /usr/bin/python3 tests/malformed/gen.py OUTDIR
"""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def ld(field, payload):
    return key(field, 2) + varint(len(payload)) + payload


def model_bytes(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    return m.SerializeToString()


def vi(name, shape, dt=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dt, shape)


def base_conv():
    w = numpy_helper.from_array(np.random.RandomState(0).randn(4, 1, 3).astype(np.float32), "w")
    b = numpy_helper.from_array(np.zeros(4, np.float32), "b")
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1]),
             helper.make_node("Relu", ["y"], ["z"]),
             helper.make_node("Reshape", ["z", "s"], ["o"])]
    s = numpy_helper.from_array(np.array([1, -1], np.int64), "s")
    return model_bytes(nodes, [vi("x", [1, 1, 16])], [vi("o", [1, 64])], [w, b, s])


def raw_tensor(name, dt, dims):
    """A TensorProto that declares dims but carries no data (make_tensor
    refuses to build one)."""
    t = TensorProto()
    t.name = name
    t.data_type = dt
    t.dims.extend(dims)
    return t


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    files = {}
    good = base_conv()
    opset = ld(8, key(2, 0) + varint(13))

    # structural errors the loader or resolver must refuse
    files["must_fail_empty"] = b""
    files["must_fail_garbage"] = b"\xff" * 64
    files["must_fail_text"] = b"this is not an onnx model\n"
    files["must_fail_no_graph"] = key(1, 0) + varint(7) + opset
    # wrong wire types: graph as a varint, a node's op_type as fixed32
    files["must_fail_graph_varint"] = key(7, 0) + varint(5) + opset
    files["must_fail_optype_fixed32"] = opset + ld(7, ld(1, key(4, 5) + b"abcd"))
    # a length that runs past the end of the file
    files["must_fail_len_overrun"] = opset + key(7, 2) + varint(1 << 40) + b"\x00" * 8
    # a varint longer than 10 bytes
    files["must_fail_long_varint"] = key(1, 0) + b"\xff" * 12 + opset
    # group wire types (3, 4) are not valid
    files["must_fail_group_wire"] = opset + key(7, 3) + key(7, 4)
    # field number 0
    files["must_fail_field_zero"] = b"\x02\x00" + opset
    # huge declared sizes: a tensor of 2^40 elements with no data
    t = raw_tensor("w", TensorProto.FLOAT, [1 << 20, 1 << 20])
    files["must_fail_huge_tensor"] = model_bytes(
        [helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", [1])], [vi("y", None)], [t])
    expect = {"must_fail_huge_tensor": "onyx_limits.max_tensor_bytes",
              "must_fail_huge_input": "onyx_limits.max_tensor_bytes",
              "must_fail_huge_constantofshape": "onyx_limits.max_tensor_bytes"}
    # a million nodes (the same Relu, never looked at past the limit)
    node = ld(1, ld(1, b"x") + ld(2, b"y") + ld(4, b"Relu"))
    files["must_fail_million_nodes"] = opset + ld(7, node * 1000000)
    expect["must_fail_million_nodes"] = "onyx_limits.max_nodes"
    # a million initializers
    init = ld(5, key(1, 0) + varint(1) + key(2, 0) + varint(1) + ld(8, b"w") + ld(9, bytes(4)))
    files["must_fail_million_initializers"] = opset + ld(7, init * 1000000)
    expect["must_fail_million_initializers"] = "onyx_limits.max_nodes"
    # a chain of 10 000 Relus (and one of 2 000, which loads and runs)
    def chain(n):
        nodes = [helper.make_node("Relu", ["x" if i == 0 else "t%d" % i],
                                  ["t%d" % (i + 1) if i < n - 1 else "y"]) for i in range(n)]
        return model_bytes(nodes, [vi("x", [1, 1, 16])], [vi("y", [1, 1, 16])])
    files["must_fail_deep_chain"] = chain(10000)
    expect["must_fail_deep_chain"] = "onyx_limits.max_depth"
    files["valid_chain_2000"] = chain(2000)
    # an attribute of 2^21 floats, and one of 2^21 ints
    files["must_fail_huge_attr_floats"] = model_bytes(
        [helper.make_node("Constant", [], ["y"], value_floats=np.zeros(1 << 21, np.float32))],
        [], [vi("y", None)])
    expect["must_fail_huge_attr_floats"] = "onyx_limits.max_attr_elems"
    files["must_fail_huge_attr_ints"] = model_bytes(
        [helper.make_node("Constant", [], ["y"], value_ints=np.zeros(1 << 21, np.int64))],
        [], [vi("y", None)])
    expect["must_fail_huge_attr_ints"] = "onyx_limits.max_attr_elems"
    # shapes whose element count overflows int64
    t = raw_tensor("w", TensorProto.FLOAT, [1 << 62, 8])
    files["must_fail_overflow_shape"] = model_bytes(
        [helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", [1])], [vi("y", None)], [t])
    # an input declaring a 2^40-element shape
    files["must_fail_huge_input"] = model_bytes(
        [helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1 << 20, 1 << 20])], [vi("y", None)])
    # raw_data shorter than its shape
    t = raw_tensor("w", TensorProto.FLOAT, [4])
    t.raw_data = np.zeros(3, np.float32).tobytes()
    files["must_fail_short_raw"] = model_bytes(
        [helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", [4])], [vi("y", None)], [t])
    # a ConstantOfShape asked for 2^50 elements
    s = numpy_helper.from_array(np.array([1 << 25, 1 << 25], np.int64), "s")
    files["must_fail_huge_constantofshape"] = model_bytes(
        [helper.make_node("ConstantOfShape", ["s"], ["y"])], [], [vi("y", None)], [s])
    # a cycle
    files["must_fail_cycle"] = model_bytes(
        [helper.make_node("Add", ["x", "b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])],
        [vi("x", [2])], [vi("b", [2])])
    # a self loop
    files["must_fail_self_loop"] = model_bytes(
        [helper.make_node("Add", ["x", "a"], ["a"])], [vi("x", [2])], [vi("a", [2])])
    # a dangling input name
    files["must_fail_dangling"] = model_bytes(
        [helper.make_node("Add", ["x", "nowhere"], ["y"])], [vi("x", [2])], [vi("y", [2])])
    # an output nobody produces
    files["must_fail_missing_output"] = model_bytes(
        [helper.make_node("Relu", ["x"], ["y"])], [vi("x", [2])], [vi("z", [2])])
    # an op outside the core set
    files["must_fail_unknown_op"] = model_bytes(
        [helper.make_node("NonMaxSuppression", ["x"], ["y"])], [vi("x", [2])], [vi("y", [2])])
    # an op from another domain
    files["must_fail_domain"] = model_bytes(
        [helper.make_node("Relu", ["x"], ["y"], domain="com.example")], [vi("x", [2])], [vi("y", [2])])
    # an output defined twice
    files["must_fail_double_def"] = model_bytes(
        [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Neg", ["x"], ["y"])],
        [vi("x", [2])], [vi("y", [2])])
    # shapes that do not match
    files["must_fail_bad_matmul"] = model_bytes(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], [vi("x", [2, 3])], [vi("y", None)],
        [numpy_helper.from_array(np.zeros((4, 5), np.float32), "w")])
    # a rank above what onyx holds
    files["must_fail_rank"] = model_bytes(
        [helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1] * 12)], [vi("y", None)])
    # an unsupported opset
    files["must_fail_opset"] = model_bytes(
        [helper.make_node("Relu", ["x"], ["y"])], [vi("x", [2])], [vi("y", [2])], opset=99)
    # external data
    t = raw_tensor("w", TensorProto.FLOAT, [2])
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", "/etc/passwd"
    files["must_fail_external"] = model_bytes(
        [helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", [2])], [vi("y", [2])], [t])
    # a string tensor
    t = helper.make_tensor("w", TensorProto.STRING, [1], [b"hi"])
    files["must_fail_string"] = model_bytes(
        [helper.make_node("Identity", ["w"], ["y"])], [], [vi("y", None)], [t])
    # a Reshape to an impossible shape
    s = numpy_helper.from_array(np.array([3, -1], np.int64), "s")
    files["must_fail_bad_reshape"] = model_bytes(
        [helper.make_node("Reshape", ["x", "s"], ["y"])], [vi("x", [1, 16])], [vi("y", None)], [s])

    # an attribute of the wrong type (axis as a string)
    files["must_fail_attr_type"] = model_bytes(
        [helper.make_node("Softmax", ["x"], ["y"], axis="one")], [vi("x", [2, 3])], [vi("y", None)])

    # Loop and Scan bodies that do not fit their node, and a Loop whose
    # unrolling would pass onyx_limits.max_nodes
    def loop_body(n_in, n_out):
        ins = [vi("i", [], TensorProto.INT64), vi("c_in", [], TensorProto.BOOL), vi("y_in", [2])]
        outs = [vi("c_out", [], TensorProto.BOOL), vi("y_out", [2])]
        return helper.make_graph([helper.make_node("Add", ["y_in", "one"], ["y_out"]),
                                  helper.make_node("Identity", ["c_in"], ["c_out"])], "b",
                                 ins[:n_in], outs[:n_out])
    one = numpy_helper.from_array(np.ones(2, np.float32), "one")
    trip = numpy_helper.from_array(np.array(10**12, np.int64), "M")
    for name, body in (("must_fail_loop_body_inputs", loop_body(2, 2)),
                       ("must_fail_loop_body_outputs", loop_body(3, 1)),
                       ("must_fail_loop_trip_count", loop_body(3, 2))):
        files[name] = model_bytes([helper.make_node("Loop", ["M", "", "x"], ["y"], body=body)],
                                  [vi("x", [2])], [vi("y", [2])], [trip, one])
    expect["must_fail_loop_body_inputs"] = "the body has 2 inputs"
    expect["must_fail_loop_body_outputs"] = "the body has 1 outputs"
    expect["must_fail_loop_trip_count"] = "onyx_limits.max_nodes"
    scan_body = helper.make_graph([helper.make_node("Add", ["s_in", "xi"], ["s_out"])], "b",
                                  [vi("s_in", [2]), vi("xi", [2])], [vi("s_out", [2])])
    files["must_fail_scan_attrs"] = model_bytes(
        [helper.make_node("Scan", ["s0", "x"], ["s"], body=scan_body, num_scan_inputs=1,
                          scan_input_axes=[0, 1])],
        [vi("s0", [2]), vi("x", [3, 2])], [vi("s", [2])])
    expect["must_fail_scan_attrs"] = "scan_input_axes must be a list of 1 ints"

    # fuzz: truncations and byte flips of a valid model
    rng = random.Random(1234)
    for i in range(60):
        n = rng.randrange(1, len(good))
        files["fuzz_trunc_%02d" % i] = good[:n]
    for i in range(200):
        b = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        files["fuzz_flip_%03d" % i] = bytes(b)
    files["valid_conv"] = good

    for name, data in files.items():
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "expect.txt"), "w") as f:
        for name, phrase in sorted(expect.items()):
            f.write("%s %s\n" % (name, phrase))
    print("%d files written to %s" % (len(files), out))


if __name__ == "__main__":
    main()
