/**
 * @module
 * onnxruntime-web's WebGPU backend, on real GPU adapters only. Deno offers
 * WebGPU on machines without a GPU through a software adapter (llvmpipe,
 * lavapipe, SwiftShader) about 40× slower than WASM, and on Deno 2.7
 * `isFallbackAdapter` is undefined there, so adapters are also recognised by
 * their description. The WebGPU build has no `ai.onnx.ml` operators (tree
 * ensembles): such models fail to load and `auto` keeps another backend.
 * Run once on a GPU (an H200; see scripts/gpu-check.sh). Its WASM side (the kernels
 * WebGPU lacks run there) keeps to one thread, which needs no patched pthread
 * glue; the compiled binary embeds its asyncify build (the .mjs, and the .wasm
 * compressed: embedded.ts).
 * WEBGPU_ALLOW_SOFTWARE lets tests run this backend on llvmpipe. Outputs stay
 * on the GPU until the run is done and are then read back together: each
 * readback costs at least 10 ms in Deno (docs/runtime-notes.md).
 */
import type { InferenceSession } from "onnxruntime-common";
import { errorText } from "../errors.ts";
import type { Backend } from "./backend.ts";
import { openOrtSession, type TensorConstructor } from "./ort_session.ts";
import { runtimeFileBytes } from "./embedded.ts";

/** What probing found. */
export interface AdapterReport {
  /** A hardware adapter tern will use. */
  usable: boolean;
  /** Why not, or which adapter. */
  description: string;
  /** The adapter found, usable or not. */
  adapter?: string;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|software rasterizer|microsoft basic render/i;

/** Classifies an adapter by its info (hardware vs software). */
export function classifyAdapter(
  info: { vendor?: string; architecture?: string; device?: string; description?: string },
  isFallbackAdapter?: boolean,
): AdapterReport {
  const description = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(" ") ||
    "unnamed adapter";
  if (isFallbackAdapter === true || SOFTWARE.test(description)) {
    return {
      usable: false,
      description:
        `only a software adapter (${description}), which tern does not use (WEBGPU_ALLOW_SOFTWARE=true allows it, for testing)`,
      adapter: description,
    };
  }
  return { usable: true, description, adapter: description };
}

/** True when the machine shows GPU device nodes (probing WebGPU without them only prints driver noise). */
export function gpuDevicesPresent(): boolean {
  for (const path of ["/dev/nvidia0", "/dev/dri"]) {
    try {
      Deno.statSync(path);
      return true;
    } catch { /* absent */ }
  }
  return false;
}

/** Asks the runtime for a high-performance adapter and classifies it. */
export async function probeWebGpu(): Promise<AdapterReport> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) return { usable: false, description: "this runtime has no WebGPU" };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (err) {
    return { usable: false, description: `no WebGPU adapter: ${errorText(err)}` };
  }
  if (!adapter) return { usable: false, description: "no WebGPU adapter" };
  const info = adapter.info ?? {};
  return classifyAdapter(
    { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  );
}

/** Options of the WebGPU backend. */
export interface WebGpuOptions {
  /** Use a software adapter rather than refuse it (WEBGPU_ALLOW_SOFTWARE; for testing). */
  allowSoftwareAdapter?: boolean;
}

/** ort-web's WebGPU build, configured once per thread, and the adapter it runs on. */
export interface WebGpuRuntime {
  ort: typeof import("onnxruntime-web/webgpu");
  /** The adapter, as `description` names it. */
  adapter: string;
}

let runtime: Promise<typeof import("onnxruntime-web/webgpu")> | undefined;

/** Probes the adapter and configures ort-web's WebGPU build; throws with the reason when no hardware adapter is there. */
export async function webGpuRuntime(options: WebGpuOptions = {}): Promise<WebGpuRuntime> {
  const report = await probeWebGpu();
  if (!report.usable && !(options.allowSoftwareAdapter && report.adapter)) {
    throw new Error(`WebGPU unavailable: ${report.description}`);
  }
  const ort = await (runtime ??= (async () => {
    const ort = await import("onnxruntime-web/webgpu");
    // More threads would start pthread workers through the unpatched glue (docs/runtime-notes.md).
    ort.env.wasm.numThreads = 1;
    // The folder of its asyncify glue; the WASM is handed over as bytes (the object form of wasmPaths, `{ wasm }`,
    // fails to fetch it in Deno).
    const dist = new URL("./", import.meta.resolve("onnxruntime-web/webgpu"));
    ort.env.wasm.wasmPaths = dist.href;
    ort.env.wasm.wasmBinary = await runtimeFileBytes(
      new URL("ort-wasm-simd-threaded.asyncify.wasm", dist),
      "ort-wasm-simd-threaded.asyncify.wasm",
    );
    ort.env.logLevel = "error";
    return ort;
  })());
  return { ort, adapter: report.usable ? report.description : `${report.adapter} (software, WEBGPU_ALLOW_SOFTWARE)` };
}

/** Creates the WebGPU backend; throws with the reason when no hardware adapter is there. */
export async function createWebGpuBackend(options: WebGpuOptions = {}): Promise<Backend> {
  const { ort, adapter } = await webGpuRuntime(options);
  return {
    name: "webgpu",
    description: `onnxruntime-web ${ort.env.versions.web} WebGPU on ${adapter}`,
    load(model, label) {
      return openOrtSession(
        async () => {
          const create = (preferredOutputLocation: InferenceSession.SessionOptions["preferredOutputLocation"]) =>
            ort.InferenceSession.create(model, { executionProviders: ["webgpu"], preferredOutputLocation });
          const session = await create("gpu-buffer");
          const outputs = session.outputMetadata;
          if (outputs.every(staysOnGpu)) return session;
          // ort-web can leave only some types on the GPU; a run would fail on the others: they come back as usual.
          await session.release();
          return await create(Object.fromEntries(outputs.map((o) => [o.name, staysOnGpu(o) ? "gpu-buffer" : "cpu"])));
        },
        ort.Tensor as unknown as TensorConstructor,
        {
          backend: "webgpu",
          serialise: true,
          runtime: "onnxruntime-web (webgpu)",
          label,
        },
      );
    },
  };
}

/** Output types onnxruntime-web can leave on the GPU (its isGpuBufferSupportedType, less the 4-bit ones). */
const GPU_BUFFER_TYPES = new Set(["float32", "float16", "int32", "int64", "uint32", "uint8", "bool"]);

export function staysOnGpu(output: InferenceSession.ValueMetadata): boolean {
  return output.isTensor && GPU_BUFFER_TYPES.has(output.type);
}
