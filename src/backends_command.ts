/**
 * @module
 * `tern backends [MODEL.onnx]`: which runtime runs a model fastest on this
 * machine, at the batch sizes adaptive batching forms (1, 8, 32, 64 up to
 * BATCH_MAX_ROWS). Every backend tern has (native CPU, CUDA, WebGPU, WASM)
 * runs the same pseudo-random inputs; each line gives the median time per run,
 * the rows per second that makes, and how far its outputs are from the first
 * backend's (native's when it runs). A backend that is not available says why.
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
  let reference: Map<number, Record<string, HostTensor>> | undefined;
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
      for (const batch of sizes) {
        const figure = await measure(session, choice, batch, reference);
        figures.push(figure);
        console.log(
          `  ${choice} batch ${batch}: ${figure.p50Ms.toFixed(3)} ms per run, ${
            figure.rowsPerSecond.toFixed(1)
          } rows/s, max |Δ| ${figure.maxAbsDiff.toExponential(2)}, ${figure.mismatches} non-float mismatches`,
        );
      }
    } catch (err) {
      console.log(`  ${choice}: failed: ${errorText(err)}`);
    } finally {
      await session.release().catch(() => {});
    }
  }
  for (const batch of batches) {
    const at = figures.filter((f) => f.batch === batch).sort((a, b) => b.rowsPerSecond - a.rowsPerSecond);
    if (at.length > 0) console.log(`fastest at batch ${batch}: ${at[0].backend}`);
  }
}

/** Times `session` at `batch` rows on the inputs of that batch, comparing outputs with the reference's. */
async function measure(
  session: ModelSession,
  backend: string,
  batch: number,
  reference: Map<number, Record<string, HostTensor>>,
): Promise<BackendFigure> {
  const feeds = Object.fromEntries(session.inputs.map((spec) => [spec.name, pseudoRandom(spec, batch)]));
  const first = await session.run(feeds);
  const expected = reference.get(batch);
  if (!expected) reference.set(batch, first);
  const { maxAbsDiff, mismatches } = expected ? compare(first, expected) : { maxAbsDiff: 0, mismatches: 0 };
  const times: number[] = [];
  let spent = 0;
  while (times.length < MIN_RUNS || (spent < MIN_TIMED_MS && times.length < MAX_RUNS)) {
    const t0 = performance.now();
    await session.run(feeds);
    const ms = performance.now() - t0;
    times.push(ms);
    spent += ms;
  }
  const p50Ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  return { backend, batch, p50Ms, rowsPerSecond: batch / p50Ms * 1000, maxAbsDiff, mismatches };
}

function describeInputs(inputs: readonly TensorSpec[]): string {
  return inputs.map((s) => `${s.name} ${describeSpec(s)}`).join(", ");
}

/** Inputs shaped like `spec` with `batch` rows (other symbolic dims 1), the same on every backend. */
function pseudoRandom(spec: TensorSpec, batch: number): HostTensor {
  const dims = concreteDims(spec, batch);
  const n = elementCount(dims);
  const data = allocate(spec.type, n);
  let seed = 12345;
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
