/**
 * @module
 * A ModelSession over any onnxruntime flavour (onnxruntime-web,
 * onnxruntime-node): both implement onnxruntime-common's InferenceSession and
 * Tensor. Runs can be serialised per session (ort-web crashes when they
 * overlap, docs/runtime-notes.md), all but the readback of outputs left on
 * the GPU; errors are sorted into the runtime failing (500) and
 * the model refusing the input (400).
 */
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { BadInput, errorText } from "../errors.ts";
import type { ModelSession } from "./backend.ts";
import { type DType, type HostTensor, type TensorSpec, TYPED_ARRAY } from "./tensor.ts";

/** The Tensor constructor of the runtime in use. */
export type TensorConstructor = new (type: Tensor.Type, data: Tensor.DataType, dims: readonly number[]) => Tensor;

/** A runtime session wrapped as a ModelSession. */
export class OrtSession implements ModelSession {
  readonly backend: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly #session: InferenceSession;
  readonly #Tensor: TensorConstructor;
  readonly #serialise: boolean;
  #tail: Promise<unknown> = Promise.resolve();
  /** Runs reading their outputs back: release waits for them. */
  readonly #collecting = new Set<Promise<unknown>>();

  /** Throws (the caller releases `session`) when the model has inputs or outputs tern cannot serve. */
  constructor(session: InferenceSession, tensor: TensorConstructor, options: OrtSessionOptions) {
    this.#session = session;
    this.#Tensor = tensor;
    this.#serialise = options.serialise;
    this.backend = options.backend;
    this.inputs = session.inputMetadata.map(toSpec);
    this.outputs = session.outputMetadata.map(toSpec);
  }

  /**
   * Runs the model. Serialised sessions queue the runtime's run only: outputs left on the GPU are read back
   * outside the queue, so the next run is computed while this one waits for its readback (10 ms at least).
   */
  async run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    if (!this.#serialise) return collectOutputs(await this.#runtimeRun(feeds));
    const ran = this.#tail.then(() => this.#runtimeRun(feeds));
    this.#tail = ran.catch(() => {});
    const collected = ran.then((out) => collectOutputs(out));
    this.#collecting.add(collected);
    try {
      return await collected;
    } finally {
      this.#collecting.delete(collected);
    }
  }

  async #runtimeRun(feeds: Record<string, HostTensor>): Promise<InferenceSession.ReturnType> {
    try {
      const ortFeeds: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        ortFeeds[name] = new this.#Tensor(t.type, t.data as Tensor.DataType, t.dims);
      }
      return await this.#session.run(ortFeeds);
    } catch (err) {
      throw runError(this.backend, err);
    }
  }

  async release(): Promise<void> {
    await this.#tail;
    await Promise.allSettled(this.#collecting);
    await this.#session.release();
  }
}

/** How an OrtSession runs. */
export interface OrtSessionOptions {
  /** Name shown in `/models`. */
  backend: string;
  /** Runs wait for the one before (ort-web). */
  serialise: boolean;
}

/** A runtime's run failure, sorted: a WASM trap or abort is the runtime failing (500), anything else ort refusing the tensors (400). */
export function runError(backend: string, err: unknown): Error {
  if (err instanceof WebAssembly.RuntimeError || /abort/i.test(errorText(err))) {
    return new Error(`${backend} runtime failed while running the model: ${errorText(err)}`);
  }
  // Shape checks inside the graph: the caller's data.
  return new BadInput(`the model rejected the input: ${errorText(err)}`, "model_rejected_input");
}

/** A run's outputs as host tensors, read back from the GPU first where they were left there. */
export async function collectOutputs(out: InferenceSession.ReturnType): Promise<Record<string, HostTensor>> {
  const outputs = Object.values(out).some((t) => t.location === "gpu-buffer")
    ? await downloadAtOnce(out)
    : Object.entries(out).map(([name, t]) => [name, t.data] as const);
  const result: Record<string, HostTensor> = {};
  for (const [name, value] of outputs) {
    const t = out[name];
    let data = value as HostTensor["data"] | Float16Array;
    // HostTensor keeps float16 as raw bits; ort hands out a Float16Array where one exists.
    if (data instanceof Float16Array) data = new Uint16Array(data.buffer, data.byteOffset, data.length);
    result[name] = { type: t.type as DType, data, dims: [...t.dims] };
  }
  return result;
}

/**
 * Reads a run's outputs back from the GPU together (their readbacks overlap), freeing every GPU buffer of the run.
 * Deno resolves a GPU buffer's mapAsync no sooner than 10 ms after the GPU is done, and ort-web reads the outputs
 * it leaves on the CPU back one after another: a 2-output model paid that twice a run.
 */
async function downloadAtOnce(out: InferenceSession.ReturnType): Promise<(readonly [string, unknown])[]> {
  const entries = Object.entries(out);
  const read = await Promise.allSettled(
    entries.map(async ([name, t]) => [name, t.location === "gpu-buffer" ? await t.getData(true) : t.data] as const),
  );
  const failed = read.find((r) => r.status === "rejected");
  if (!failed) return read.map((r) => (r as PromiseFulfilledResult<readonly [string, unknown]>).value);
  for (const [, t] of entries) if (t.location === "gpu-buffer") t.dispose(); // those not read back yet
  throw new Error(`reading the outputs back from the GPU failed: ${errorText(failed.reason)}`);
}

/**
 * Creates a runtime session with `create` and wraps it; failures name the
 * model and the runtime, and a session tern cannot serve is released.
 */
export async function openOrtSession(
  create: () => Promise<InferenceSession>,
  tensor: TensorConstructor,
  options: OrtSessionOptions & { runtime: string; label: string },
): Promise<OrtSession> {
  let session: InferenceSession;
  try {
    session = await create();
  } catch (err) {
    throw new Error(`model ${options.label}: ${options.runtime} could not load it: ${errorText(err)}`);
  }
  try {
    return new OrtSession(session, tensor, options);
  } catch (err) {
    await session.release();
    throw new Error(`model ${options.label}: ${errorText(err)}`);
  }
}

/** A runtime's input or output as a TensorSpec; throws for what tern cannot serve. */
export function toSpec(meta: InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) {
    throw new Error(`'${meta.name}' is not a tensor (a sequence or map); tern serves tensor inputs and outputs`);
  }
  if (meta.type !== "string" && !(meta.type in TYPED_ARRAY)) {
    throw new Error(`'${meta.name}' has element type ${meta.type}, which tern does not serve yet`);
  }
  return { name: meta.name, type: meta.type as DType, shape: [...meta.shape] };
}
