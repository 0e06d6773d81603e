/**
 * @module
 * Owns the pipeline being served: loads a definition into the backend and
 * reports its status (`Loading`, `Running`, `Error`). Later issues add hot
 * swap here: requests read `current` once, so a swap never changes a
 * pipeline under a running request.
 */
import { errorText } from "../errors.ts";
import type { Backend } from "../engine/backend.ts";
import { Batcher, type BatchOptions } from "./batcher.ts";
import type { LoadedModel, LoadedPipeline } from "./loaded.ts";
import type { PipelineDefinition } from "./spec.ts";

/** Status as `/pipelines` reports it. */
export type PipelineStatus = "Loading" | "Running" | "Error";

/** Loads and holds the served pipeline. */
export class PipelineManager {
  #backend: Backend;
  #status: PipelineStatus = "Loading";
  #name: string | undefined;
  #error: string | undefined;
  #current: LoadedPipeline | undefined;

  readonly #batch: BatchOptions | undefined;

  /** `batch`: adaptive batching for models whose batch dim is not fixed (off when absent). */
  constructor(backend: Backend, batch?: BatchOptions) {
    this.#backend = backend;
    this.#batch = batch;
  }

  /** `Loading` until the first load finishes, then `Running` or `Error`. */
  get status(): PipelineStatus {
    return this.#status;
  }
  /** Name of the pipeline being loaded or served, once known. */
  get name(): string | undefined {
    return this.#name;
  }
  /** Why loading failed, when status is `Error`. */
  get error(): string | undefined {
    return this.#error;
  }
  /** The pipeline serving requests, when `Running`. */
  get current(): LoadedPipeline | undefined {
    return this.#current;
  }
  /** The backend models are loaded into. */
  get backend(): Backend {
    return this.#backend;
  }

  /** Records that the pipeline `name` is being fetched or loaded. */
  announce(name: string): void {
    this.#name = name;
  }

  /** Records a failure that happened before loading (e.g. fetching the pipeline). */
  fail(message: string): void {
    this.#status = "Error";
    this.#error = message;
  }

  /** Loads every step of `definition` and starts serving it. */
  async load(definition: PipelineDefinition): Promise<LoadedPipeline> {
    this.#name = definition.name;
    const steps: LoadedModel[] = [];
    try {
      for (const model of definition.steps) {
        const session = await this.#backend.load(model.bytes, model.name);
        steps.push({
          name: model.name,
          version: model.version,
          sha256: model.sha256,
          backend: session.backend,
          warmupMs: session.warmupMs,
          batcher: this.#batch && session.inputs.every((i) => i.shape[0] !== 1)
            ? new Batcher(session, this.#batch)
            : undefined,
          session,
        });
      }
    } catch (err) {
      await Promise.all(steps.map((s) => s.session.release()));
      this.fail(errorText(err));
      throw err;
    }
    this.#current = {
      name: definition.name,
      version: definition.version,
      steps,
    };
    this.#status = "Running";
    this.#error = undefined;
    return this.#current;
  }

  /** Releases the loaded models (at shutdown). */
  async close(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (current) {
      await Promise.all(current.steps.map((s) => s.session.release()));
    }
  }
}
