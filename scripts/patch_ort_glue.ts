/**
 * @module
 * Writes onnxruntime-web's threaded Emscripten glue with the one change that
 * lets its pthread workers run under Deno.
 *
 * In Deno 2.7 `node:worker_threads`' `parentPort` inside a worker IS the
 * worker's `globalThis`. The glue's Node shim then defines
 * `globalThis.postMessage = (a) => parentPort.postMessage(a)`, which calls
 * itself: `RangeError: Maximum call stack size exceeded` in worker "em-pthread"
 * as soon as `numThreads > 1`. The patched glue skips that shim when
 * `parentPort === globalThis` and only defines `self` (Deno's worker globals
 * already are what the rest of the glue needs). Its bare `import("module")` / `import("worker_threads")` become
 * `node:` imports, as a file outside node_modules must write them. Run after
 * upgrading onnxruntime-web:
 *
 *   deno task patch-ort-glue
 *
 * `tests/engine/ort_web_glue_test.ts` fails when the committed file and the
 * installed package drift apart.
 */
import { fileURLToPath } from "node:url";

/** The exact text of the Node shim in onnxruntime-web 1.30's minified glue. */
export const SHIM = "if(m&&n){var ta=ba.parentPort;";
/** The shim, skipped when parentPort is the global scope: then only `self` is defined. */
export const PATCHED_SHIM =
  "if(m&&n&&ba.parentPort===globalThis){globalThis.self=globalThis}else if(m&&n){var ta=ba.parentPort;";

/** Where the patched glue lives in the source tree (embedded into the binary). */
export const PATCHED_GLUE_URL = new URL(
  "../src/engine/ort_web_glue/ort-wasm-simd-threaded.mjs",
  import.meta.url,
);

/** URL of the original glue inside the installed onnxruntime-web package. */
export function originalGlueUrl(): URL {
  return new URL(
    "./ort-wasm-simd-threaded.mjs",
    import.meta.resolve("onnxruntime-web"),
  );
}

/** Text replacements, each expected exactly once in the original glue. */
const REPLACEMENTS: [string, string][] = [
  [SHIM, PATCHED_SHIM],
  ['import("module")', 'import("node:module")'],
  ['import("worker_threads")', 'import("node:worker_threads")'],
];

/** Returns the patched glue text; throws when a patch point is not found exactly once. */
export function patchGlue(original: string): string {
  let text = original;
  for (const [from, to] of REPLACEMENTS) {
    const first = text.indexOf(from);
    if (first < 0 || text.indexOf(from, first + 1) >= 0) {
      throw new Error(
        `onnxruntime-web glue: expected exactly one '${from}'; update scripts/patch_ort_glue.ts for this version`,
      );
    }
    text = text.replace(from, to);
  }
  return text;
}

if (import.meta.main) {
  const original = await Deno.readTextFile(originalGlueUrl());
  await Deno.writeTextFile(PATCHED_GLUE_URL, patchGlue(original));
  console.log(`wrote ${fileURLToPath(PATCHED_GLUE_URL)}`);
}
