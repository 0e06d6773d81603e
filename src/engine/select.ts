/**
 * @module
 * INFERENCE_BACKEND: which runtime runs each model. `wasm`, `native`, `cuda`
 * and `webgpu` (hardware adapters only) name one; `auto` tries every available backend on each model,
 * times a warm-up on inputs of the model's own shape, and keeps the fastest.
 * A backend that cannot load a model is skipped, with the reason logged.
 */
import { ConfigError } from "../errors.ts";
import type { Backend, ModelSession } from "./backend.ts";
import { createOrtNativeBackend } from "./ort_native.ts";
import { createOrtWebWasmBackend } from "./ort_web.ts";
import { errorText } from "./ort_session.ts";
import { allocateZeros } from "./warmup.ts";
import { createWebGpuBackend, gpuDevicesPresent } from "./webgpu.ts";

/** The INFERENCE_BACKEND values. */
export const BACKEND_CHOICES = ["auto", "wasm", "native", "cuda", "webgpu"] as const;
/** One INFERENCE_BACKEND value. */
export type BackendChoice = typeof BACKEND_CHOICES[number];

/** What createBackend needs besides the choice. */
export interface BackendOptions {
  /** CONFIG_CPUS. */
  threads: number;
  /** Start-up log lines (why a backend is not used, auto's figures). */
  log: (line: string) => void;
  /** ONNXRUNTIME_LIB_DIR. */
  libDir?: string;
  /** WEBGPU_ALLOW_SOFTWARE: INFERENCE_BACKEND=webgpu may use a software adapter (never under auto). */
  webgpuAllowSoftware?: boolean;
}

/** Creates the backend INFERENCE_BACKEND asks for. */
export async function createBackend(
  choice: BackendChoice,
  { threads, log, libDir, webgpuAllowSoftware = false }: BackendOptions,
): Promise<Backend> {
  switch (choice) {
    case "wasm":
      return createOrtWebWasmBackend({ threads });
    case "native":
    case "cuda":
      return await createOrtNativeBackend({ threads, cuda: choice === "cuda", libDir }).catch((err) => {
        throw new ConfigError(`INFERENCE_BACKEND=${choice}: ${errorText(err)}`);
      });
    case "webgpu":
      return await createWebGpuBackend({ allowSoftwareAdapter: webgpuAllowSoftware }).catch((err) => {
        throw new ConfigError(`INFERENCE_BACKEND=webgpu: ${errorText(err)}`);
      });
    case "auto": {
      const candidates: Backend[] = [];
      for (const cuda of [true, false]) {
        try {
          candidates.push(await createOrtNativeBackend({ threads, cuda, libDir }));
        } catch (err) {
          log(`Backend ${cuda ? "cuda" : "native"} not used: ${errorText(err)}`);
        }
      }
      if (gpuDevicesPresent()) {
        try {
          candidates.push(await createWebGpuBackend());
        } catch (err) {
          log(`Backend webgpu not used: ${errorText(err)}`);
        }
      }
      candidates.push(createOrtWebWasmBackend({ threads }));
      return autoBackend(candidates, log);
    }
  }
}

/** Fewest runs timed during warm-up: the median is compared. */
const TIMED_RUNS = 7;
/** Fast models keep running until this much time is measured, so their medians are stable (µs-scale runs are noisy). */
const MIN_TIMED_MS = 20;
/** Most runs timed for one backend. */
const MAX_TIMED_RUNS = 2000;

/** A backend that loads each model into every candidate and keeps the fastest. */
export function autoBackend(candidates: Backend[], log: (line: string) => void): Backend {
  return {
    name: "auto",
    description: `auto (fastest of ${candidates.map((c) => c.description).join("; ")})`,
    async load(model, label) {
      const tried: { session: ModelSession; ms: number }[] = [];
      const failures: string[] = [];
      for (const backend of candidates) {
        let session: ModelSession | undefined;
        try {
          session = await backend.load(model, label);
          tried.push({ session, ms: await warmUp(session) });
        } catch (err) {
          await session?.release();
          failures.push(`${backend.name}: ${errorText(err)}`);
          log(`Model ${label}: backend ${backend.name} skipped: ${errorText(err)}`);
        }
      }
      if (tried.length === 0) throw new Error(`model ${label}: no backend could run it (${failures.join("; ")})`);
      tried.sort((a, b) => a.ms - b.ms);
      for (const t of tried.slice(1)) await t.session.release();
      const figures = tried.map((t) => `${t.session.backend} ${t.ms.toFixed(3)} ms`).join(", ");
      log(`Model ${label}: warm-up median per run ${figures}; chose ${tried[0].session.backend}`);
      return withWarmup(tried[0].session, Object.fromEntries(tried.map((t) => [t.session.backend, t.ms])));
    },
  };
}

/**
 * Median ms per run on zero inputs of the model's shape (after one untimed run):
 * at least TIMED_RUNS runs, and more until MIN_TIMED_MS are measured.
 */
async function warmUp(session: ModelSession): Promise<number> {
  const feeds = Object.fromEntries(session.inputs.map((spec) => [spec.name, allocateZeros(spec)]));
  await session.run(feeds);
  const times: number[] = [];
  let spent = 0;
  while (times.length < TIMED_RUNS || (spent < MIN_TIMED_MS && times.length < MAX_TIMED_RUNS)) {
    const t0 = performance.now();
    await session.run(feeds);
    const ms = performance.now() - t0;
    times.push(ms);
    spent += ms;
  }
  // µs resolution: finer digits are timer noise.
  return Math.round(times.sort((a, b) => a - b)[Math.floor(times.length / 2)] * 1000) / 1000;
}

function withWarmup(session: ModelSession, warmupMs: Record<string, number>): ModelSession {
  return {
    backend: session.backend,
    inputs: session.inputs,
    outputs: session.outputs,
    warmupMs,
    run: (feeds) => session.run(feeds),
    release: () => session.release(),
  };
}
