/**
 * @module
 * INFERENCE_BACKEND: which runtime runs each model. `wasm`, `native`, `cuda`
 * and `webgpu` (hardware adapters only) name one; `auto` tries every available backend on each model,
 * times a warm-up on inputs of the model's own shape, and keeps the fastest.
 * A backend that cannot load a model is skipped, with the reason logged.
 * Except that a model native onnxruntime runs in under NATIVE_ENOUGH_MS stays on native untimed elsewhere:
 * no other runtime can make such a request noticeably faster (its HTTP and codec work take longer), native runs
 * on one session may overlap where ort-web's are serialised, and timing WASM first means starting ort-web's
 * runtime, a third of a second of start-up here (the demo: native 0.015 ms, WASM 0.027 ms per run).
 */
import type { BackendChoice } from "../config.ts";
import { ConfigError, errorText } from "../errors.ts";
import { type Backend, type ModelSession, withFigures } from "./backend.ts";
import { createPlacedNativeBackend } from "./off_thread.ts";
import { createOrtWebWasmBackend } from "./ort_web.ts";
import { timeRuns } from "./warmup.ts";
import { createWebGpuBackend, gpuDevicesPresent } from "./webgpu.ts";

export type { BackendChoice } from "../config.ts";

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
      return await createPlacedNativeBackend({ threads, cuda: choice === "cuda", libDir }).catch((err) => {
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
          candidates.push(await createPlacedNativeBackend({ threads, cuda, libDir }));
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

/** Per-run time under which `auto` keeps a model on native without timing the runtimes after it (module doc). */
export const NATIVE_ENOUGH_MS = 1;

/** A backend that loads each model into every candidate and keeps the fastest. */
export function autoBackend(candidates: Backend[], log: (line: string) => void): Backend {
  return {
    name: "auto",
    description: `auto (fastest of ${candidates.map((c) => c.description).join("; ")})`,
    async prewarm() {
      await Promise.all(candidates.map((candidate) => candidate.prewarm?.()));
    },
    async load(model, label) {
      const tried: { session: ModelSession; ms: number }[] = [];
      const failures: string[] = [];
      let untimed: string[] = [];
      for (const [i, backend] of candidates.entries()) {
        const leader = tried.reduce<typeof tried[number] | undefined>((a, t) => a && a.ms <= t.ms ? a : t, undefined);
        if (leader?.session.backend === "native" && leader.ms < NATIVE_ENOUGH_MS) {
          untimed = candidates.slice(i).map((c) => c.name);
          break;
        }
        let session: ModelSession | undefined;
        try {
          session = await backend.load(model, label);
          const run = session.run.bind(session);
          tried.push({ session, ms: session.runMs ?? await timeRuns(session.inputs, run, leader?.ms) });
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
      const why = untimed.length === 0 ? "" : ` (under ${NATIVE_ENOUGH_MS} ms a run: ${untimed.join(", ")} not timed)`;
      log(`Model ${label}: warm-up median per run ${figures}; chose ${tried[0].session.backend}${why}`);
      return withFigures(tried[0].session, {
        warmupMs: Object.fromEntries(tried.map((t) => [t.session.backend, t.ms])),
      });
    },
  };
}
