/**
 * @module
 * onnxruntime-web WASM backend. The runtime is process-wide (one WASM
 * instance, thread count fixed before the first session), so the backend is
 * created once. Runs on one session are serialised: overlapping `run()` calls
 * crash ort-web's WASM instance (DESIGN.md §4).
 *
 * @example
 * const backend = await createOrtWebWasmBackend({ threads: 2 });
 * const session = await backend.load(bytes, "house-price-estimator");
 * const out = await session.run({ tensor: { type: "float32", data, dims: [1, 18] } });
 */
import * as ort from "onnxruntime-web";
import { BadInput } from "../errors.ts";
import type { Backend, ModelSession } from "./backend.ts";
import { type DType, type HostTensor, type TensorSpec, TYPED_ARRAY } from "./tensor.ts";

/** Options of the WASM backend. */
export interface OrtWebWasmOptions {
  /** WASM threads (CONFIG_CPUS). */
  threads: number;
}

/**
 * The patched pthread glue (see scripts/patch_ort_glue.ts) and the package's
 * own WASM binary, both embedded in the compiled binary with `--include`.
 */
const GLUE_URL = new URL(
  "./ort_web_glue/ort-wasm-simd-threaded.mjs",
  import.meta.url,
);
const WASM_URL = new URL(
  "./ort-wasm-simd-threaded.wasm",
  import.meta.resolve("onnxruntime-web"),
);

let configuredThreads: number | undefined;

/** Configures ort-web's process-wide WASM runtime and returns a backend over it. */
export function createOrtWebWasmBackend(options: OrtWebWasmOptions): Backend {
  const threads = Math.max(1, Math.floor(options.threads));
  if (configuredThreads !== undefined && configuredThreads !== threads) {
    throw new Error(
      `onnxruntime-web WASM is already configured with ${configuredThreads} threads; it cannot change in one process`,
    );
  }
  configuredThreads = threads;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = { mjs: GLUE_URL.href, wasm: WASM_URL.href };
  ort.env.logLevel = "error";
  return {
    name: "wasm",
    description: `onnxruntime-web ${ort.env.versions.web} wasm, ${threads} thread${threads === 1 ? "" : "s"}`,
    async load(model, label) {
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(model, {
          executionProviders: ["wasm"],
          graphOptimizationLevel: "all",
        });
      } catch (err) {
        throw new Error(
          `model ${label}: onnxruntime-web could not load it: ${errorText(err)}`,
        );
      }
      try {
        return new OrtWebSession(session);
      } catch (err) {
        await session.release();
        throw new Error(`model ${label}: ${errorText(err)}`);
      }
    },
  };
}

class OrtWebSession implements ModelSession {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  #session: ort.InferenceSession;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(session: ort.InferenceSession) {
    this.#session = session;
    this.inputs = session.inputMetadata.map(toSpec);
    this.outputs = session.outputMetadata.map(toSpec);
  }

  run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    const result = this.#tail.then(() => this.#runNow(feeds));
    this.#tail = result.catch(() => {});
    return result;
  }

  async #runNow(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    let out: ort.InferenceSession.ReturnType;
    try {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        ortFeeds[name] = new ort.Tensor(t.type, t.data as ort.Tensor.DataType, t.dims);
      }
      out = await this.#session.run(ortFeeds);
    } catch (err) {
      // A WASM trap or abort is the runtime failing, not the request: report it as such (500).
      if (err instanceof WebAssembly.RuntimeError || /abort/i.test(errorText(err))) {
        throw new Error(`onnxruntime-web failed while running the model: ${errorText(err)}`);
      }
      // Otherwise ort refused the tensors (shape checks inside the graph): the caller's data.
      throw new BadInput(`the model rejected the input: ${errorText(err)}`, "model_rejected_input");
    }
    const result: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(out)) {
      let data = t.data as HostTensor["data"] | Float16Array;
      // HostTensor keeps float16 as raw bits; ort-web hands out a Float16Array where one exists.
      if (data instanceof Float16Array) data = new Uint16Array(data.buffer, data.byteOffset, data.length);
      result[name] = { type: t.type as DType, data, dims: [...t.dims] };
    }
    return result;
  }

  async release(): Promise<void> {
    await this.#tail;
    await this.#session.release();
  }
}

function toSpec(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) {
    throw new Error(
      `'${meta.name}' is not a tensor (a sequence or map); tern serves tensor inputs and outputs`,
    );
  }
  if (meta.type !== "string" && !(meta.type in TYPED_ARRAY)) {
    throw new Error(`'${meta.name}' has element type ${meta.type}, which tern does not serve yet`);
  }
  return { name: meta.name, type: meta.type as DType, shape: [...meta.shape] };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
