/**
 * @module
 * Run by tests/pipeline/swap_memory_test.ts in a process of its own (with
 * `--v8-flags=--expose-gc`): swaps a pipeline SWAPS times through the
 * updater's path (a tag naming a new manifest each check, pulled from a
 * scripted source, loaded beside the old version, swapped in, the old one
 * released), serving requests around each swap, and prints the resident
 * memory after swap 5 and after the last as JSON. Arguments: `auto` (the
 * INFERENCE_BACKEND=auto choice per model: native and WASM sessions tried,
 * the faster kept) or `worker` (every model in a native worker thread of its
 * own); the number of swaps (default 50); `leak` to skip every release (what
 * a leak of sessions and worker threads would cost, to show the bound sees it).
 */
import type { Backend } from "../../src/engine/backend.ts";
import { createBackend } from "../../src/engine/select.ts";
import { createPlacedNativeBackend } from "../../src/engine/off_thread.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { runPipeline } from "../../src/pipeline/loaded.ts";
import { PipelineUpdater } from "../../src/pipeline/updater.ts";
import { modelStep, type PipelineDefinition } from "../../src/pipeline/spec.ts";
import { artifact } from "./pipeline_models.ts";

const SWAPS = Number(Deno.args[1] ?? 50);
const mode = Deno.args[0] ?? "auto";
const placed = mode === "worker"
  ? await createPlacedNativeBackend({ threads: 1 }, 0)
  : await createBackend("auto", { threads: 1, log: () => {} });
const backend: Backend = Deno.args[2] === "leak"
  ? {
    ...placed,
    load: async (bytes, label) => ({ ...await placed.load(bytes, label), release: () => Promise.resolve() }),
  }
  : placed;
const pipelines = new PipelineManager(backend);
const models = [await artifact("forest"), await artifact("linear")];
let checks = 0;
const released: string[] = [];
const updater = new PipelineUpdater({
  pipelines,
  source: {
    pinnedDigest: () => undefined,
    digest: () => Promise.resolve(`sha256:${++checks}`),
    fetch: (): Promise<PipelineDefinition> =>
      Promise.resolve({
        name: "prices",
        version: crypto.randomUUID(),
        steps: [modelStep(models[checks % 2])],
        source: { reference: "registry.example/prices:live", digest: `sha256:${checks}` },
      }),
  },
  intervalMs: 0,
  info: (line) => line.startsWith("Released") && released.push(line),
  error: (line) => console.error(line),
});
updater.start("registry.example/prices:live");

const row = { tensor: { type: "float32" as const, data: new Float32Array(18).fill(3), dims: [1, 18] } };
const serve = async () => {
  const p = pipelines.acquire()!;
  try {
    await runPipeline(p, { rows: 1, tensors: row, originalData: () => null });
  } finally {
    pipelines.release(p);
  }
};
const gc = (globalThis as { gc?: () => void }).gc!;
const rss = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return Deno.memoryUsage().rss;
};

const figures: Record<string, number> = {};
for (let swap = 1; swap <= SWAPS; swap++) {
  const during = Array.from({ length: 8 }, () => serve().catch(() => {}));
  await updater.check();
  await Promise.all([...during, serve()]);
  while (released.length < swap - 1) await new Promise((r) => setTimeout(r, 1));
  if (swap === 5 || swap % 50 === 0 || swap === SWAPS) figures[`rssAfter${swap}`] = await rss();
}
await updater.stop();
await pipelines.close();
console.log(JSON.stringify({ mode, swaps: SWAPS, released: released.length, ...figures }));
Deno.exit(0);
