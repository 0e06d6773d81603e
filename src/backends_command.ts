/**
 * @module
 * `tern backends [MODEL.onnx]`: which runtime runs a model fastest on this
 * machine, at the batch sizes adaptive batching forms (1, 8, 32, 64 up to
 * BATCH_MAX_ROWS). Every backend tern has (native CPU, CUDA, WebGPU, WASM)
 * runs the same pseudo-random inputs; each line gives the median time per run,
 * the rows per second that makes, and how far its outputs are from the first
 * backend's (native's when it runs), on the timed inputs and on a second set run
 * once after. WebGPU with graph capture (webgpu_capture.ts) is measured beside
 * them, not served. A backend that is not available says why.
 * Needs nothing but the binary, so it is how a GPU machine without network or
 * Deno is checked (scripts/gpu-check.sh). Without MODEL, the built-in demo model.
 */
import type { Config } from "./config.ts";
import { errorText } from "./errors.ts";
import type { ModelSession } from "./engine/backend.ts";
import { type BackendChoice, createBackend } from "./engine/select.ts";
import {
  allocate,
  concreteDims,
  describeSpec,
  elementCount,
  fixedBatchDim,
  type HostTensor,
  type TensorSpec,
} from "./engine/tensor.ts";
import { probeWebGpu } from "./engine/webgpu.ts";
import { DEMO_MODEL_URL } from "./pipeline/demo.ts";

/** The backends measured, in this order (the first that runs is the reference for outputs). */
const CHOICES: readonly BackendChoice[] = ["native", "cuda", "webgpu", "wasm"];
/** Batch sizes tried, up to BATCH_MAX_ROWS (which is tried too). */
const BATCHES = [1, 8, 32, 64, 128, 256];
/** Each batch size is run at least this many times (after an untimed first run)… */
const MIN_RUNS = 3;
/** …and until this much time is measured, or MAX_RUNS. */
const MIN_TIMED_MS = 500;
const MAX_RUNS = 200;

/** One backend at one batch size. */
export interface BackendFigure {
  backend: string;
  batch: number;
  p50Ms: number;
  rowsPerSecond: number;
  /** Largest |difference| of a float output from the reference backend's (0 for the reference). */
  maxAbsDiff: number;
  /** Elements of non-float outputs that differ from the reference backend's. */
  mismatches: number;
}

/** Prints the adapter, then one line per backend and batch size (or why a backend is not available). */
export async function runBackends(config: Config): Promise<void> {
  const path = config.backendsModel ?? DEMO_MODEL_URL;
  const model = await Deno.readFile(path);
  const adapter = await probeWebGpu();
  console.log(`WebGPU adapter: ${adapter.usable ? `${adapter.description} (hardware)` : adapter.description}`);
  const batches = [...new Set([...BATCHES.filter((b) => b < config.batchMaxRows), config.batchMaxRows])];
  let reference: References | undefined;
  const figures: BackendFigure[] = [];
  for (const choice of CHOICES) {
    if (choice === "webgpu" && !adapter.usable && !config.webgpuAllowSoftware) {
      console.log(`webgpu: not available: ${adapter.description}`);
      continue;
    }
    let session: ModelSession;
    try {
      const backend = await createBackend(choice, {
        threads: config.configCpus,
        log: () => {},
        libDir: config.onnxruntimeLibDir,
        webgpuAllowSoftware: config.webgpuAllowSoftware,
      });
      session = await backend.load(model, "model");
      console.log(`${choice}: ${backend.description}`);
    } catch (err) {
      console.log(`${choice}: not available: ${errorText(err)}`);
      continue;
    }
    try {
      const fixed = session.inputs[0] && fixedBatchDim(session.inputs[0]);
      const sizes = fixed === undefined ? batches : [fixed];
      if (reference === undefined) {
        console.log(`model ${typeof path === "string" ? path : "built-in demo"}: ${describeInputs(session.inputs)}`);
        reference = new Map();
      }
      for (const batch of sizes) figures.push(printed(await measure(session, choice, batch, reference)));
    } catch (err) {
      console.log(`  ${choice}: failed: ${errorText(err)}`);
    } finally {
      await session.release().catch(() => {});
    }
  }
  if (adapter.usable || (config.webgpuAllowSoftware && adapter.adapter)) {
    figures.push(...await measureCaptured(model, batches, reference));
  }
  // Every runtime refused the model or failed on it: the lines above say why, and the exit code says so too.
  if (figures.length === 0) throw new Error("no runtime ran the model (the lines above say why)");
  for (const batch of batches) {
    const at = figures.filter((f) => f.batch === batch && f.backend !== "webgpu-capture").sort((a, b) =>
      b.rowsPerSecond - a.rowsPerSecond
    );
    if (at.length > 0) console.log(`fastest at batch ${batch}: ${at[0].backend}`);
  }
}

/** Each batch size's outputs on the reference backend: of the timed inputs, then of a second set run once after. */
type References = Map<number, [Record<string, HostTensor>, Record<string, HostTensor>]>;

/**
 * WebGPU with graph capture (webgpu_capture.ts), a session per batch size as a captured graph runs one shape:
 * measured beside plain WebGPU, not served, and left out of the "fastest" lines.
 */
async function measureCaptured(
  model: Uint8Array,
  batches: readonly number[],
  reference: References | undefined,
): Promise<BackendFigure[]> {
  const { createCapturedWebGpuBackend } = await import("./engine/webgpu_capture.ts");
  const figures: BackendFigure[] = [];
  try {
    const backend = await createCapturedWebGpuBackend({ allowSoftwareAdapter: true });
    let session: ModelSession | undefined = await backend.load(model, "model");
    console.log(`webgpu-capture: ${backend.description}`);
    const fixed = session.inputs[0] && fixedBatchDim(session.inputs[0]);
    for (const batch of fixed === undefined ? batches : [fixed]) {
      try {
        session ??= await backend.load(model, "model");
        figures.push(printed(await measure(session, "webgpu-capture", batch, reference ?? new Map())));
      } catch (err) {
        console.log(`  webgpu-capture batch ${batch}: failed: ${errorText(err)}`);
      } finally {
        await session?.release().catch(() => {});
        session = undefined;
      }
    }
  } catch (err) {
    console.log(`webgpu-capture: not available: ${errorText(err)}`);
  }
  return figures;
}

/** Prints one backend's line for one batch size. */
function printed(figure: BackendFigure): BackendFigure {
  console.log(
    `  ${figure.backend} batch ${figure.batch}: ${figure.p50Ms.toFixed(3)} ms per run, ${
      figure.rowsPerSecond.toFixed(1)
    } rows/s, max |Δ| ${figure.maxAbsDiff.toExponential(2)}, ${figure.mismatches} non-float mismatches`,
  );
  return figure;
}

/**
 * Times `session` at `batch` rows, then runs a second set of inputs once: both runs' outputs are compared with
 * the reference's (a runtime that kept answering for the first inputs would show there).
 */
async function measure(
  session: ModelSession,
  backend: string,
  batch: number,
  reference: References,
): Promise<BackendFigure> {
  const inputs = (seed: number) =>
    Object.fromEntries(session.inputs.map((spec) => [spec.name, pseudoRandom(spec, batch, seed)]));
  const feeds = inputs(12345);
  const first = await session.run(feeds);
  const times: number[] = [];
  let spent = 0;
  while (times.length < MIN_RUNS || (spent < MIN_TIMED_MS && times.length < MAX_RUNS)) {
    const t0 = performance.now();
    await session.run(feeds);
    const ms = performance.now() - t0;
    times.push(ms);
    spent += ms;
  }
  const second = await session.run(inputs(54321));
  const expected = reference.get(batch);
  if (!expected) reference.set(batch, [first, second]);
  const [a, b] = expected ? [compare(first, expected[0]), compare(second, expected[1])] : [undefined, undefined];
  const p50Ms = times.sort((x, y) => x - y)[Math.floor(times.length / 2)];
  return {
    backend,
    batch,
    p50Ms,
    rowsPerSecond: batch / p50Ms * 1000,
    maxAbsDiff: Math.max(a?.maxAbsDiff ?? 0, b?.maxAbsDiff ?? 0),
    mismatches: (a?.mismatches ?? 0) + (b?.mismatches ?? 0),
  };
}

function describeInputs(inputs: readonly TensorSpec[]): string {
  return inputs.map((s) => `${s.name} ${describeSpec(s)}`).join(", ");
}

/** Inputs shaped like `spec` with `batch` rows (other symbolic dims 1), the same on every backend for a seed. */
function pseudoRandom(spec: TensorSpec, batch: number, seed: number): HostTensor {
  const dims = concreteDims(spec, batch);
  const n = elementCount(dims);
  const data = allocate(spec.type, n);
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    if (Array.isArray(data)) data[i] = "";
    else if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(Math.floor(next() * 10));
    else if (spec.type === "bool") data[i] = next() < 0.5 ? 1 : 0;
    else if (spec.type.startsWith("float") && spec.type !== "float16") data[i] = next();
    else data[i] = Math.floor(next() * 10);
  }
  return { type: spec.type, data, dims };
}

/** Largest float difference and count of other differing elements between two runs' outputs. */
function compare(
  actual: Record<string, HostTensor>,
  expected: Record<string, HostTensor>,
): { maxAbsDiff: number; mismatches: number } {
  let maxAbsDiff = 0;
  let mismatches = 0;
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    if (!got || got.data.length !== want.data.length) {
      mismatches += want.data.length;
      continue;
    }
    const float = want.type === "float32" || want.type === "float64";
    for (let i = 0; i < want.data.length; i++) {
      if (!float) {
        if (got.data[i] !== want.data[i]) mismatches++;
        continue;
      }
      const [a, b] = [Number(got.data[i]), Number(want.data[i])];
      if (Number.isNaN(a) !== Number.isNaN(b)) mismatches++;
      else if (!Number.isNaN(a)) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
    }
  }
  return { maxAbsDiff, mismatches };
}
