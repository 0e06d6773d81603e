/**
 * @module
 * The "bare session.run" baseline, in a process of its own (onnxruntime-web's
 * thread count is fixed per process): loads one fixture on one backend and
 * runs the same feeds in a loop, with no tern code on the way.
 *
 *   deno run -A scripts/bench/bare_run.ts demo|demo1000|cnn native|wasm THREADS SECONDS
 * (`demo1000`: the demo's 1,000 reference rows in one run, as the 1,000-row Arrow request feeds them)
 * prints one JSON line: { requests, perSecond, p50Ms, p99Ms }.
 */
import { createOrtNativeBackend } from "../../src/engine/ort_native.ts";
import { createOrtWebWasmBackend } from "../../src/engine/ort_web.ts";
import { DEMO_MODEL_URL } from "../../src/pipeline/demo.ts";
import { cnnFeeds, cnnModelPath } from "../../tests/support/cnn.ts";
import { loadReference } from "../../tests/support/reference.ts";
import { measure } from "./load.ts";

const [model, backendName, threads, seconds] = Deno.args;
const backend = backendName === "native"
  ? await createOrtNativeBackend({ threads: Number(threads) })
  : createOrtWebWasmBackend({ threads: Number(threads) });
const demoRows = model === "demo1000" ? loadReference().inputs : loadReference().inputs.slice(0, 1);
const [bytes, feeds] = model === "cnn" ? [await Deno.readFile(await cnnModelPath()), cnnFeeds()] : [
  await Deno.readFile(DEMO_MODEL_URL),
  { tensor: { type: "float32" as const, data: new Float32Array(demoRows.flat()), dims: [demoRows.length, 18] } },
];
const session = await backend.load(bytes, model);
const figures = await measure(
  { section: "", scenario: "", path: "", connections: 1 },
  Number(seconds),
  async () => void await session.run(feeds),
);
console.log(JSON.stringify({
  requests: figures.requests,
  perSecond: figures.perSecond,
  p50Ms: figures.p50Ms,
  p99Ms: figures.p99Ms,
}));
Deno.exit(0);
