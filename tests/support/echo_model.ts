/**
 * @module
 * An ONNX model that echoes one input of every element type tern serves
 * (`in_<dtype>` → `out_<dtype>`, shape [N,2], Identity), written by Debian's
 * python3-onnx at test time: what V2 tests use to send and read every V2 datatype.
 */
import type { DType } from "../../src/engine/tensor.ts";
import { sha256Hex, uuidFromSha256 } from "../../src/pipeline/spec.ts";
import type { PipelineDefinition } from "../../src/pipeline/spec.ts";
import { requireSystemPackage } from "./system_packages.ts";

/** Every dtype the echo model takes, in its input order. */
export const ECHO_DTYPES: readonly DType[] = [
  "bool",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "int8",
  "int16",
  "int32",
  "int64",
  "float16",
  "float32",
  "float64",
  "string",
];

const SCRIPT = `
import sys, onnx
from onnx import TensorProto as T, helper
types = {"bool": T.BOOL, "uint8": T.UINT8, "uint16": T.UINT16, "uint32": T.UINT32, "uint64": T.UINT64,
         "int8": T.INT8, "int16": T.INT16, "int32": T.INT32, "int64": T.INT64, "float16": T.FLOAT16,
         "float32": T.FLOAT, "float64": T.DOUBLE, "string": T.STRING}
inputs = [helper.make_tensor_value_info("in_" + t, p, ["N", 2]) for t, p in types.items()]
outputs = [helper.make_tensor_value_info("out_" + t, p, ["N", 2]) for t, p in types.items()]
nodes = [helper.make_node("Identity", ["in_" + t], ["out_" + t]) for t in types]
model = helper.make_model(helper.make_graph(nodes, "echo", inputs, outputs), opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
sys.stdout.buffer.write(model.SerializeToString())
`;

/** A one-step pipeline `echo` serving the echo model. */
export async function echoPipeline(): Promise<PipelineDefinition> {
  await requireSystemPackage("python3-onnx");
  const out = await new Deno.Command("/usr/bin/python3", { args: ["-c", SCRIPT], stdout: "piped" }).output();
  if (!out.success) throw new Error("writing the echo model failed");
  const bytes = out.stdout;
  const sha256 = await sha256Hex(bytes);
  const model = { name: "echo", version: uuidFromSha256(sha256), sha256, bytes };
  return { name: "echo", version: uuidFromSha256(sha256), steps: [{ variants: [{ model, weight: 1 }] }] };
}
