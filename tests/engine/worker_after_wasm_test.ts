/**
 * A native model loaded after a WASM one: onnxruntime-web's pthread glue
 * replaces `globalThis.Worker` with node's once its runtime starts, and the
 * native model's worker thread, started with that, never answered (a pipeline
 * of two models under INFERENCE_BACKEND=auto hung at load, and so would every
 * in-line update after the first WASM session).
 */
import { createPlacedNativeBackend } from "../../src/engine/off_thread.ts";
import { DEMO_MODEL_URL } from "../../src/pipeline/demo.ts";
import { assertEquals } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";

ortTest("a model's worker thread starts and answers after the WASM runtime has started", async () => {
  const bytes = await Deno.readFile(DEMO_MODEL_URL);
  const wasm = await wasmBackend().load(bytes, "demo-wasm");
  const native = await createPlacedNativeBackend({ threads: 1 }, 0); // 0 ms: every model runs in a worker thread
  const session = await native.load(bytes, "demo-native");
  try {
    assertEquals(session.offThread, true);
    const feeds = { tensor: { type: "float32" as const, data: new Float32Array(18).fill(1), dims: [1, 18] } };
    const [a, b] = [await session.run(feeds), await wasm.run(feeds)];
    assertEquals(Array.from(a.variable.data as Float32Array), Array.from(b.variable.data as Float32Array));
  } finally {
    await session.release();
    await wasm.release();
  }
});
