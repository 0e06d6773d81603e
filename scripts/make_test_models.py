#!/usr/bin/python3
"""Writes small ONNX models that tests use to exercise paths the demo model does not.

tests/testdata/batch1_multi_output.onnx
  input  x    float32 [1,4]   (batch fixed at 1: tern runs such a model row by row)
  output y    float32 [1,4]   = x * 2
  output top  int64   [1]     = ArgMax(x, axis=1)

tests/testdata/batch1_scalar.onnx
  input  x    float32 [1,4]   (batch fixed at 1)
  output s    float32 []      = ReduceSum(x) (a scalar per run)

tests/testdata/slow_matmul.onnx
  input  x    float32 [1,1]
  output s    float32 [1]     = ReduceSum of x spread over a 1024x1024 matrix and multiplied 24 times by a
                                constant 1024x1024 matrix (ConstantOfShape: no weights in the file), a
                                run of about 50 GFLOP: a slow model in a file of a few hundred bytes

tests/testdata/pairs.onnx
  input  x    float32 [1,n]
  output y    float32 [n/2,2] = x reshaped into pairs: refuses a single value (the warm-up's zeros), takes an
                                even number of them

tests/testdata/mixed_outputs.onnx
  input  a    float64 [N,2]
  input  b    float32 [N,2]
  output a2   float64 [N,2]   = a, reshaped (an output type ort-web cannot leave on the GPU)
  output b2   float32 [N,2]   = b + b

Run with Debian's interpreter (python3-onnx): /usr/bin/python3 scripts/make_test_models.py
"""

import os

import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def checked_model(graph: onnx.GraphProto) -> onnx.ModelProto:
    """The graph as a checked model, opset 13 and IR version 8 (what every fixture here uses)."""
    model = helper.make_model(graph, producer_name="tern scripts/make_test_models.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def batch1_multi_output() -> onnx.ModelProto:
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    nodes = [
        helper.make_node("Mul", ["x", "two"], ["y"]),
        helper.make_node("ArgMax", ["x"], ["top"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "batch1_multi_output",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4]),
         helper.make_tensor_value_info("top", TensorProto.INT64, [1])],
        initializer=[two])
    return checked_model(graph)


def batch1_scalar() -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0)], "batch1_scalar",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, [])])
    return checked_model(graph)


def slow_matmul() -> onnx.ModelProto:
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1024, 1024])
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["w"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0 / 1024])),
        helper.make_node("Expand", ["x", "shape"], ["m0"]),
    ]
    for i in range(24):
        nodes.append(helper.make_node("MatMul", [f"m{i}", "w"], [f"m{i + 1}"]))
    nodes.append(helper.make_node("ReduceSum", ["m24"], ["s2"], keepdims=0))
    nodes.append(helper.make_node("Reshape", ["s2", "one"], ["s"]))
    graph = helper.make_graph(
        nodes, "slow_matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, [1])],
        initializer=[shape, helper.make_tensor("one", TensorProto.INT64, [1], [1])])
    return checked_model(graph)


def pairs() -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "pair"], ["y"])], "pairs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", 2])],
        initializer=[helper.make_tensor("pair", TensorProto.INT64, [2], [-1, 2])])
    return checked_model(graph)


def mixed_outputs() -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["a", "pair"], ["a2"]), helper.make_node("Add", ["b", "b"], ["b2"])],
        "mixed_outputs",
        [helper.make_tensor_value_info("a", TensorProto.DOUBLE, ["N", 2]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("a2", TensorProto.DOUBLE, ["N", 2]),
         helper.make_tensor_value_info("b2", TensorProto.FLOAT, ["N", 2])],
        initializer=[helper.make_tensor("pair", TensorProto.INT64, [2], [-1, 2])])
    return checked_model(graph)


if __name__ == "__main__":
    for name, make in [("batch1_multi_output", batch1_multi_output), ("batch1_scalar", batch1_scalar),
                       ("slow_matmul", slow_matmul), ("pairs", pairs), ("mixed_outputs", mixed_outputs)]:
        path = os.path.join(ROOT, "tests", "testdata", f"{name}.onnx")
        onnx.save(make(), path)
        print(f"wrote {path}")
