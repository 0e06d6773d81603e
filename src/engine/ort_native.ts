/**
 * @module
 * Native onnxruntime (onnxruntime-node) backend: CPU, or CUDA where the
 * device's own onnxruntime GPU libraries provide the CUDA execution provider
 * (onnxruntime-node's package ships CPU libraries only). About 7× faster than
 * WASM on CNNs on this CPU. Intra-op threads come from CONFIG_CPUS.
 *
 * In the compiled binary Deno extracts only `onnxruntime_binding.node`, not
 * the `libonnxruntime.so.1` beside it, so the library (which the binary
 * carries compressed, embedded.ts) is extracted and dlopen'ed first and the
 * addon then finds it by SONAME (docs/runtime-notes.md).
 */
import { errorText } from "../errors.ts";
import type * as OrtNode from "onnxruntime-node";
import { fileURLToPath } from "node:url";
import type { Backend } from "./backend.ts";
import { nativeLibraryPath } from "./embedded.ts";
import { openOrtSession, type TensorConstructor } from "./ort_session.ts";

/** Options of the native backend. */
export interface OrtNativeOptions {
  /** Intra-op threads (CONFIG_CPUS). */
  threads: number;
  /** Use the CUDA execution provider (INFERENCE_BACKEND=cuda). */
  cuda?: boolean;
  /** ONNXRUNTIME_LIB_DIR: an onnxruntime build to load instead of the packaged CPU one. */
  libDir?: string;
}

let runtime: Promise<typeof OrtNode> | undefined;
let keepLibraryLoaded: unknown;

/** onnxruntime's switch for its telemetry (POSIX builds, 1.29 and later). */
export const TELEMETRY_SWITCH = "ORT_DISABLE_TELEMETRY";

/**
 * Turns onnxruntime's telemetry off before the library starts. onnxruntime
 * 1.29+ starts Microsoft's 1DS telemetry when its environment is created: it
 * uploads usage events over HTTPS wherever a CA bundle is readable, and writes
 * a device id and an event cache under ~/.cache/Microsoft/DeveloperTools, a
 * `.ses` file and an empty `mat-debug-<pid>.log` in $TMPDIR. With
 * ORT_DISABLE_TELEMETRY=1 set before then, none of it starts; the library
 * reads it once per process (onnxruntime-node has no API for it). The
 * environment is the process's, so this covers the serving thread and every
 * native worker thread; it is set whatever the operator's environment says.
 */
export function disableOrtTelemetry(): void {
  try {
    if (Deno.env.get(TELEMETRY_SWITCH) !== "1") Deno.env.set(TELEMETRY_SWITCH, "1");
  } catch (err) {
    throw new Error(`cannot turn onnxruntime's telemetry off (${TELEMETRY_SWITCH}=1): ${errorText(err)}`);
  }
}

const PLATFORM: Record<string, string> = { linux: "linux", darwin: "darwin", windows: "win32" };
const ARCH: Record<string, string> = { x86_64: "x64", aarch64: "arm64" };

/**
 * Loads onnxruntime-node once; throws with the reason when this platform has
 * no native runtime; its telemetry is off (disableOrtTelemetry). With `libDir` (ONNXRUNTIME_LIB_DIR) its
 * libonnxruntime.so.1 is loaded instead of the packaged CPU one: a GPU build of
 * the same version brings the CUDA execution provider (its
 * libonnxruntime_providers_*.so files beside it).
 */
function loadRuntime(libDir?: string): Promise<typeof OrtNode> {
  return runtime ??= (async () => {
    disableOrtTelemetry();
    const packaged = new URL(
      `../bin/napi-v6/${PLATFORM[Deno.build.os]}/${ARCH[Deno.build.arch]}/`,
      import.meta.resolve("onnxruntime-node"),
    );
    if (Deno.build.os === "linux") {
      let library = libDir
        ? `${libDir.replace(/\/+$/, "")}/libonnxruntime.so.1`
        : fileURLToPath(new URL("libonnxruntime.so.1", packaged));
      try {
        if (!libDir) library = await nativeLibraryPath(library, `libonnxruntime.so.1-${ARCH[Deno.build.arch]}`);
        keepLibraryLoaded = Deno.dlopen(library, {});
      } catch (err) {
        throw new Error(`native onnxruntime is not available here (${library}): ${errorText(err)}`);
      }
    }
    return await import("onnxruntime-node");
  })();
}

/** Why CUDA cannot be used with `libDir`, or undefined when its provider library is there. */
export function cudaUnavailable(libDir: string | undefined): string | undefined {
  if (!libDir) {
    return "onnxruntime-node ships CPU libraries only: set ONNXRUNTIME_LIB_DIR to the folder of an onnxruntime GPU build (libonnxruntime.so.1 and libonnxruntime_providers_cuda.so, same version)";
  }
  try {
    Deno.statSync(`${libDir.replace(/\/+$/, "")}/libonnxruntime_providers_cuda.so`);
    return undefined;
  } catch {
    return `ONNXRUNTIME_LIB_DIR=${libDir} has no libonnxruntime_providers_cuda.so`;
  }
}

/** Creates the native backend (loading onnxruntime-node on first use). */
export async function createOrtNativeBackend(options: OrtNativeOptions): Promise<Backend> {
  if (options.cuda) {
    const why = cudaUnavailable(options.libDir);
    if (why) throw new Error(`CUDA unavailable: ${why}`);
  }
  const ort = await loadRuntime(options.libDir);
  void keepLibraryLoaded;
  const threads = Math.max(1, Math.floor(options.threads));
  const name = options.cuda ? "cuda" : "native";
  return {
    name,
    description: `onnxruntime-node ${ort.env.versions.common} ${options.cuda ? "CUDA" : "CPU"}, ${threads} thread${
      threads === 1 ? "" : "s"
    }`,
    load(model, label) {
      return openOrtSession(
        () =>
          ort.InferenceSession.create(model, {
            executionProviders: options.cuda ? ["cuda"] : ["cpu"],
            intraOpNumThreads: threads,
            interOpNumThreads: 1,
            graphOptimizationLevel: "all",
            // onnxruntime's own log would print every refused input in red on stderr; the error reaches the
            // client (400) and tern's log through the exception instead. 4 = fatal only.
            logSeverityLevel: 4,
          }),
        ort.Tensor as unknown as TensorConstructor,
        {
          backend: name,
          serialise: false,
          runtime: `onnxruntime-node (${name})`,
          label,
        },
      );
    },
  };
}
