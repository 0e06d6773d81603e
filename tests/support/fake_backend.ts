/**
 * @module
 * A backend of scripted models, for what real models cannot be made to do on
 * cue: hold a run until the test lets it go, fail a run, die like a crashed
 * worker thread (on cue, or at its first run). A model file is the UTF-8 of its script's key; every model
 * takes `tensor` float32 [N,1] and gives `variable` float32 [N,1] = tensor + `add`.
 */
import type { Backend, ModelSession } from "../../src/engine/backend.ts";
import type { HostTensor } from "../../src/engine/tensor.ts";
import { type ModelArtifact, sha256Hex, uuidFromSha256 } from "../../src/pipeline/spec.ts";

/** What one scripted model does. */
export interface Script {
  /** Added to the input. */
  add: number;
  /** Runs wait for this before answering (default: answer at once). */
  gate?: () => Promise<void>;
  /** Runs fail with this. */
  fails?: string;
  /** Runs fail with this very object (as the batcher fails every request of a batch with one error). */
  failsWith?: Error;
  /** Loading fails with this. */
  refusesLoad?: string;
  /** Its worker thread dies on the first run (warm-up runs once at load). */
  diesOnFirstRun?: boolean;
}

/** Records what happened to each model key. */
export class FakeBackend implements Backend {
  readonly name = "fake";
  readonly description = "scripted test models";
  readonly scripts = new Map<string, Script>();
  /** Keys of sessions loaded and released, in order. */
  readonly loads: string[] = [];
  readonly releases: string[] = [];
  readonly #kills: { key: string; kill: () => void }[] = [];

  /** Makes the sessions of `key` loaded so far fail as a dead worker thread does (later loads live). */
  kill(key: string): void {
    for (const k of this.#kills) if (k.key === key) k.kill();
  }

  /** A model artifact named `name` running `script`. */
  async model(name: string, key: string, script: Script): Promise<ModelArtifact> {
    this.scripts.set(key, script);
    const bytes = new TextEncoder().encode(key);
    const sha256 = await sha256Hex(bytes);
    return { name, version: uuidFromSha256(sha256), sha256, bytes };
  }

  load(bytes: Uint8Array, label: string): Promise<ModelSession> {
    const key = new TextDecoder().decode(bytes);
    const script = this.scripts.get(key);
    if (!script) return Promise.reject(new Error(`model ${label}: not a model`));
    if (script.refusesLoad) return Promise.reject(new Error(`model ${label}: ${script.refusesLoad}`));
    this.loads.push(key);
    const releases = this.releases;
    let released = false;
    let dead = false;
    this.#kills.push({ key, kill: () => dead = true });
    const session: ModelSession = {
      backend: "fake",
      inputs: [{ name: "tensor", type: "float32", shape: ["N", 1] }],
      outputs: [{ name: "variable", type: "float32", shape: ["N", 1] }],
      get failed() {
        return dead;
      },
      async run(feeds: Record<string, HostTensor>) {
        if (released) throw new Error(`model ${label} (${key}) ran after its release`);
        await script.gate?.();
        if (script.diesOnFirstRun) dead = true;
        if (dead) throw new Error("the worker thread failed: it died");
        if (script.fails) throw new Error(script.fails);
        if (script.failsWith) throw script.failsWith;
        const x = feeds.tensor.data as Float32Array;
        return { variable: { type: "float32", data: x.map((v) => v + script.add), dims: [...feeds.tensor.dims] } };
      },
      release() {
        released = true;
        releases.push(key);
        return Promise.resolve();
      },
    };
    return Promise.resolve(session);
  }
}

/** A gate: runs wait on `wait` until `open()`; `waiting` counts runs held. */
export function gate(): { wait: () => Promise<void>; open: () => void; waiting: () => number } {
  let release!: () => void;
  const opened = new Promise<void>((r) => release = r);
  let held = 0;
  return {
    wait: async () => {
      held++;
      await opened;
      held--;
    },
    open: () => release(),
    waiting: () => held,
  };
}
