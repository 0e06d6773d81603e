/**
 * The WebGPU backend through the real process (and so through dist/tern when
 * TERN_BIN is set: the binary must carry ort-web's WebGPU runtime). This
 * machine has only a software adapter, which tern refuses unless
 * WEBGPU_ALLOW_SOFTWARE=true; on a GPU machine the same test serves on the
 * hardware adapter (scripts/gpu-check.sh runs it there).
 */
import { probeWebGpu } from "../../src/engine/webgpu.ts";
import { assertEquals, assertMatch, assertStringIncludes } from "../support/assert.ts";
import { startRegistry } from "../support/registry.ts";
import { startTern } from "../support/tern_process.ts";
import { publishModel } from "../support/publish.ts";

const FIXTURE = new URL("../testdata/batch1_multi_output.onnx", import.meta.url).pathname;

Deno.test({
  name: "INFERENCE_BACKEND=webgpu serves a published model on the WebGPU runtime (software adapter allowed)",
  ignore: (await probeWebGpu()).adapter === undefined,
}, async () => {
  const registry = await startRegistry("none");
  try {
    const reference = `${registry.host}/pipelines/mul-argmax:v1`;
    const published = await publishModel(FIXTURE, "mul-argmax", reference);
    assertEquals(published.code, 0, published.stderr);
    const tern = await startTern({
      env: {
        PIPELINE_URL: reference,
        INFERENCE_BACKEND: "webgpu",
        WEBGPU_ALLOW_SOFTWARE: "true",
        LOG_DURABILITY: "off",
      },
      readyTimeoutMs: 60_000,
    });
    try {
      // The start-up line names the adapter: on a GPU machine the hardware one, here the software one tern was
      // allowed to use.
      const probe = await probeWebGpu();
      const adapter = probe.usable ? probe.description : `${probe.adapter} (software, WEBGPU_ALLOW_SOFTWARE)`;
      assertStringIncludes(tern.output(), `WebGPU on ${adapter}`);
      assertMatch(tern.output(), /Starting engine: onnxruntime-web [\d.]+ WebGPU on /);
      const models = (await (await fetch(`${tern.url}/models`)).json()).models;
      assertEquals(models.map((m: { backend: string }) => m.backend), ["webgpu"]);
      const res = await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json; format=pandas-records" },
        body: JSON.stringify([{ x: [0.5, 3, -1, 2] }]),
      });
      assertEquals(res.status, 200);
      const [row] = await res.json();
      assertEquals(row.outputs, [
        { Float: { data: [1, 6, -2, 4], dim: [1, 4], v: 1 } },
        { Int64: { data: [1], dim: [1], v: 1 } },
      ]);
    } finally {
      await tern.stop();
    }
  } finally {
    await registry.stop();
  }
});
