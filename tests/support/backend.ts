/**
 * @module
 * The WASM backend for in-process tests. onnxruntime-web's runtime is
 * process-wide (its thread count is fixed by the first session), so every
 * test file shares this one.
 */
import type { Backend } from "../../src/engine/backend.ts";
import { createOrtWebWasmBackend } from "../../src/engine/ort_web.ts";

let backend: Backend | undefined;

/** The shared onnxruntime-web WASM backend (2 threads, like a 2-core edge box). */
export function wasmBackend(): Backend {
  return backend ??= createOrtWebWasmBackend({ threads: 2 });
}

/**
 * Deno.test for tests that load an onnxruntime: onnxruntime-web's pthread
 * workers and onnxruntime-node's dlopen'ed library start with the first
 * session of the process and live as long as it, which Deno's op/resource
 * sanitizers would report as a leak of whichever test came first.
 */
export function ortTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}
