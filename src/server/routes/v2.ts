/**
 * @module
 * The Open Inference Protocol's REST API (KServe V2): `GET /v2` (server
 * metadata), `/v2/health/live`, `/v2/health/ready`, `GET /v2/models/{m}[/versions/{v}]`
 * (model metadata), `…/ready`, and `POST …/infer` with JSON tensors
 * (src/codec/v2.ts). tern's V2 model is the pipeline it serves: its name and
 * version, its first step's inputs and its last step's outputs. An inference
 * runs and is logged exactly as `/infer` (it counts against
 * MAX_INFLIGHT_SIZE and MAX_REQUEST_ROWS, shows in /metrics). Health answers
 * 200 when true and 400 when false, as the protocol asks; errors are
 * `{"error": …}` (with tern's `code`).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import denoJson from "../../../deno.json" with { type: "json" };
import { NotFound, Unavailable } from "../../errors.ts";
import { decodeV2Request, encodeV2Reply, v2TensorMetadata } from "../../codec/v2.ts";
import type { TensorSpec } from "../../engine/tensor.ts";
import { refuseEncodedBody } from "../plain_body.ts";
import { type LoadedPipeline, replyOf, runPipeline, settledAfter } from "../../pipeline/loaded.ts";
import type { RouteDeps } from "../app.ts";

const JSON_TYPE = { "content-type": "application/json" };

/** The outputs a V2 client sees: the last step's (its first variant's) model outputs. */
function outputsOf(p: LoadedPipeline): readonly TensorSpec[] {
  return p.steps[p.steps.length - 1].variants[0].model.session.outputs;
}

/** V2 routes over the served pipeline. */
export function v2Routes(deps: RouteDeps): Hono {
  const { pipelines, now, maxBodyBytes, logs, maxRequestRows, random = Math.random, onInference } = deps;
  // MAX_INFLIGHT_SIZE: the budget createApp shares between every inference route.
  const budget = deps.inflight;
  const server = { name: "tern", version: denoJson.version, extensions: [] as string[] };

  /** The served pipeline, if it is model `name` (and `version`, when given); else 404 or 503. */
  const model = (c: Context): LoadedPipeline => {
    const name = c.req.param("model");
    const version = c.req.param("version");
    if (pipelines.name !== undefined && name !== pipelines.name) {
      throw new NotFound(`model '${name}' not found; this engine serves '${pipelines.name}'`);
    }
    const p = pipelines.current;
    if (!p) {
      throw new Unavailable(
        `model '${name}' is not ready: pipeline is ${pipelines.status}${pipelines.error ? `: ${pipelines.error}` : ""}`,
      );
    }
    if (version !== undefined && version !== p.version) {
      throw new NotFound(`model '${name}' has no version '${version}'; it serves version '${p.version}'`);
    }
    return p;
  };

  const metadata = (c: Context) => {
    const p = model(c);
    return c.json({
      name: p.name,
      versions: [p.version],
      platform: p.steps.length === 1 && p.steps[0].variants.length === 1 ? "onnxruntime_onnx" : "ensemble",
      inputs: p.inputs.map(v2TensorMetadata),
      outputs: outputsOf(p).map(v2TensorMetadata),
    });
  };

  const ready = (c: Context) => {
    const name = c.req.param("model")!;
    let isReady = false;
    try {
      isReady = model(c) !== undefined;
    } catch (err) {
      if (err instanceof NotFound) throw err;
    }
    return c.json({ name, ready: isReady }, isReady ? 200 : 400);
  };

  const infer = async (c: Context) => {
    const req = c.req.raw;
    refuseEncodedBody(req);
    const release = await budget.takeFor(req, maxBodyBytes);
    try {
      const time = now();
      const text = await req.text();
      model(c); // 404 or 503 unless the pipeline serves as this model (and version)
      const pipeline = pipelines.acquire()!; // the same one: no turn of the event loop since
      let request, run, decodeNs;
      try {
        const t0 = performance.now();
        request = decodeV2Request(text, pipeline.inputs, outputsOf(pipeline), maxRequestRows);
        decodeNs = Math.round((performance.now() - t0) * 1e6);
        run = await runPipeline(pipeline, request.input, random);
      } catch (err) {
        void settledAfter(err).then(() => pipelines.release(pipeline));
        throw err;
      }
      // Held until the shadows this request started are done, which may be after the reply.
      void run.settled.then(() => pipelines.release(pipeline));
      const reply = replyOf(pipeline, run, request.input, time, decodeNs);
      onInference?.(pipeline, reply);
      // Logged as /infer logs: the reply leaves once its rows are committed (LOG_DURABILITY).
      const logged = logs?.writer.append({ reply, pipelineVersion: pipeline.version, modelSha: run.served.sha256 });
      // Awaited after the encoding: should that throw first, the log's failure is not an unhandled rejection.
      logged?.catch(() => {});
      const body = encodeV2Reply({
        modelName: pipeline.name,
        modelVersion: pipeline.version,
        id: request.id,
        outputs: run.outputs,
        only: request.outputs,
      });
      await logged;
      return new Response(body, { headers: JSON_TYPE });
    } finally {
      release();
    }
  };

  return new Hono()
    .get("/v2", (c) => c.json(server))
    .get("/v2/health/live", (c) => c.json({ live: true }))
    .get("/v2/health/ready", (c) => {
      const isReady = pipelines.status === "Running" && pipelines.stoppedModel === undefined;
      return c.json({ ready: isReady }, isReady ? 200 : 400);
    })
    .get("/v2/models/:model", metadata)
    .get("/v2/models/:model/versions/:version", metadata)
    .get("/v2/models/:model/ready", ready)
    .get("/v2/models/:model/versions/:version/ready", ready)
    .post("/v2/models/:model/infer", infer)
    .post("/v2/models/:model/versions/:version/infer", infer);
}
