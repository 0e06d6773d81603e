/**
 * @module
 * The contract between the pipeline and an inference runtime. The first
 * implementation is onnxruntime-web WASM (`ort_web.ts`); WebGPU and native
 * onnxruntime backends implement the same two interfaces.
 */
import type { HostTensor, TensorSpec } from "./tensor.ts";
import type { LargeBatches } from "./rows_split.ts";

/** A model loaded into a runtime, ready to run. */
export interface ModelSession {
  /** Name of the backend running it, e.g. `wasm`, `native`. */
  readonly backend: string;
  /** Warm-up median ms per backend tried, when INFERENCE_BACKEND=auto chose it. */
  readonly warmupMs?: Readonly<Record<string, number>>;
  /** Median ms per run, when the backend timed the model at load (placed backends do, to choose its thread). */
  readonly runMs?: number;
  /** Runs happen in a worker thread of the session's own, not on the thread serving HTTP. */
  readonly offThread?: boolean;
  /** Set when large batches run on a second runtime (rows_split.ts): which, from how many rows, and why. */
  readonly largeBatches?: LargeBatches;
  /** True once the session can run no more (its worker thread died); it must be loaded again. */
  readonly failed?: boolean;
  /** Inputs as the model declares them, in model order. */
  readonly inputs: readonly TensorSpec[];
  /** Outputs as the model declares them, in model order. */
  readonly outputs: readonly TensorSpec[];
  /** Runs the model once. Calls may overlap; a backend serialises them where its runtime needs it. */
  run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  /** Frees the runtime's resources for this model. */
  release(): Promise<void>;
}

/** `session` with `figures` set (warm-up, run time, thread); runs and release go to `session`. */
export function withFigures(
  session: ModelSession,
  figures: Pick<ModelSession, "warmupMs" | "runMs" | "offThread" | "largeBatches">,
): ModelSession {
  return {
    backend: session.backend,
    inputs: session.inputs,
    outputs: session.outputs,
    warmupMs: session.warmupMs,
    runMs: session.runMs,
    offThread: session.offThread,
    largeBatches: session.largeBatches,
    ...figures,
    get failed() {
      return session.failed;
    },
    run: (feeds) => session.run(feeds),
    release: () => session.release(),
  };
}

/** An inference runtime that turns ONNX bytes into sessions. */
export interface Backend {
  /** Short name shown in `/models` and start-up lines, e.g. `wasm`. */
  readonly name: string;
  /** Human description, e.g. `onnxruntime-web 1.30.0 wasm, 2 threads`. */
  readonly description: string;
  /**
   * Loads an ONNX model; `label` names it in errors. A backend that times the model as it loads (`runMs`) may stop
   * timing once it is clearly slower than `beatMs` (ms per run; `auto`'s leader so far).
   */
  load(model: Uint8Array, label: string, beatMs?: number): Promise<ModelSession>;
  /**
   * Starts what the next load needs before it is asked for (the native backend's worker thread), so that it
   * boots while the rest of start-up runs. Only for a process that will load a model next: what it starts
   * lives until that load. Settles (never rejects) once what it started is ready or has failed: a process
   * must not exit before, as onnxruntime aborts it when torn down mid-load.
   */
  prewarm?(): Promise<void>;
}
