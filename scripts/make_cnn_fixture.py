#!/usr/bin/python3
"""Writes a ResNet-50-shaped CNN with random weights for the benchmark (not committed).

input  `input`  float32 [1,3,224,224]
output `probs`  float32 [1,1001]  (softmax)
output `class`  int64   [1]       (argmax)

Stem 7x7/2 conv + max pool, bottleneck stages of 3, 4, 6, 3 blocks (64…512 wide,
×4 expansion, projection shortcuts), global average pool, 2048→1001 dense. Batch
norm is folded away (weights are random anyway); He-scaled weights keep activations
finite. About 25.6 M parameters, ~100 MB. Deterministic (fixed seed).

  /usr/bin/python3 scripts/make_cnn_fixture.py OUT.onnx [BATCH]

BATCH: the batch dim, 1 by default; a name (e.g. N) makes it symbolic, so tern's adaptive batching can join
images into one run (scripts/gpu-check.sh does that). The weights are the same either way.
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(50)
nodes, inits = [], []
counter = [0]


def name(prefix):
    counter[0] += 1
    return f"{prefix}{counter[0]}"


def conv(x, cin, cout, k, stride=1, relu=True, gain=1.0):
    w = (rng.standard_normal((cout, cin, k, k)) * gain * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)
    b = np.zeros(cout, np.float32)
    wn, bn, out = name("w"), name("b"), name("conv")
    inits.extend([numpy_helper.from_array(w, wn), numpy_helper.from_array(b, bn)])
    nodes.append(helper.make_node("Conv", [x, wn, bn], [out], kernel_shape=[k, k], strides=[stride, stride],
                                  pads=[k // 2] * 4))
    if not relu:
        return out
    r = name("relu")
    nodes.append(helper.make_node("Relu", [out], [r]))
    return r


def bottleneck(x, cin, width, stride):
    y = conv(x, cin, width, 1)
    y = conv(y, width, width, 3, stride)
    # Small last-conv gain (as zero-init residual training starts): activations stay finite without batch norm.
    y = conv(y, width, width * 4, 1, relu=False, gain=0.2)
    shortcut = x if (stride == 1 and cin == width * 4) else conv(x, cin, width * 4, 1, stride, relu=False, gain=0.5)
    s, r = name("add"), name("relu")
    nodes.append(helper.make_node("Add", [y, shortcut], [s]))
    nodes.append(helper.make_node("Relu", [s], [r]))
    return r


def main(path, batch):
    x = conv("input", 3, 64, 7, 2)
    p = name("pool")
    nodes.append(helper.make_node("MaxPool", [x], [p], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x, cin = p, 64
    for width, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(blocks):
            x = bottleneck(x, cin, width, stride if i == 0 else 1)
            cin = width * 4
    g, f = name("gap"), name("flat")
    nodes.append(helper.make_node("GlobalAveragePool", [x], [g]))
    nodes.append(helper.make_node("Flatten", [g], [f]))
    w = (rng.standard_normal((2048, 1001)) * 0.02 * np.sqrt(1.0 / 2048)).astype(np.float32)
    inits.extend([numpy_helper.from_array(w, "fc_w"), numpy_helper.from_array(np.zeros(1001, np.float32), "fc_b")])
    nodes.append(helper.make_node("Gemm", [f, "fc_w", "fc_b"], ["logits"]))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=1))
    nodes.append(helper.make_node("ArgMax", ["probs"], ["class"], axis=1, keepdims=0))
    graph = helper.make_graph(
        nodes, "resnet50_shaped",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, 224, 224])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [batch, 1001]),
         helper.make_tensor_value_info("class", TensorProto.INT64, [batch])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="tern scripts/make_cnn_fixture.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    print(f"wrote {path} ({sum(i.dims[0] * int(np.prod(i.dims[1:])) if i.dims else 0 for i in inits) / 1e6:.1f} M parameters)")


if __name__ == "__main__":
    size = sys.argv[2] if len(sys.argv) > 2 else "1"
    main(sys.argv[1], int(size) if size.isdigit() else size)
