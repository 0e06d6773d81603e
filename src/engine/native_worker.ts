/**
 * @module
 * A worker thread that holds one native onnxruntime session (see
 * off_thread.ts). onnxruntime-node runs a model synchronously on the calling
 * thread, so a long model on the serving thread held every other request,
 * `/health` included, until it finished. Requests are handled one at a time.
 */
import { errorText, TernError } from "../errors.ts";
import type { ModelSession } from "./backend.ts";
import { createOrtNativeBackend, type OrtNativeOptions } from "./ort_native.ts";
import type { HostTensor, TensorSpec } from "./tensor.ts";
import { timeRuns } from "./warmup.ts";
import { answerRequests } from "../worker_channel.ts";
import { WARM_UP_MODEL } from "./warm_up_model.ts";

/** A request to the worker. */
export type NativeWorkerRequest =
  | { id: number; op: "init"; options: OrtNativeOptions }
  | { id: number; op: "load"; options: OrtNativeOptions; model: Uint8Array; label: string }
  | { id: number; op: "run"; feeds: Record<string, HostTensor> }
  | { id: number; op: "release" };

/** The worker's answer to request `id`. */
export interface NativeWorkerReply {
  id: number;
  /** The failure; `code` when it was the caller's input (a TernError). */
  error?: { message: string; status?: number; code?: string };
  inputs?: readonly TensorSpec[];
  outputs?: readonly TensorSpec[];
  /** Median ms per run on zeros, unless the model refused them. */
  runMs?: number;
  result?: Record<string, HostTensor>;
}

let session: ModelSession | undefined;

async function handle(request: NativeWorkerRequest): Promise<Omit<NativeWorkerReply, "id">> {
  switch (request.op) {
    case "init": { // readies the runtime ahead of the first model (a prewarmed worker, off_thread.ts)
      const warm = await (await createOrtNativeBackend(request.options)).load(WARM_UP_MODEL, "warm-up");
      await warm.release();
      return {};
    }
    case "load": {
      session = await (await createOrtNativeBackend(request.options)).load(request.model, request.label);
      const loaded = session;
      // A model may refuse zeros of its declared shape: then its time is unknown (and it serves on the main thread).
      const runMs = await timeRuns(loaded.inputs, (feeds) => loaded.run(feeds)).catch(() => undefined);
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
