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

/** Status as `/pipelines` and `/models` report it. */
export type PipelineStatus = "Loading" | "Running" | "Error";

/** One model of the pipeline as `/models` reports it, loaded or not. */
export interface ModelStatus {
  name: string;
  version: string;
  sha256: string;
  status: PipelineStatus;
  /** Why it does not serve, when status is `Error`. */
  error?: string;
  /** Set once loaded. */
  loaded?: LoadedModel;
}

/** Loads and holds the served pipeline. */
export class PipelineManager {
  #backend: Backend;
  #status: PipelineStatus = "Loading";
  #name: string | undefined;
  #error: string | undefined;
  #current: LoadedPipeline | undefined;
  #models: ModelStatus[] = [];

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
  /** Every model of the pipeline being loaded or served, with its status (a model that failed: `Error` and why). */
  get models(): readonly ModelStatus[] {
    return this.#models;
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
    const models: ModelStatus[] = definition.steps.map(({ name, version, sha256 }) => ({
      name,
      version,
      sha256,
      status: "Loading",
    }));
    this.#models = models;
    const steps: LoadedModel[] = [];
    try {
      for (const [i, model] of definition.steps.entries()) {
        let session;
        try {
          session = await this.#backend.load(model.bytes, model.name);
        } catch (err) {
          models[i] = { ...models[i], status: "Error", error: errorText(err) };
          throw err;
        }
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
        models[i] = { ...models[i], status: "Running", loaded: steps[i] };
      }
    } catch (err) {
      await Promise.all(steps.map((s) => s.session.release()));
      const failed = models.find((m) => m.status === "Error")?.name;
      for (const [i, m] of models.entries()) {
        if (m.status !== "Error") {
          models[i] = {
            ...m,
            status: "Error",
            error: `not serving: model '${failed}' failed to load`,
            loaded: undefined,
          };
        }
      }
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
