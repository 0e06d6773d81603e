import { createApp } from "../../src/server/app.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { demoPipeline } from "../../src/pipeline/demo.ts";
import { assertEquals, assertMatch } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";
import { recordsBody } from "../support/reference.ts";

const JSON_TYPE = "application/json; format=pandas-records";

function app(pipelines: PipelineManager) {
  return createApp({ pipelines, now: () => 1234, maxBodyBytes: 1 << 20 });
}

ortTest("while the pipeline loads: alive, not ready, inference answers 503", async () => {
  const pipelines = new PipelineManager(wasmBackend());
  pipelines.announce("house-price-estimator");
  const a = app(pipelines);
  assertEquals(await (await a.request("/health")).json(), { status: "ok", pipeline: "Loading" });
  const ready = await a.request("/health/ready");
  assertEquals(ready.status, 503);
  assertEquals((await ready.json()).code, "unavailable");
  assertEquals(await (await a.request("/pipelines")).json(), {
    pipelines: [{ id: "house-price-estimator", status: "Loading" }],
  });
  assertEquals(await (await a.request("/models")).json(), { models: [] });
  const infer = await a.request("/infer", { method: "POST", headers: { "content-type": JSON_TYPE }, body: "[]" });
  assertEquals(infer.status, 503);
});

ortTest("a pipeline that failed to load reports Error with the reason, and inference says why", async () => {
  const pipelines = new PipelineManager(wasmBackend());
  const definition = await demoPipeline();
  definition.steps[0].variants[0].model.bytes = new TextEncoder().encode("corrupt");
  await pipelines.load(definition).catch(() => {});
  const a = app(pipelines);
  assertEquals(await (await a.request("/pipelines")).json(), {
    pipelines: [{ id: "house-price-estimator", status: "Error" }],
  });
  // The model is listed with status Error (as Wallaroo's edge lists it), and why.
  const [model, ...others] = (await (await a.request("/models")).json()).models;
  assertEquals(others, []);
  assertEquals([model.name, model.status, model.sha], [
    "house-price-estimator",
    "Error",
    definition.steps[0].variants[0].model.sha256,
  ]);
  assertMatch(model.error, /onnxruntime-web could not/);
  const infer = await a.request("/infer", {
    method: "POST",
    headers: { "content-type": JSON_TYPE },
    body: recordsBody([[1]]),
  });
  assertEquals(infer.status, 503);
  assertMatch((await infer.json()).error, /pipeline is Error: model house-price-estimator: onnxruntime-web could not/);
});

/** Runs `use` on the app over the demo pipeline (on WASM), closing the pipeline after. */
async function withDemo(use: (a: ReturnType<typeof app>) => Promise<void>): Promise<void> {
  const pipelines = new PipelineManager(wasmBackend());
  await pipelines.load(await demoPipeline());
  try {
    await use(app(pipelines));
  } finally {
    await pipelines.close();
  }
}

/** One demo row, as `/infer` takes it. */
const DEMO_ROW = recordsBody([new Array(18).fill(1)]);

ortTest("inference time comes from the injected clock", () =>
  withDemo(async (a) => {
    const res = await a.request("/infer", { method: "POST", headers: { "content-type": JSON_TYPE }, body: DEMO_ROW });
    assertEquals(res.status, 200);
    assertEquals((await res.json())[0].time, 1234);
  }));

ortTest("a known path with the wrong method gets 405 and Allow; an unknown path 404", async () => {
  const a = app(new PipelineManager(wasmBackend()));
  const getInfer = await a.request("/infer");
  assertEquals(getInfer.status, 405);
  assertEquals(getInfer.headers.get("allow"), "POST");
  assertEquals((await getInfer.json()).code, "method_not_allowed");
  const postModels = await a.request("/models", { method: "POST", body: "{}" });
  assertEquals([postModels.status, postModels.headers.get("allow")], [405, "GET, HEAD"]);
  await postModels.body?.cancel();
  const deletePipeline = await a.request("/pipelines/house-price-estimator", { method: "DELETE" });
  assertEquals([deletePipeline.status, deletePipeline.headers.get("allow")], [405, "POST"]);
  await deletePipeline.body?.cancel();
  const getLogs = await a.request("/logs");
  assertEquals([getLogs.status, getLogs.headers.get("allow")], [405, "POST"]);
  await getLogs.body?.cancel();
  const unknown = await a.request("/nope", { method: "POST" });
  assertEquals(unknown.status, 404);
  assertEquals((await unknown.json()).code, "not_found");
  assertEquals((await a.request("/models", { method: "HEAD" })).status, 200);
});

ortTest(
  "a trailing slash names the same route: /infer/ infers, /pipelines/ lists, GET /infer/ is 405 with POST",
  () =>
    withDemo(async (a) => {
      for (const path of ["/infer/", "/pipelines/house-price-estimator/"]) {
        const res = await a.request(path, { method: "POST", headers: { "content-type": JSON_TYPE }, body: DEMO_ROW });
        assertEquals([path, res.status], [path, 200]);
        assertEquals((await res.json())[0].model_name, "house-price-estimator");
      }
      assertEquals(await (await a.request("/pipelines/")).json(), {
        pipelines: [{ id: "house-price-estimator", status: "Running" }],
      });
      const getInfer = await a.request("/infer/");
      assertEquals([getInfer.status, getInfer.headers.get("allow")], [405, "POST"]);
      assertEquals((await getInfer.json()).error, "/infer does not take GET; it takes POST");
    }),
);

ortTest(
  "a compressed body (Content-Encoding: gzip) is a 415 naming the encoding, not a puzzling invalid_json",
  () =>
    withDemo(async (a) => {
      const body = await new Response(new Blob([DEMO_ROW]).stream().pipeThrough(new CompressionStream("gzip")))
        .arrayBuffer();
      const res = await a.request("/infer", {
        method: "POST",
        headers: { "content-type": JSON_TYPE, "content-encoding": "gzip" },
        body,
      });
      assertEquals(res.status, 415);
      assertEquals(await res.json(), {
        error: "Content-Encoding 'gzip' is not supported: send the body uncompressed (an Arrow file may compress its " +
          "buffers with LZ4 or ZSTD itself)",
        code: "unsupported_media_type",
      });
      for (const path of ["/logs", "/v2/models/house-price-estimator/infer"]) {
        const other = await a.request(path, { method: "POST", headers: { "content-encoding": "br" }, body });
        assertEquals([path, other.status, (await other.json()).code], [path, 415, "unsupported_media_type"]);
      }
    }),
);

ortTest("every route that reads a body honours MAX_REQUEST_SIZE: POST /logs too, declared or chunked", async () => {
  const pipelines = new PipelineManager(wasmBackend());
  const a = createApp({ pipelines, now: () => 1234, maxBodyBytes: 1024 });
  const declared = await a.request("/logs", { method: "POST", body: " ".repeat(4096) });
  assertEquals(declared.status, 413);
  assertEquals((await declared.json()).code, "payload_too_large");
  const chunks = [
    new TextEncoder().encode("{"),
    new TextEncoder().encode(" ".repeat(4096)),
    new TextEncoder().encode("}"),
  ];
  const chunked = await a.request("/logs", {
    method: "POST",
    body: new ReadableStream({ pull: (c) => chunks.length ? c.enqueue(chunks.shift()!) : c.close() }),
  });
  assertEquals(chunked.status, 413);
  assertEquals((await chunked.json()).code, "payload_too_large");
});
