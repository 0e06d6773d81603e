import { DEMO_MODEL_URL } from "../../src/pipeline/demo.ts";
import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";
import { loadReference, maxRelativeError } from "../support/reference.ts";

const ref = loadReference();

ortTest("WASM backend: the demo model reports its inputs and outputs and matches scikit-learn", async () => {
  const session = await wasmBackend().load(await Deno.readFile(DEMO_MODEL_URL), "demo");
  try {
    assertEquals(session.inputs, [{ name: "tensor", type: "float32", shape: ["N", 18] }]);
    assertEquals(session.outputs, [{ name: "variable", type: "float32", shape: ["N", 1] }]);
    const out = await session.run({
      tensor: { type: "float32", data: new Float32Array(ref.inputs.flat()), dims: [1000, 18] },
    });
    assertEquals(out.variable.dims, [1000, 1]);
    const worst = maxRelativeError(out.variable.data as Float32Array, ref.predictions);
    assert(worst <= 1e-4, `max relative error ${worst}`);
  } finally {
    await session.release();
  }
});

ortTest("WASM backend: overlapping run() calls on one session all succeed with their own results", async () => {
  // ort-web's WASM instance dies when runs overlap; the backend must serialise them.
  const session = await wasmBackend().load(await Deno.readFile(DEMO_MODEL_URL), "demo");
  try {
    const results = await Promise.all(
      ref.inputs.slice(0, 64).map((row) =>
        session.run({ tensor: { type: "float32", data: new Float32Array(row), dims: [1, 18] } })
      ),
    );
    const predictions = results.map((r) => (r.variable.data as Float32Array)[0]);
    assert(maxRelativeError(predictions, ref.predictions.slice(0, 64)) <= 1e-4);
  } finally {
    await session.release();
  }
});

ortTest("WASM backend: a model the runtime cannot read fails with the model's name", async () => {
  await assertRejects(
    () => wasmBackend().load(new TextEncoder().encode("not an onnx model"), "broken-model"),
    /model broken-model: onnxruntime-web could not load it/,
  );
});

ortTest("WASM backend: an input the graph refuses is a BadInput, and the session keeps working", async () => {
  const session = await wasmBackend().load(await Deno.readFile(DEMO_MODEL_URL), "demo");
  try {
    await assertRejects(
      () => session.run({ tensor: { type: "float32", data: new Float32Array(17), dims: [1, 17] } }),
      /the model rejected the input/,
    );
    const ok = await session.run({
      tensor: { type: "float32", data: new Float32Array(ref.inputs[0]), dims: [1, 18] },
    });
    assert(maxRelativeError(ok.variable.data as Float32Array, ref.predictions.slice(0, 1)) <= 1e-4);
  } finally {
    await session.release();
  }
});
