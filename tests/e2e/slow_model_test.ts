/**
 * A slow model through the real process (and dist/tern with TERN_BIN): it runs
 * in a worker thread of its own, on native onnxruntime and on onnxruntime-web's
 * WASM alike, so `/health` answers while inferences are still running instead
 * of queueing behind them.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { startRegistry } from "../support/registry.ts";
import { startTern } from "../support/tern_process.ts";
import { publishModel } from "../support/publish.ts";

const SLOW = new URL("../testdata/slow_matmul.onnx", import.meta.url).pathname;

for (const backend of ["native", "wasm"]) {
  Deno.test(`${backend}: while a slow model works through queued inferences, /health answers at once`, async () => {
    await whileSlowModelWorks(backend);
  });
}

async function whileSlowModelWorks(backend: string): Promise<void> {
  const registry = await startRegistry("none");
  try {
    const reference = `${registry.host}/pipelines/slow:v1`;
    const published = await publishModel(SLOW, "slow", reference);
    assertEquals(published.code, 0, published.stderr);
    const tern = await startTern({
      env: { PIPELINE_URL: reference, LOG_DURABILITY: "off", INFERENCE_BACKEND: backend },
      readyTimeoutMs: 60_000,
    });
    try {
      assertMatch(
        tern.output(),
        new RegExp(`Model slow_matmul: .*backend ${backend} \\(runs in a worker thread of its own\\)`),
      );
      const finished: string[] = [];
      const inferences = [1, 2].map(async (n) => {
        const res = await fetch(`${tern.url}/infer`, {
          method: "POST",
          headers: { "content-type": "application/json; format=pandas-records" },
          body: JSON.stringify([{ x: [2] }]),
        });
        assertEquals(res.status, 200);
        assertEquals((await res.json())[0].outputs[0].Float.data, [2 * 1024 * 1024]);
        finished.push(`inference ${n}`);
      });
      // Both sent: one running (about 100 ms a run here on native, 1 s on WASM), one queued.
      await new Promise((r) => setTimeout(r, 20));
      const health = await fetch(`${tern.url}/health`);
      assertEquals(health.status, 200);
      await health.body?.cancel();
      finished.push("health");
      await Promise.all(inferences);
      assert(finished[0] === "health", `finished in the order ${finished.join(", ")}`);
    } finally {
      await tern.stop();
    }
  } finally {
    await registry.stop();
  }
}
