import { createApp } from "../../src/server/app.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { modelStep, sha256Hex, uuidFromSha256 } from "../../src/pipeline/spec.ts";
import { assertEquals } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";

/** Loads tests/testdata/{file} as the one step of pipeline `name`. */
async function loadFixture(file: string, name: string, model: string): Promise<PipelineManager> {
  const bytes = await Deno.readFile(new URL(`../testdata/${file}`, import.meta.url));
  const sha256 = await sha256Hex(bytes);
  const pipelines = new PipelineManager(wasmBackend());
  await pipelines.load({
    name,
    version: uuidFromSha256(sha256),
    steps: [modelStep({ name: model, version: uuidFromSha256(sha256), sha256, bytes })],
  });
  return pipelines;
}

/** POSTs `records` as pandas-records to `path` of an app over `pipelines`; returns status and parsed body. */
async function postRecords(pipelines: PipelineManager, path: string, records: unknown[]) {
  const app = createApp({ pipelines, now: Date.now, maxBodyBytes: 1 << 20 });
  const res = await app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records" },
    body: JSON.stringify(records),
  });
  return { status: res.status, records: await res.json() };
}

ortTest("a model with its batch fixed at 1 runs row by row; every output reaches every record", async () => {
  const pipelines = await loadFixture("batch1_multi_output.onnx", "batch1", "doubler");
  try {
    const { status, records } = await postRecords(pipelines, "/pipelines/batch1", [
      { x: [1, 5, 2, 0] },
      { x: [[0.5, 0, 0, 3]] },
      { x: [9, 8, 7, 6] },
    ]);
    assertEquals(status, 200);
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
  const pipelines = await loadFixture("batch1_scalar.onnx", "sum", "sum");
  try {
    const { status, records } = await postRecords(pipelines, "/infer", [{ x: [1, 2, 3, 4] }, { x: [0.5, 0.5, 0, 0] }]);
    assertEquals(status, 200);
    assertEquals(records.map((r: { outputs: unknown }) => r.outputs), [
      [{ Float: { data: [10], dim: [1], v: 1 } }],
      [{ Float: { data: [1], dim: [1], v: 1 } }],
    ]);
  } finally {
    await pipelines.close();
  }
});
