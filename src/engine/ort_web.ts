/**
 * @module
 * onnxruntime-web WASM backend. The runtime is process-wide (one WASM
 * instance, thread count fixed before the first session), so the backend is
 * created once. Runs on one session are serialised: overlapping `run()` calls
 * crash ort-web's WASM instance (docs/runtime-notes.md).
 *
 * @example
 * const backend = await createOrtWebWasmBackend({ threads: 2 });
 * const session = await backend.load(bytes, "house-price-estimator");
 * const out = await session.run({ tensor: { type: "float32", data, dims: [1, 18] } });
 */
import type { Backend } from "./backend.ts";
import { openOrtSession, type TensorConstructor } from "./ort_session.ts";
import { runtimeFileBytes } from "./embedded.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** ort-web's version, as deno.json pins it (the package itself loads with the first session). */
const ORT_WEB_VERSION = denoJson.imports["onnxruntime-web"].replace(/^npm:onnxruntime-web@/, "");

/** Options of the WASM backend. */
export interface OrtWebWasmOptions {
  /** WASM threads (CONFIG_CPUS). */
  threads: number;
}

/**
 * The patched pthread glue (see scripts/patch_ort_glue.ts), embedded in the
 * compiled binary with `--include`, and the package's own WASM binary, which
 * the binary carries compressed (embedded.ts).
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
let runtime: Promise<typeof import("onnxruntime-web")> | undefined;

/**
 * ort-web, configured, with its WASM binary's bytes handed over before the
 * first session starts the runtime. Imported here, not at start-up: a
 * process whose models all run on native never loads it.
 */
function ortWeb(threads: number): Promise<typeof import("onnxruntime-web")> {
  return runtime ??= (async () => {
    const [ort, bytes] = await Promise.all([
      import("onnxruntime-web"),
      runtimeFileBytes(WASM_URL, "ort-wasm-simd-threaded.wasm"),
    ]);
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.wasmPaths = { mjs: GLUE_URL.href };
    ort.env.logLevel = "error";
    ort.env.wasm.wasmBinary = bytes;
    return ort;
  })();
}

/** A backend over ort-web's process-wide WASM runtime, which starts (with `threads`) on the first load. */
export function createOrtWebWasmBackend(options: OrtWebWasmOptions): Backend {
  const threads = Math.max(1, Math.floor(options.threads));
  if (configuredThreads !== undefined && configuredThreads !== threads) {
    throw new Error(
      `onnxruntime-web WASM is already configured with ${configuredThreads} threads; it cannot change in one process`,
    );
  }
  configuredThreads = threads;
  return {
    name: "wasm",
    description: `onnxruntime-web ${ORT_WEB_VERSION} wasm, ${threads} thread${threads === 1 ? "" : "s"}`,
    async load(model, label) {
      const ort = await ortWeb(threads);
      return await openOrtSession(
        () => ort.InferenceSession.create(model, { executionProviders: ["wasm"], graphOptimizationLevel: "all" }),
        ort.Tensor as unknown as TensorConstructor,
        {
          backend: "wasm",
          serialise: true,
          runtime: "onnxruntime-web",
          label,
        },
      );
    },
  };
}
