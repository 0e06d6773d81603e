/**
 * @module
 * The "bare" HTTP baseline: Deno.serve whose handler runs one fixed input
 * through native onnxruntime `session.run` and answers a tiny JSON: it reads
 * the request body but does no parsing, no reply encoding and no logging. What tern adds on top is
 * measured against this.
 *
 *   deno run -A scripts/bench/bare_server.ts MODEL.onnx THREADS
 * prints `listening PORT`.
 */
import { createOrtNativeBackend } from "../../src/engine/ort_native.ts";
import { allocateZeros } from "../../src/engine/warmup.ts";

const [model, threads] = Deno.args;
const session = await (await createOrtNativeBackend({ threads: Number(threads) })).load(
  await Deno.readFile(model),
  "bare",
);
const feeds = Object.fromEntries(session.inputs.map((s) => [s.name, allocateZeros(s)]));
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`listening ${port}`),
}, async (req) => {
  await req.arrayBuffer(); // the body is received (as tern must), not parsed
  await session.run(feeds);
  return new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
});
