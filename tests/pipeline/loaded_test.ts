import { createApp } from "../../src/server/app.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { sha256Hex } from "../../src/pipeline/spec.ts";
import { assertEquals } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";

const JSON_TYPE = "application/json; format=pandas-records";

ortTest("a model with its batch fixed at 1 runs row by row; every output reaches every record", async () => {
  const bytes = await Deno.readFile(new URL("../testdata/batch1_multi_output.onnx", import.meta.url));
  const pipelines = new PipelineManager(wasmBackend());
  await pipelines.load({
    name: "batch1",
    version: "00000000-0000-8000-8000-000000000001",
    steps: [{
      name: "doubler",
      version: "00000000-0000-8000-8000-000000000002",
      sha256: await sha256Hex(bytes),
      bytes,
    }],
  });
  try {
    const app = createApp({ pipelines, now: Date.now, maxBodyBytes: 1 << 20 });
    const res = await app.request("/pipelines/batch1", {
      method: "POST",
      headers: { "content-type": JSON_TYPE },
      body: JSON.stringify([{ x: [1, 5, 2, 0] }, { x: [[0.5, 0, 0, 3]] }, { x: [9, 8, 7, 6] }]),
    });
    assertEquals(res.status, 200);
    const records = await res.json();
    assertEquals(records.map((r: { outputs: unknown }) => r.outputs), [
      [{ Float: { data: [2, 10, 4, 0], dim: [1, 4], v: 1 } }, { Int64: { data: [1], dim: [1], v: 1 } }],
      [{ Float: { data: [1, 0, 0, 6], dim: [1, 4], v: 1 } }, { Int64: { data: [3], dim: [1], v: 1 } }],
      [{ Float: { data: [18, 16, 14, 12], dim: [1, 4], v: 1 } }, { Int64: { data: [0], dim: [1], v: 1 } }],
    ]);
    assertEquals(records[0].model_name, "doubler");
  } finally {
    await pipelines.close();
  }
});

ortTest("a batch-1 model with a scalar output gives each record its own value", async () => {
  const bytes = await Deno.readFile(new URL("../testdata/batch1_scalar.onnx", import.meta.url));
  const pipelines = new PipelineManager(wasmBackend());
  await pipelines.load({
    name: "sum",
    version: "00000000-0000-8000-8000-000000000003",
    steps: [{ name: "sum", version: "00000000-0000-8000-8000-000000000004", sha256: await sha256Hex(bytes), bytes }],
  });
  try {
    const app = createApp({ pipelines, now: Date.now, maxBodyBytes: 1 << 20 });
    const res = await app.request("/infer", {
      method: "POST",
      headers: { "content-type": JSON_TYPE },
      body: JSON.stringify([{ x: [1, 2, 3, 4] }, { x: [0.5, 0.5, 0, 0] }]),
    });
    assertEquals(res.status, 200);
    assertEquals((await res.json()).map((r: { outputs: unknown }) => r.outputs), [
      [{ Float: { data: [10], dim: [1], v: 1 } }],
      [{ Float: { data: [1], dim: [1], v: 1 } }],
    ]);
  } finally {
    await pipelines.close();
  }
});
