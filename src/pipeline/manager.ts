/**
 * @module
 * Owns the pipeline being served: loads a definition into the backend beside
 * the one serving (`prepare`: load, wire, compile validations, warm), then
 * swaps it in at once (`swap`). Requests take the pipeline with `acquire` and
 * give it back with `release`, so a swap never changes a pipeline under a
 * running request: the old one serves its requests to the end, and its
 * sessions (and native worker threads) are released when the last one is
 * done. A version that fails to load leaves the old one serving; the failure
 * is kept for `/pipelines` and `/models` until a later version serves.
 * Status as reported: `Loading`, `Running`, `Error`.
 */
import { errorText, PipelineLoadError } from "../errors.ts";
import type { Backend } from "../engine/backend.ts";
import { allocateZeros } from "../engine/warmup.ts";
import { Batcher, type BatchOptions } from "./batcher.ts";
import { compileValidations } from "./checks.ts";
import { type LoadedModel, type LoadedPipeline, runPipeline, settledAfter } from "./loaded.ts";
import { modelsOf, type PipelineDefinition } from "./spec.ts";
import { wireSteps } from "./wiring.ts";

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

/** A version that could not be fetched or loaded while another one served. */
export interface UpdateFailure {
  /** Its pipeline name and version, once known (a failed pull may not get that far). */
  name?: string;
  version?: string;
  /** The reference it was fetched from. */
  reference?: string;
  error: string;
  /** Its models, each with why it does not serve (empty when it failed before loading). */
  models: ModelStatus[];
  /** ms since the epoch. */
  time: number;
}

/** What follows the pipeline's source (the PipelineUpdater): Ops hands it new PIPELINE_URLs. */
export interface PipelineFollower {
  /** The PIPELINE_URL followed (undefined: the built-in demo). */
  readonly url: string | undefined;
  /** The URL of the pipeline serving: `url` once it serves. */
  readonly servingUrl: string | undefined;
  /** Serves the pipeline at `url` from now on (pull, load, swap); resolves once it serves or has failed. */
  follow(url: string): Promise<void>;
}

/** Loads and holds the served pipeline. */
export class PipelineManager {
  #backend: Backend;
  #status: PipelineStatus = "Loading";
  #name: string | undefined;
  #error: string | undefined;
  #current: LoadedPipeline | undefined;
  #models: ModelStatus[] = [];
  #updateFailure: UpdateFailure | undefined;
  /** Requests (and shadow runs) using each pipeline; retired ones are freed when theirs reach 0. */
  readonly #uses = new Map<LoadedPipeline, number>();
  readonly #retired = new Map<LoadedPipeline, () => void>();
  /** Loads under way (`load`): close waits for them, as onnxruntime aborts a process that exits mid-load. */
  readonly #loading = new Set<Promise<unknown>>();

  readonly #batch: BatchOptions | undefined;
  readonly #now: () => number;

  /** Set by serve.ts: follows PIPELINE_URL; Ops calls `updater.follow(url)` with a URL from a check-in. */
  updater?: PipelineFollower;
  /** Called when a model's worker thread died mid-run (serve.ts: the updater reloads the pipeline). */
  onSessionFailure?: (model: string) => void;

  /** `batch`: adaptive batching for models whose batch dim is not fixed (off when absent). */
  constructor(backend: Backend, batch?: BatchOptions, now: () => number = Date.now) {
    this.#backend = backend;
    this.#batch = batch;
    this.#now = now;
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
  /** The pipeline serving requests, when `Running`. Requests use acquire/release instead. */
  get current(): LoadedPipeline | undefined {
    return this.#current;
  }
  /** Every model of the pipeline being loaded or served, with its status (a model that failed: `Error` and why). */
  get models(): readonly ModelStatus[] {
    return this.#models;
  }
  /** A model of the pipeline serving whose session stopped (its worker thread died), until it is loaded again. */
  get stoppedModel(): string | undefined {
    return this.#current?.models.find((m) => m.session.failed)?.name;
  }
  /** The last version that failed to replace the one serving, until another one serves. */
  get updateFailure(): UpdateFailure | undefined {
    return this.#updateFailure;
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

  /** Records that a new version from `reference` could not be fetched; the one serving goes on. */
  failUpdate(error: string, reference?: string): void {
    this.#updateFailure = { reference, error, models: [], time: this.#now() };
  }

  /** Loads every model of `definition` and starts serving it (prepare, then swap). */
  load(definition: PipelineDefinition): Promise<LoadedPipeline> {
    const loading = this.prepare(definition).then((next) => {
      this.swap(next);
      return next;
    });
    const settled = loading.then(() => {}, () => {}).finally(() => this.#loading.delete(settled));
    this.#loading.add(settled);
    return loading;
  }

  /**
   * Loads `definition` beside the pipeline serving: every model once, the
   * steps wired by name, validations compiled, one warm-up run. On failure
   * the loaded models are released and the error thrown; with nothing serving
   * the status turns `Error`, else the failure is kept as `updateFailure`.
   */
  async prepare(definition: PipelineDefinition): Promise<LoadedPipeline> {
    const first = !this.#current;
    if (first) this.#name = definition.name;
    const artifacts = modelsOf(definition);
    const models: ModelStatus[] = artifacts.map(({ name, version, sha256 }) => ({
      name,
      version,
      sha256,
      status: "Loading",
    }));
    if (first) this.#models = models;
    const loaded = new Map<string, LoadedModel>();
    try {
      for (const [i, artifact] of artifacts.entries()) {
        let session;
        try {
          session = await this.#backend.load(artifact.bytes, artifact.name);
        } catch (err) {
          models[i] = { ...models[i], status: "Error", error: errorText(err) };
          throw err;
        }
        const model: LoadedModel = {
          name: artifact.name,
          version: artifact.version,
          sha256: artifact.sha256,
          backend: session.backend,
          warmupMs: session.warmupMs,
          batcher: this.#batch && session.inputs.every((i) => i.shape[0] !== 1) &&
              (this.#batch.backends?.some((b) => b === session.backend || b === session.largeBatches?.backend) ?? true)
            ? new Batcher(session, this.#batch)
            : undefined,
          session,
        };
        loaded.set(model.name, model);
        models[i] = { ...models[i], status: "Running", loaded: model };
      }
      const wiring = wireSteps(definition.steps, (name) => loaded.get(name)!);
      const last = wiring.steps[wiring.steps.length - 1];
      const pipeline: LoadedPipeline = {
        name: definition.name,
        version: definition.version,
        steps: wiring.steps,
        models: [...loaded.values()],
        inputs: wiring.inputs,
        validations: compileValidations(
          definition.validations ?? [],
          last.variants.map((v) => v.model.session.outputs),
          wiring.inputs,
        ),
        source: definition.source,
        // Only the pipeline serving is reloaded: one still loading (its warm-up, below) fails its load instead.
        onSessionFailure: (model) => {
          if (this.#current === pipeline) this.onSessionFailure?.(model);
        },
      };
      await warm(pipeline);
      const stopped = pipeline.models.find((m) => m.session.failed);
      if (stopped) {
        // Swapped in, it would stop at once and be reloaded, again and again: it fails to load, and waits.
        throw new PipelineLoadError(`model '${stopped.name}' stopped while warming up (its worker thread died)`);
      }
      return pipeline;
    } catch (err) {
      await Promise.all([...loaded.values()].map((m) => m.session.release().catch(() => {})));
      const failed = models.find((m) => m.status === "Error")?.name;
      for (const [i, m] of models.entries()) {
        if (m.status !== "Error") {
          models[i] = {
            ...m,
            status: "Error",
            error: failed ? `not serving: model '${failed}' failed to load` : `not serving: ${errorText(err)}`,
            loaded: undefined,
          };
        }
      }
      if (first) {
        this.#models = models;
        this.fail(errorText(err));
      } else {
        this.#updateFailure = {
          name: definition.name,
          version: definition.version,
          reference: definition.source?.reference,
          error: errorText(err),
          models,
          time: this.#now(),
        };
      }
      throw err;
    }
  }

  /**
   * Serves `next` from now on. Requests that hold the old pipeline finish on
   * it; the returned promise resolves once they have and its models are released.
   */
  swap(next: LoadedPipeline): Promise<void> {
    const old = this.#current;
    this.#current = next;
    this.#name = next.name;
    this.#status = "Running";
    this.#error = undefined;
    this.#updateFailure = undefined;
    this.#models = next.models.map((m) => ({
      name: m.name,
      version: m.version,
      sha256: m.sha256,
      status: "Running",
      loaded: m,
    }));
    if (!old || old === next) return Promise.resolve();
    return new Promise((resolve) => {
      const free = () => void releaseModels(old).then(resolve);
      if (this.#uses.has(old)) this.#retired.set(old, free);
      else free();
    });
  }

  /** The pipeline serving now, held until `release`: a swap never frees it under the holder. */
  acquire(): LoadedPipeline | undefined {
    const p = this.#current;
    if (p) this.#uses.set(p, (this.#uses.get(p) ?? 0) + 1);
    return p;
  }

  /** Gives back a pipeline taken with `acquire`. */
  release(p: LoadedPipeline): void {
    const n = (this.#uses.get(p) ?? 1) - 1;
    if (n > 0) return void this.#uses.set(p, n);
    this.#uses.delete(p);
    const free = this.#retired.get(p);
    if (free) {
      this.#retired.delete(p);
      free();
    }
  }

  /**
   * Releases the loaded models (at shutdown) once the loads under way have finished and nothing holds them: a
   * shadow run outlives its reply, and a session freed under a run is a use-after-free in native onnxruntime.
   * Pipelines swapped out are released as they drain (`swap`). Shutdown bounds the wait (shutdown.ts).
   */
  async close(): Promise<void> {
    await Promise.all(this.#loading);
    const current = this.#current;
    this.#current = undefined;
    if (!current) return;
    if (this.#uses.has(current)) await new Promise<void>((resolve) => this.#retired.set(current, resolve));
    await releaseModels(current);
  }
}

/** The longest the warm-up waits for its shadows' runs: a shadow stuck on zeros must not stall every later update. */
const WARM_SHADOWS_MS = 10_000;

/** One run on a row of zeros, so the first request does not pay for lazy set-up; a model may refuse zeros. */
async function warm(pipeline: LoadedPipeline): Promise<void> {
  const tensors = Object.fromEntries(pipeline.inputs.map((spec) => [spec.name, allocateZeros(spec)]));
  const rows = pipeline.inputs[0] ? tensors[pipeline.inputs[0].name].dims[0] ?? 1 : 1;
  // Its shadows' runs too, whether the run succeeds or fails: they warm those models, and hold them meanwhile.
  const shadows = runPipeline(pipeline, { rows, tensors, originalData: () => null })
    .then((run) => run.settled, settledAfter);
  let timer: number | undefined;
  await Promise.race([shadows, new Promise<void>((resolve) => timer = setTimeout(resolve, WARM_SHADOWS_MS))]);
  clearTimeout(timer);
}

async function releaseModels(p: LoadedPipeline): Promise<void> {
  await Promise.all(p.models.map((m) => m.session.release().catch(() => {})));
}
