/**
 * @module
 * A worker thread that holds one model's session (see off_thread.ts), on the runtime it is told: native
 * onnxruntime, onnxruntime-web's WASM or its WebGPU. Each of them holds the thread that runs a model for the
 * length of the run: onnxruntime-node runs it synchronously, ort-web's WASM computes on the calling thread, and
 * Deno's WebGPU waits for the GPU on it (GPUBuffer.mapAsync polls the device until the work is done). On the serving
 * thread a slow model held every other request, `/health` included, until it finished. Requests are handled one at
 * a time.
 */
import { errorText, TernError } from "../errors.ts";
import type { Backend, ModelSession } from "./backend.ts";
import { createOrtNativeBackend, type OrtNativeOptions } from "./ort_native.ts";
import type { OrtWebWasmOptions } from "./ort_web.ts";
import type { WebGpuOptions } from "./webgpu.ts";
import type { HostTensor, TensorSpec } from "./tensor.ts";
import { timeRuns } from "./warmup.ts";
import { answerRequests } from "../worker_channel.ts";
import { WARM_UP_MODEL } from "./warm_up_model.ts";

/** The runtime a model worker runs its model on, and its options. */
export type WorkerRuntime =
  | { kind: "native"; options: OrtNativeOptions }
  | { kind: "wasm"; options: OrtWebWasmOptions }
  | { kind: "webgpu"; options: WebGpuOptions };

/** A request to the worker. */
export type ModelWorkerRequest =
  | { id: number; op: "init"; runtime: WorkerRuntime }
  | { id: number; op: "load"; runtime: WorkerRuntime; model: Uint8Array; label: string; beatMs?: number }
  | { id: number; op: "run"; feeds: Record<string, HostTensor> }
  | { id: number; op: "release" };

/** The worker's answer to request `id`. */
export interface ModelWorkerReply {
  id: number;
  /** The failure; `code` when it was the caller's input (a TernError). */
  error?: { message: string; status?: number; code?: string };
  inputs?: readonly TensorSpec[];
  outputs?: readonly TensorSpec[];
  /** Median ms per run on zeros (or, given `beatMs`, the time that lost to it), unless the model refused zeros. */
  runMs?: number;
  result?: Record<string, HostTensor>;
}

let backend: Promise<Backend> | undefined;
let session: ModelSession | undefined;

/** This worker's runtime, started on the first request (ort-web's are loaded only in workers that use them). */
function backendFor(runtime: WorkerRuntime): Promise<Backend> {
  return backend ??= (async () => {
    switch (runtime.kind) {
      case "native":
        return await createOrtNativeBackend(runtime.options);
      case "wasm":
        return (await import("./ort_web.ts")).createOrtWebWasmBackend(runtime.options);
      case "webgpu":
        // ort-web's WebGPU bundle resolves its own URL against `location.origin`, which a worker has, and which is
        // the string "null" for a file: URL: the URL does not parse and no session starts. The serving thread has
        // no `location`; nothing in this worker needs it.
        Object.defineProperty(globalThis, "location", { value: undefined, configurable: true });
        return await (await import("./webgpu.ts")).createWebGpuBackend(runtime.options);
    }
  })();
}

async function handle(request: ModelWorkerRequest): Promise<Omit<ModelWorkerReply, "id">> {
  switch (request.op) {
    case "init": { // readies the runtime ahead of the first model (a prewarmed worker, off_thread.ts)
      const warm = await (await backendFor(request.runtime)).load(WARM_UP_MODEL, "warm-up");
      await warm.release();
      return {};
    }
    case "load": {
      session = await (await backendFor(request.runtime)).load(request.model, request.label);
      const loaded = session;
      // A model may refuse zeros of its declared shape: then its time is unknown (and it serves on the main thread).
      const runMs = await timeRuns(loaded.inputs, (feeds) => loaded.run(feeds), request.beatMs)
        .catch(() => undefined);
      return { inputs: loaded.inputs, outputs: loaded.outputs, runMs };
    }
    case "run":
      if (!session) throw new Error("no model is loaded in this worker");
      return { result: await session.run(request.feeds) };
    case "release":
      await session?.release();
      session = undefined;
      return {};
  }
}

answerRequests(
  handle,
  (err) =>
    err instanceof TernError
      ? { message: err.message, status: err.status, code: err.code }
      : { message: errorText(err) },
);
