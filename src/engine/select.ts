/**
 * @module
 * INFERENCE_BACKEND: which runtime runs each model. `wasm`, `native`, `cuda`
 * and `webgpu` (hardware adapters only) name one; `auto` tries every available backend on each model,
 * times a warm-up on inputs of the model's own shape, and keeps the fastest.
 * A backend that cannot load a model is skipped, with the reason logged.
 * Except that a model native onnxruntime runs in under NATIVE_ENOUGH_MS stays on native untimed elsewhere:
 * no other runtime can make such a request noticeably faster (its HTTP and codec work take longer), native runs
 * on one session may overlap where ort-web's are serialised, and timing WASM first means starting ort-web's
 * runtime, a third of a second of start-up here (the demo: native 0.015 ms, WASM 0.027 ms per run).
 * With adaptive batching on, a GPU runtime that lost at one row is timed again at a batch of BATCH_MAX_ROWS (at
 * most LARGE_BATCH_ROWS); if it is faster there than the winner (estimated), it keeps the model too and runs the
 * batches from the size where the two cross (rows_split.ts): a GPU's run has a large fixed cost that only batches
 * spread.
 */
import type { BackendChoice } from "../config.ts";
import { ConfigError, errorText, TernError } from "../errors.ts";
import { type Backend, type ModelSession, withFigures } from "./backend.ts";
import { type LargeBatches, largeFromRows, splitByRows } from "./rows_split.ts";
import { createPlacedBackend, createPlacedNativeBackend, OFF_THREAD_MIN_MS, type Placement } from "./off_thread.ts";
import { createOrtWebWasmBackend } from "./ort_web.ts";
import { fixedBatchDim } from "./tensor.ts";
import { timeRuns } from "./warmup.ts";
import { createWebGpuBackend, gpuDevicesPresent, type WebGpuOptions } from "./webgpu.ts";

export type { BackendChoice } from "../config.ts";

/** What createBackend needs besides the choice. */
export interface BackendOptions {
  /** CONFIG_CPUS. */
  threads: number;
  /** Start-up log lines (why a backend is not used, auto's figures). */
  log: (line: string) => void;
  /** ONNXRUNTIME_LIB_DIR. */
  libDir?: string;
  /** WEBGPU_ALLOW_SOFTWARE: INFERENCE_BACKEND=webgpu may use a software adapter (never under auto). */
  webgpuAllowSoftware?: boolean;
  /** Adaptive batching, when on: `auto` may give a model's large batches to a GPU runtime. */
  batching?: AutoBatching;
}

/** What `auto` needs to know of adaptive batching. */
export interface AutoBatching {
  /** Most rows a joined batch holds (BATCH_MAX_ROWS). */
  maxRows: number;
  /** Runtimes whose batches may be timed for large runs (the GPU ones). */
  backends: readonly string[];
}

/** Most rows of the batch `auto` times for large runs: a CPU runtime's run of more costs seconds of start-up. */
export const LARGE_BATCH_ROWS = 64;

/** Creates the backend INFERENCE_BACKEND asks for. */
export async function createBackend(
  choice: BackendChoice,
  { threads, log, libDir, webgpuAllowSoftware = false, batching }: BackendOptions,
): Promise<Backend> {
  switch (choice) {
    case "wasm":
      return placedWasm(threads);
    case "native":
    case "cuda":
      return await createPlacedNativeBackend({ threads, cuda: choice === "cuda", libDir }).catch((err) => {
        throw new ConfigError(`INFERENCE_BACKEND=${choice}: ${errorText(err)}`);
      });
    case "webgpu":
      return await placedWebGpu({ allowSoftwareAdapter: webgpuAllowSoftware }).catch((err) => {
        throw new ConfigError(`INFERENCE_BACKEND=webgpu: ${errorText(err)}`);
      });
    case "auto": {
      const candidates: Backend[] = [];
      for (const cuda of [true, false]) {
        try {
          candidates.push(await createPlacedNativeBackend({ threads, cuda, libDir }));
        } catch (err) {
          log(`Backend ${cuda ? "cuda" : "native"} not used: ${errorText(err)}`);
        }
      }
      if (gpuDevicesPresent()) {
        try {
          candidates.push(await placedWebGpu({}, { prewarm: false }));
        } catch (err) {
          log(`Backend webgpu not used: ${errorText(err)}`);
        }
      }
      candidates.push(placedWasm(threads, { prewarm: false }));
      return autoBackend(candidates, log, batching);
    }
  }
}

/** ort-web's WASM runtime, slow models each in a worker thread of its own (off_thread.ts). */
function placedWasm(threads: number, placement?: Placement): Backend {
  return createPlacedBackend(createOrtWebWasmBackend({ threads }), { kind: "wasm", options: { threads } }, placement);
}

/** ort-web's WebGPU, slow models each in a worker thread (and on a GPU device) of their own (off_thread.ts). */
async function placedWebGpu(options: WebGpuOptions, placement?: Placement): Promise<Backend> {
  return createPlacedBackend(await createWebGpuBackend(options), { kind: "webgpu", options }, placement);
}

/** Per-run time under which `auto` keeps a model on native without timing the runtimes after it (module doc). */
export const NATIVE_ENOUGH_MS = 1;

/** A backend that loads each model into every candidate and keeps the fastest (and, batching, a GPU for batches). */
export function autoBackend(candidates: Backend[], log: (line: string) => void, batching?: AutoBatching): Backend {
  return {
    name: "auto",
    description: `auto (fastest of ${candidates.map((c) => c.description).join("; ")})`,
    async prewarm() {
      await Promise.all(candidates.map((candidate) => candidate.prewarm?.()));
    },
    async load(model, label) {
      const tried: { session: ModelSession; ms: number }[] = [];
      const failures: string[] = [];
      let untimed: string[] = [];
      for (const [i, backend] of candidates.entries()) {
        const leader = tried.reduce<typeof tried[number] | undefined>((a, t) => a && a.ms <= t.ms ? a : t, undefined);
        if (leader?.session.backend === "native" && leader.ms < NATIVE_ENOUGH_MS) {
          untimed = candidates.slice(i).map((c) => c.name);
          break;
        }
        let session: ModelSession | undefined;
        try {
          session = await backend.load(model, label, leader?.ms);
          const run = session.run.bind(session);
          // A model may refuse zeros of its declared shape (a Reshape into pairs): it loaded, and serves untimed.
          const ms = session.runMs ?? await timeRuns(session.inputs, run, leader?.ms).catch((err) => {
            if (!(err instanceof TernError && err.code === "model_rejected_input")) throw err;
            log(`Model ${label}: backend ${backend.name} not timed: ${errorText(err)} (zeros of its declared shape)`);
            return Infinity;
          });
          tried.push({ session, ms });
        } catch (err) {
          await session?.release();
          failures.push(`${backend.name}: ${errorText(err)}`);
          log(`Model ${label}: backend ${backend.name} skipped: ${errorText(err)}`);
        }
      }
      if (tried.length === 0) throw new Error(`model ${label}: no backend could run it (${failures.join("; ")})`);
      tried.sort((a, b) => a.ms - b.ms);
      // Untimed ones (Infinity) sort last, in the candidates' order: native first.
      const figures = tried.map((t) =>
        `${t.session.backend} ${t.ms === Infinity ? "untimed" : `${t.ms.toFixed(3)} ms`}`
      )
        .join(", ");
      const why = untimed.length === 0 ? "" : ` (under ${NATIVE_ENOUGH_MS} ms a run: ${untimed.join(", ")} not timed)`;
      log(`Model ${label}: warm-up median per run ${figures}; chose ${tried[0].session.backend}${why}`);
      const large = batching && Number.isFinite(tried[0].ms)
        ? await timeLargeBatches(tried, batching, label, log)
        : undefined;
      for (const t of tried.slice(1)) if (t.session !== large?.session) await t.session.release();
      const chosen = withFigures(tried[0].session, {
        warmupMs: Object.fromEntries(tried.filter((t) => t.ms !== Infinity).map((t) => [t.session.backend, t.ms])),
      });
      return large ? splitByRows(chosen, large.session, large.largeBatches) : chosen;
    },
  };
}

/**
 * Times every batching runtime among the others at a batch of min(BATCH_MAX_ROWS, LARGE_BATCH_ROWS) rows, against
 * the one-row winner's (`tried[0]`) time at one row times the rows: a CPU runtime's time grows about in step with
 * the rows (native CPU on the H200: 110–140 images/s at any batch), and timing it would hold the serving thread
 * for seconds where it runs there. The fastest there, if it beats the winner, is returned to run the batches from
 * where the two cross. Where the winner runs on the serving thread, the smaller batches it keeps are bounded so
 * that one blocks that thread no longer than OFF_THREAD_MIN_MS (the bound a single run has). Models whose batch dim
 * is fixed are left alone.
 */
async function timeLargeBatches(
  tried: readonly { session: ModelSession; ms: number }[],
  batching: AutoBatching,
  label: string,
  log: (line: string) => void,
): Promise<{ session: ModelSession; largeBatches: LargeBatches } | undefined> {
  const [small, ...others] = tried;
  const rows = Math.min(batching.maxRows, LARGE_BATCH_ROWS);
  const gpus = others.filter((t) => batching.backends.includes(t.session.backend));
  const freeBatchDim = small.session.inputs.every((i) => fixedBatchDim(i) === undefined);
  if (gpus.length === 0 || rows < 2 || !freeBatchDim) return undefined;
  const estimate = small.ms * rows;
  const ms: Record<string, number> = { [small.session.backend]: Math.round(estimate * 1000) / 1000 };
  let best: typeof small | undefined;
  for (const t of gpus) {
    try {
      ms[t.session.backend] = await timeRuns(t.session.inputs, (feeds) => t.session.run(feeds), estimate, {
        rows,
        minRuns: 3,
      });
    } catch (err) {
      log(`Model ${label}: backend ${t.session.backend} not timed at ${rows} rows: ${errorText(err)}`);
      continue;
    }
    if (!best || ms[t.session.backend] < ms[best.session.backend]) best = t;
  }
  const figures = Object.entries(ms).map(([name, m]) => `${name} ${m.toFixed(3)} ms`).join(", ") +
    ` (${small.session.backend}: ${rows} × its one-row time)`;
  const crossing = best &&
    largeFromRows({ at1: small.ms, atRows: estimate }, { at1: best.ms, atRows: ms[best.session.backend] }, rows);
  if (!best || crossing === undefined) {
    log(`Model ${label}: median per run of ${rows} rows ${figures}; batches stay on ${small.session.backend}`);
    return undefined;
  }
  const bound = small.session.offThread ? rows : Math.max(2, Math.floor(OFF_THREAD_MIN_MS / small.ms) + 1);
  const fromRows = Math.min(crossing, bound);
  const why = fromRows < crossing
    ? ` (the lines cross at ${crossing}: fewer, so that a batch holds the serving thread at most ${OFF_THREAD_MIN_MS} ms)`
    : "";
  log(
    `Model ${label}: median per run of ${rows} rows ${figures}; runs of ${fromRows} rows or more go to ${best.session.backend}${why}`,
  );
  return { session: best.session, largeBatches: { backend: best.session.backend, fromRows, timedRows: rows, ms } };
}
