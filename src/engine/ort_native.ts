/**
 * @module
 * Native onnxruntime (onnxruntime-node) backend: CPU, or CUDA where the
 * device's own onnxruntime GPU libraries provide the CUDA execution provider
 * (onnxruntime-node's package ships CPU libraries only). About 7× faster than
 * WASM on CNNs on this CPU. Intra-op threads come from CONFIG_CPUS.
 *
 * In the compiled binary Deno extracts only `onnxruntime_binding.node`, not
 * the `libonnxruntime.so.1` beside it, so the library is dlopen'ed first and
 * the addon then finds it by SONAME (DESIGN.md §4).
 */
import type * as OrtNode from "onnxruntime-node";
import { fileURLToPath } from "node:url";
import type { Backend } from "./backend.ts";
import { errorText, OrtSession, type TensorConstructor } from "./ort_session.ts";

/** Options of the native backend. */
export interface OrtNativeOptions {
  /** Intra-op threads (CONFIG_CPUS). */
  threads: number;
  /** Use the CUDA execution provider (INFERENCE_BACKEND=cuda). */
  cuda?: boolean;
}

let runtime: Promise<typeof OrtNode> | undefined;
let keepLibraryLoaded: unknown;

const PLATFORM: Record<string, string> = { linux: "linux", darwin: "darwin", windows: "win32" };
const ARCH: Record<string, string> = { x86_64: "x64", aarch64: "arm64" };

/** Loads onnxruntime-node once; throws with the reason when this platform has no native runtime. */
function loadRuntime(): Promise<typeof OrtNode> {
  return runtime ??= (async () => {
    const dir = new URL(
      `../bin/napi-v6/${PLATFORM[Deno.build.os]}/${ARCH[Deno.build.arch]}/`,
      import.meta.resolve("onnxruntime-node"),
    );
    if (Deno.build.os === "linux") {
      try {
        keepLibraryLoaded = Deno.dlopen(fileURLToPath(new URL("libonnxruntime.so.1", dir)), {});
      } catch (err) {
        throw new Error(`native onnxruntime is not available here: ${errorText(err)}`);
      }
    }
    return await import("onnxruntime-node");
  })();
}

/** Creates the native backend (loading onnxruntime-node on first use). */
export async function createOrtNativeBackend(options: OrtNativeOptions): Promise<Backend> {
  const ort = await loadRuntime();
  void keepLibraryLoaded;
  const threads = Math.max(1, Math.floor(options.threads));
  const name = options.cuda ? "cuda" : "native";
  return {
    name,
    description: `onnxruntime-node ${ort.env.versions.common} ${options.cuda ? "CUDA" : "CPU"}, ${threads} thread${
      threads === 1 ? "" : "s"
    }`,
    async load(model, label) {
      let session: OrtNode.InferenceSession;
      try {
        session = await ort.InferenceSession.create(model, {
          executionProviders: options.cuda ? ["cuda"] : ["cpu"],
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          graphOptimizationLevel: "all",
        });
      } catch (err) {
        throw new Error(`model ${label}: onnxruntime-node (${name}) could not load it: ${errorText(err)}`);
      }
      try {
        return new OrtSession(session, ort.Tensor as unknown as TensorConstructor, { backend: name, serialise: false });
      } catch (err) {
        await session.release();
        throw new Error(`model ${label}: ${errorText(err)}`);
      }
    },
  };
}
