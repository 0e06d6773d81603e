import { createApp } from "./src/server/app.ts";
import { PipelineManager } from "./src/pipeline/manager.ts";
import { demoPipeline } from "./src/pipeline/demo.ts";
import { createOrtNativeBackend } from "./src/engine/ort_native.ts";
import { loadReference, recordsBody } from "./tests/support/reference.ts";
const pm = new PipelineManager(await createOrtNativeBackend({ threads: 2 }));
await pm.load(await demoPipeline());
const app = createApp({ pipelines: pm, now: Date.now, maxBodyBytes: 1 << 26 });
const body = recordsBody(loadReference().inputs.slice(0, 1));
const req = () =>
  new Request("http://x/infer", {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records", "content-length": String(body.length) },
    body,
  });
for (let i = 0; i < 3000; i++) await (await app.fetch(req())).text();
const N = 20000;
const t0 = performance.now();
for (let i = 0; i < N; i++) await (await app.fetch(req())).text();
console.log("per request µs", ((performance.now() - t0) / N * 1000).toFixed(1));
Deno.exit(0);
