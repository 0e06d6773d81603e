#!/usr/bin/python3
"""Writes small ONNX models that tests use to exercise paths the demo model does not.

tests/testdata/batch1_multi_output.onnx
  input  x    float32 [1,4]   (batch fixed at 1: tern runs such a model row by row)
  output y    float32 [1,4]   = x * 2
  output top  int64   [1]     = ArgMax(x, axis=1)

tests/testdata/batch1_scalar.onnx
  input  x    float32 [1,4]   (batch fixed at 1)
  output s    float32 []      = ReduceSum(x) (a scalar per run)

Run with Debian's interpreter (python3-onnx): /usr/bin/python3 scripts/make_test_models.py
"""

import os

import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    model = helper.make_model(graph, producer_name="tern scripts/make_test_models.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def batch1_scalar() -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0)], "batch1_scalar",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, [])])
    model = helper.make_model(graph, producer_name="tern scripts/make_test_models.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    for name, make in [("batch1_multi_output", batch1_multi_output), ("batch1_scalar", batch1_scalar)]:
        path = os.path.join(ROOT, "tests", "testdata", f"{name}.onnx")
        onnx.save(make(), path)
        print(f"wrote {path}")
