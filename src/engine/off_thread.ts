/**
 * @module
 * Backends with slow models kept off the serving thread. Every runtime holds
 * the thread that runs a model for the length of the run (model_worker.ts):
 * a native model taking 18 ms made `/health` wait 33 ms (p50) behind 4
 * queued inferences, a 200 ms CNN on WASM or a 2 s one on a software GPU let
 * no timer fire for as long, and a model taking seconds would fail liveness
 * probes. So each model is first loaded and timed in a worker thread of its
 * own; one whose run takes at least OFF_THREAD_MIN_MS stays there, a faster
 * one is loaded on the serving thread instead. The hop costs about 1 ms per
 * run for a 600 KB image (its copy to the worker and the wake-up, measured on
 * 2 cores): 5 % of an 18 ms CNN, which therefore stays on the serving thread,
 * at most 2 % past the threshold, and far too much for a 6 µs forest. A model
 * that cannot be timed on zeros (it may refuse them) is served on the serving
 * thread, as before this existed.
 */
import { BadInput, TernError } from "../errors.ts";
import { type Backend, type ModelSession, withFigures } from "./backend.ts";
import type { ModelWorkerReply, ModelWorkerRequest, WorkerRuntime } from "./model_worker.ts";
import { createOrtNativeBackend, type OrtNativeOptions } from "./ort_native.ts";
import { startWorkerChannel, type WorkerChannel } from "../worker_channel.ts";

/** Runs at least this long (median ms at load) stay in a worker thread. */
export const OFF_THREAD_MIN_MS = 50;

/** Unsent request: the worker channel numbers it. */
type Unsent = ModelWorkerRequest extends infer R ? R extends ModelWorkerRequest ? Omit<R, "id"> : never : never;

/** How a placed backend places. */
export interface Placement {
  /** Runs at least this long (median ms at load) stay in a worker thread (default OFF_THREAD_MIN_MS). */
  minMs?: number;
  /**
   * `prewarm` boots a worker and its runtime for the next load (default true). Off where the next load may never
   * come to this backend (`auto`'s ort-web candidates: a WASM runtime's start is a third of a second of CPU).
   */
  prewarm?: boolean;
}

/** The native (CPU or CUDA) backend, placing each model on or off the serving thread by its run time. */
export async function createPlacedNativeBackend(
  options: OrtNativeOptions,
  minMs = OFF_THREAD_MIN_MS,
): Promise<Backend> {
  const inProcess = await createOrtNativeBackend(options); // fails here, at start-up, when the runtime is missing
  return createPlacedBackend(inProcess, { kind: "native", options }, { minMs });
}

/**
 * `inProcess`, placing each model on or off the serving thread by its run time; off it, the model runs on `runtime`
 * in a worker thread of its own (model_worker.ts). `inProcess` and `runtime` must be the same runtime.
 */
export function createPlacedBackend(
  inProcess: Backend,
  runtime: WorkerRuntime,
  { minMs = OFF_THREAD_MIN_MS, prewarm = true }: Placement = {},
): Backend {
  // A worker started by prewarm, runtime loaded, for the next load: booting one took 150–250 ms of the demo's start.
  let spare: ModelWorker | undefined;
  let warming: Promise<void> = Promise.resolve();
  return {
    name: inProcess.name,
    description: `${inProcess.description}; models slower than ${minMs} ms per run each in a worker thread`,
    prewarm: prewarm
      ? () => {
        if (spare) return warming;
        spare = startModelWorker();
        // A failure shows again, and is reported, in the load.
        warming = spare.call({ op: "init", runtime }).then(() => {}, () => {});
        return warming;
      }
      : undefined,
    async load(model, label, beatMs) {
      if (spare?.failed) spare.terminate(); // it died warming up: this load gets a fresh one
      const worker = spare && !spare.failed ? spare : startModelWorker();
      spare = undefined;
      let loaded: ModelWorkerReply;
      try {
        loaded = await worker.call({ op: "load", runtime, model, label, beatMs });
      } catch (err) {
        worker.terminate();
        throw err;
      }
      if (loaded.runMs !== undefined && loaded.runMs >= minMs) return offThreadSession(worker, inProcess.name, loaded);
      await worker.call({ op: "release" }).catch(() => {});
      worker.terminate();
      const session = await inProcess.load(model, label);
      return withFigures(session, { runMs: loaded.runMs, offThread: false });
    },
  };
}

function offThreadSession(worker: ModelWorker, backend: string, loaded: ModelWorkerReply): ModelSession {
  return {
    backend,
    inputs: loaded.inputs!,
    outputs: loaded.outputs!,
    runMs: loaded.runMs,
    offThread: true,
    get failed() {
      return worker.failed;
    },
    run: async (feeds) => (await worker.call({ op: "run", feeds })).result!,
    release: async () => {
      await worker.call({ op: "release" }).catch(() => {});
      worker.terminate();
    },
  };
}

/** A model_worker's request channel. */
type ModelWorker = WorkerChannel<Unsent, ModelWorkerReply>;

/** Starts a model_worker; its errors come back as the classes tern maps to HTTP statuses. */
function startModelWorker(): ModelWorker {
  return startWorkerChannel<Unsent, ModelWorkerReply>(
    new URL("./model_worker.ts", import.meta.url),
    "a model's worker thread",
    ({ error }) => {
      if (!error) return undefined;
      if (error.status === 400) return new BadInput(error.message, error.code);
      if (error.status !== undefined) return new TernError(error.message, error.status, error.code ?? "error");
      return new Error(error.message);
    },
  );
}
