/**
 * BATCHING=auto (the default): models served on a GPU runtime are batched, those on CPU runtimes are not; /models
 * says which. WebGPU runs here on the software adapter (WEBGPU_ALLOW_SOFTWARE), which stands in for a GPU.
 */
import { probeWebGpu } from "../../src/engine/webgpu.ts";
import { assertEquals } from "../support/assert.ts";
import { publishModel } from "../support/publish.ts";
import { startRegistry } from "../support/registry.ts";
import { startTern } from "../support/tern_process.ts";

/** tensor float32 [N,18] → MatMul + Add: a batchable model of standard operators (WebGPU has them). */
const LINEAR = new URL("../testdata/pipeline/linear.onnx", import.meta.url).pathname;
const JSON_TYPE = "application/json; format=pandas-records";

function row(i: number): number[] {
  return Array.from({ length: 18 }, (_, k) => (i * 18 + k) % 7 - 3);
}

async function infer(url: string, rows: number[][]): Promise<unknown[]> {
  const res = await fetch(`${url}/infer`, {
    method: "POST",
    headers: { "content-type": JSON_TYPE },
    body: JSON.stringify(rows.map((tensor) => ({ tensor }))),
  });
  assertEquals(res.status, 200, await res.clone().text());
  return (await res.json()).map((r: { outputs: unknown }) => r.outputs);
}

Deno.test({
  name:
    "BATCHING=auto batches a model served on WebGPU, not one on native; concurrent requests each get their own rows",
  ignore: (await probeWebGpu()).adapter === undefined,
}, async () => {
  const registry = await startRegistry("none");
  try {
    const reference = `${registry.host}/pipelines/linear:v1`;
    const published = await publishModel(LINEAR, "linear", reference);
    assertEquals(published.code, 0, published.stderr);
    const answers: Record<string, unknown[][]> = {};
    for (const backend of ["native", "webgpu"]) {
      const tern = await startTern({
        env: {
          PIPELINE_URL: reference,
          INFERENCE_BACKEND: backend,
          WEBGPU_ALLOW_SOFTWARE: "true",
          LOG_DURABILITY: "off",
        },
        readyTimeoutMs: 60_000,
      });
      try {
        const models = (await (await fetch(`${tern.url}/models`)).json()).models;
        assertEquals(models.map((m: { backend: string; batching: boolean }) => [m.backend, m.batching]), [
          [backend, backend === "webgpu"],
        ]);
        // 16 clients at once, 1 or 2 rows each: under batching they queue behind a run and are joined.
        answers[backend] = await Promise.all(
          Array.from({ length: 16 }, (_, i) => infer(tern.url, i % 2 ? [row(i)] : [row(i), row(i + 100)])),
        );
      } finally {
        await tern.stop();
      }
    }
    // Each client got its own rows' outputs: the same as native's, unbatched, up to float32 rounding.
    const close = (a: unknown, b: unknown): boolean =>
      typeof a === "number" && typeof b === "number"
        ? Math.abs(a - b) <= 1e-3 * Math.max(1, Math.abs(b))
        : Array.isArray(a) && Array.isArray(b)
        ? a.length === b.length && a.every((x, i) => close(x, b[i]))
        : a && b && typeof a === "object" && typeof b === "object"
        ? Object.keys(b).every((k) => close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
        : a === b;
    for (let i = 0; i < 16; i++) {
      assertEquals(
        close(answers.webgpu[i], answers.native[i]),
        true,
        `client ${i}: ${JSON.stringify(answers.webgpu[i])}`,
      );
    }
  } finally {
    await registry.stop();
  }
});
