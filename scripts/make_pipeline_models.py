#!/usr/bin/python3
"""Writes the small ONNX models the multi-step, validation, shadow and A/B pipeline tests publish and serve
(tests/testdata/pipeline/). Each computes something a test can compute on its own (numpy-free arithmetic, or
onnxruntime run directly), and works on the demo model's 18 house features.

scaler.onnx          input  metric     float32 [N,18]
                     output converted  float32 [N,18] = metric * SCALE (powers of two: exact in float32, so the
                                                        forest after it sees exactly the rows the reference has)
scaler_named.onnx    the same with output `tensor`: feeds the demo forest by name, no mapping needed
to_double.onnx       input  metric float32 [N,18], output converted float64 [N,18] = Cast(metric * SCALE): a
                     dtype the forest does not take
linear.onnx          input  tensor     float32 [N,18]
                     output variable   float32 [N,1]  = tensor @ LINEAR_W + LINEAR_B (a price, in dollars)
linear_b.onnx        the same with LINEAR_B_W, LINEAR_B_B (a challenger to shadow the champion)
failing.onnx         input  tensor float32 [N,18], output variable float32 [N,1]: gathers from a 2-entry table at
                     the row's first feature (bedrooms): refuses any row with bedrooms >= 2 at run time (zeros,
                     the warm-up, pass)
offset_<k>.onnx      input  tensor float32 [N,18], output variable float32 [N,1] = tensor[:,0:1] + k, k = 1..6:
                     distinct versions of one model for the in-line update tests
unloadable.onnx      a well-formed model file (tern publish takes it) whose one node is an operator no runtime has:
                     a published version that fails to load on the edge

Run with Debian's interpreter (python3-onnx): /usr/bin/python3 scripts/make_pipeline_models.py
"""

import os

import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "testdata", "pipeline")

SCALE = [1, 1, 4, 16, 1, 1, 1, 1, 1, 4, 4, 1, 1, 4, 16, 1, 1, 1]
LINEAR_W = [5000, 8000, 150, 0.5, 3000, 200000, 20000, 10000, 30000, 20, 10, 0, 0, 50, 0.125, -500, 10000, -200]
LINEAR_B = -150000.0
LINEAR_B_W = [w * 1.25 for w in LINEAR_W]
LINEAR_B_B = -100000.0
FEATURES = 18


def checked_model(graph: onnx.GraphProto) -> onnx.ModelProto:
    """The graph as a checked model, opset 13 and IR version 8 (as scripts/make_test_models.py)."""
    model = helper.make_model(graph, producer_name="tern scripts/make_pipeline_models.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def rows(name: str, elem=TensorProto.FLOAT, width=FEATURES) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, ["N", width])


def scaler(output: str, cast_double: bool = False) -> onnx.ModelProto:
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [FEATURES], [float(s) for s in SCALE])
    nodes = [helper.make_node("Mul", ["metric", "scale"], ["scaled" if cast_double else output])]
    if cast_double:
        nodes.append(helper.make_node("Cast", ["scaled"], [output], to=TensorProto.DOUBLE))
    graph = helper.make_graph(nodes, "scaler", [rows("metric")],
                              [rows(output, TensorProto.DOUBLE if cast_double else TensorProto.FLOAT)],
                              initializer=[scale])
    return checked_model(graph)


def linear(w: list, b: float) -> onnx.ModelProto:
    weights = helper.make_tensor("w", TensorProto.FLOAT, [FEATURES, 1], [float(x) for x in w])
    bias = helper.make_tensor("b", TensorProto.FLOAT, [1], [b])
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["tensor", "w"], ["wx"]), helper.make_node("Add", ["wx", "b"], ["variable"])],
        "linear", [rows("tensor")], [rows("variable", width=1)], initializer=[weights, bias])
    return checked_model(graph)


def failing() -> onnx.ModelProto:
    table = helper.make_tensor("table", TensorProto.FLOAT, [2], [1.0, 2.0])
    starts = helper.make_tensor("starts", TensorProto.INT64, [1], [0])
    ends = helper.make_tensor("ends", TensorProto.INT64, [1], [1])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    nodes = [
        helper.make_node("Slice", ["tensor", "starts", "ends", "axes"], ["first"]),
        helper.make_node("Cast", ["first"], ["index"], to=TensorProto.INT64),
        helper.make_node("Gather", ["table", "index"], ["variable"], axis=0),
    ]
    graph = helper.make_graph(nodes, "failing", [rows("tensor")], [rows("variable", width=1)],
                              initializer=[table, starts, ends, axes])
    return checked_model(graph)


def offset(k: int) -> onnx.ModelProto:
    starts = helper.make_tensor("starts", TensorProto.INT64, [1], [0])
    ends = helper.make_tensor("ends", TensorProto.INT64, [1], [1])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    plus = helper.make_tensor("k", TensorProto.FLOAT, [1], [float(k)])
    nodes = [
        helper.make_node("Slice", ["tensor", "starts", "ends", "axes"], ["first"]),
        helper.make_node("Add", ["first", "k"], ["variable"]),
    ]
    graph = helper.make_graph(nodes, f"offset_{k}", [rows("tensor")], [rows("variable", width=1)],
                              initializer=[starts, ends, axes, plus])
    return checked_model(graph)


def unloadable() -> onnx.ModelProto:
    node = helper.make_node("NoSuchOperator", ["tensor"], ["variable"], domain="tern.test")
    graph = helper.make_graph([node], "unloadable", [rows("tensor")], [rows("variable", width=1)])
    model = helper.make_model(graph, producer_name="tern scripts/make_pipeline_models.py",
                              opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("tern.test", 1)])
    model.ir_version = 8
    return model  # not checked: the checker would refuse the unknown operator, as the runtimes do


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    models = [("scaler", scaler("converted")), ("scaler_named", scaler("tensor")),
              ("to_double", scaler("converted", cast_double=True)), ("linear", linear(LINEAR_W, LINEAR_B)),
              ("linear_b", linear(LINEAR_B_W, LINEAR_B_B)), ("failing", failing())]
    models += [(f"offset_{k}", offset(k)) for k in range(1, 7)] + [("unloadable", unloadable())]
    for name, model in models:
        path = os.path.join(OUT, f"{name}.onnx")
        onnx.save(model, path)
        print(f"wrote {path}")
