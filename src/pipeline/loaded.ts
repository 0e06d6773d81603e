/**
 * @module
 * A pipeline whose models are loaded into a backend, and how one batch runs
 * through its steps: each step's served model (one variant of an A/B split)
 * is fed by name from the tensors the step before it produced (the request's
 * for the first step), through the mapping checked at load (wiring.ts); its
 * shadows get the same feeds and run beside it; the validations run on the
 * last step's outputs.
 */
import { Unavailable } from "../errors.ts";
import type { ModelSession } from "../engine/backend.ts";
import { elementCount, type HostTensor, type TensorSpec } from "../engine/tensor.ts";
import type { DecodedInput } from "../codec/decoded_input.ts";
import type { InferenceReply } from "../codec/reply.ts";
import type { Batcher } from "./batcher.ts";
import type { CheckResults, Validations } from "./checks.ts";
import { chooseVariant } from "./split.ts";

/** One loaded model. */
export interface LoadedModel {
  name: string;
  version: string;
  sha256: string;
  /** Backend name, e.g. `wasm`. */
  backend: string;
  /** Warm-up median ms per backend tried (INFERENCE_BACKEND=auto). */
  warmupMs?: Readonly<Record<string, number>>;
  /** Joins runs queued behind one in flight (BATCHING=true). */
  batcher?: Batcher;
  session: ModelSession;
}

/** A model of a step with where each of its inputs comes from. */
export interface WiredModel {
  model: LoadedModel;
  /** Model input name → name of the tensor that feeds it. */
  feeds: Readonly<Record<string, string>>;
}

/** A shadow model and its runs under way. */
export interface WiredShadow extends WiredModel {
  /** Runs started and not yet finished. */
  inflight: number;
}

/** One loaded step. */
export interface LoadedStep {
  /** The step's model, or its A/B variants. */
  variants: WiredModel[];
  /** Each variant's weight. */
  weights: number[];
  /** The request field a keyed split hashes. */
  splitKey?: string;
  shadows: WiredShadow[];
}

/** A loaded pipeline: steps run in order. */
export interface LoadedPipeline {
  name: string;
  version: string;
  steps: LoadedStep[];
  /** Every model loaded, once (steps, variants, shadows). */
  models: LoadedModel[];
  /** What the request decoder reads: the first step's inputs under the names that feed them. */
  inputs: TensorSpec[];
  validations?: Validations;
  /** Where it came from (published pipelines). */
  source?: { reference: string; digest: string; manifest?: string };
  /** Called when a model's worker thread has died (the manager reloads the pipeline). */
  onSessionFailure?: (model: string) => void;
}

/** One shadow's outputs, in model order. */
export interface ShadowOutputs {
  model: string;
  outputs: [string, HostTensor][];
}

/** What one batch produced. */
export interface PipelineRun {
  /** Outputs of the last step's served model, in model order. */
  outputs: [string, HostTensor][];
  /** ns per step. */
  stepNs: number[];
  /** The last step's served model (the variant, under a split). */
  served: LoadedModel;
  /** Shadows that finished in time, in pipeline order. */
  shadows: ShadowOutputs[];
  /** The validations' results, when the pipeline has any. */
  checks?: CheckResults;
  /** Settles when every shadow run this batch started has finished (they may outlive the reply). */
  settled: Promise<void>;
}

/** The reply to a request of `input`, arrived at `time` and decoded in `decodeNs`, that `run` served. */
export function replyOf(
  pipeline: LoadedPipeline,
  run: PipelineRun,
  input: DecodedInput,
  time: number,
  decodeNs: number,
): InferenceReply {
  return {
    pipelineName: pipeline.name,
    modelName: run.served.name,
    modelVersion: run.served.version,
    time,
    elapsedNs: [decodeNs, ...run.stepNs],
    outputs: run.outputs,
    input,
    checks: run.checks,
    shadows: run.shadows,
  };
}

/** How long a reply waits for its shadows once the pipeline's own outputs are ready. */
export const SHADOW_WAIT_MS = 100;
/** Runs of one shadow under way at once; past this a request skips that shadow (a slow one never queues). */
export const SHADOW_MAX_INFLIGHT = 2;

const SETTLED = Promise.resolve();

/** The shadow runs a failed run had started, by the error it threw. */
const shadowsOfFailure = new WeakMap<object, Promise<void>>();

/**
 * Settles once the shadow runs started by the failed run that threw `err` are done (at once for any other error):
 * until then, its caller holds the pipeline.
 */
export function settledAfter(err: unknown): Promise<void> {
  return (typeof err === "object" && err !== null && shadowsOfFailure.get(err)) || SETTLED;
}

/**
 * Runs `input` through every step. A/B variants are chosen with `random` (or
 * the split's key); a model whose batch dim is fixed at 1 runs row by row.
 * Hold the pipeline until the run's `settled`, or when it throws, until
 * `settledAfter(error)`: the shadow runs it started may outlive either.
 */
export async function runPipeline(
  pipeline: LoadedPipeline,
  input: DecodedInput,
  random: () => number = Math.random,
): Promise<PipelineRun> {
  const rows = input.rows;
  const stepNs: number[] = [];
  let available = input.tensors;
  let served = pipeline.steps[0].variants[0].model;
  let outputs: [string, HostTensor][] = [];
  const pending: Promise<ShadowOutputs | undefined>[] = [];
  let checks: PipelineRun["checks"];
  try {
    for (const step of pipeline.steps) {
      const t0 = performance.now();
      const chosen = step.variants[chooseVariant(step.weights, step.splitKey, input, random)];
      const feeds = feedsFor(chosen, available);
      const result = runModel(pipeline, chosen.model, feeds, rows, true);
      for (const shadow of step.shadows) {
        if (shadow.inflight >= SHADOW_MAX_INFLIGHT) continue;
        pending.push(runShadow(pipeline, shadow, feedsFor(shadow, available), rows));
      }
      const out = await result;
      stepNs.push(Math.round((performance.now() - t0) * 1e6));
      served = chosen.model;
      outputs = chosen.model.session.outputs.map((o) => [o.name, out[o.name]]);
      available = out;
    }
    checks = pipeline.validations?.run(available, input.tensors, rows);
  } catch (err) {
    // The error is answered at once; a retired pipeline is freed only once the shadow runs started (they never
    // reject) are done with its models.
    if (pending.length) {
      const shadows = Promise.all(pending).then(() => {});
      // One error may fail several runs (the batcher rejects a whole batch with it): it holds all their shadows.
      if (typeof err === "object" && err !== null) {
        shadowsOfFailure.set(err, Promise.all([shadowsOfFailure.get(err), shadows]).then(() => {}));
      } else await shadows;
    }
    throw err;
  }
  const settled = pending.length ? Promise.all(pending).then(() => {}) : SETTLED;
  return { outputs, stepNs, served, checks, shadows: await shadowsInTime(pending), settled };
}

/** The shadows done now or within SHADOW_WAIT_MS, in order; the others are left out. */
async function shadowsInTime(pending: Promise<ShadowOutputs | undefined>[]): Promise<ShadowOutputs[]> {
  if (pending.length === 0) return [];
  const done: (ShadowOutputs | undefined)[] = new Array(pending.length);
  const finished = pending.map((p, i) => p.then((r) => void (done[i] = r)));
  let timer: number | undefined;
  await Promise.race([
    Promise.all(finished),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, SHADOW_WAIT_MS))),
  ]);
  clearTimeout(timer);
  return done.filter((r): r is ShadowOutputs => r !== undefined);
}

/** One shadow run; undefined when it fails (it never fails the request). */
async function runShadow(
  pipeline: LoadedPipeline,
  shadow: WiredShadow,
  feeds: Record<string, HostTensor>,
  rows: number,
): Promise<ShadowOutputs | undefined> {
  shadow.inflight++;
  try {
    const out = await runModel(pipeline, shadow.model, feeds, rows, false);
    return { model: shadow.model.name, outputs: shadow.model.session.outputs.map((o) => [o.name, out[o.name]]) };
  } catch {
    return undefined;
  } finally {
    shadow.inflight--;
  }
}

/** The feeds of `wired` from the tensors at hand (the mapping was checked at load). */
function feedsFor(wired: WiredModel, available: Record<string, HostTensor>): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const input of wired.model.session.inputs) feeds[input.name] = available[wired.feeds[input.name]];
  return feeds;
}

/** Runs one model; a dead worker thread is reported to the pipeline's owner and answered 503. */
async function runModel(
  pipeline: LoadedPipeline,
  model: LoadedModel,
  feeds: Record<string, HostTensor>,
  rows: number,
  batched: boolean,
): Promise<Record<string, HostTensor>> {
  const session = model.session;
  try {
    return session.inputs.some((i) => i.shape[0] === 1) && rows > 1
      ? await runRowByRow(session, feeds, rows)
      : batched && model.batcher
      ? await model.batcher.run(feeds, rows)
      : await session.run(feeds);
  } catch (err) {
    if (!session.failed) throw err;
    pipeline.onSessionFailure?.(model.name);
    throw new Unavailable(`model ${model.name} stopped (${(err as Error).message}); it is being restarted`);
  }
}

async function runRowByRow(
  session: ModelSession,
  feeds: Record<string, HostTensor>,
  rows: number,
): Promise<Record<string, HostTensor>> {
  const parts: Record<string, HostTensor>[] = [];
  for (let r = 0; r < rows; r++) {
    const one: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const width = elementCount(t.dims.slice(1));
      one[name] = {
        type: t.type,
        data: t.data.slice(r * width, (r + 1) * width),
        dims: [1, ...t.dims.slice(1)],
      };
    }
    parts.push(await session.run(one));
  }
  const out: Record<string, HostTensor> = {};
  for (const name of Object.keys(parts[0])) {
    const first = parts[0][name];
    const width = first.data.length;
    const rowDims = first.dims.length === 0 ? [] : first.dims.slice(1);
    if (parts.some((p) => p[name].data.length !== width)) {
      throw new Error(
        `output '${name}' has a different size for each row; a model whose batch is fixed at 1 must give every row the same output shape`,
      );
    }
    const data = Array.isArray(first.data)
      ? parts.flatMap((p) => p[name].data as string[])
      : concatTyped(parts.map((p) => p[name].data), width);
    // Each row's output becomes one batch entry: [1,k] parts give [rows,k]; scalar parts give [rows].
    const batch = first.dims.length === 0 ? rows : rows * first.dims[0];
    out[name] = { type: first.type, data: data as HostTensor["data"], dims: [batch, ...rowDims] };
  }
  return out;
}

function concatTyped(
  chunks: HostTensor["data"][],
  width: number,
): HostTensor["data"] {
  const first = chunks[0] as Float32Array;
  const out = new (first.constructor as Float32ArrayConstructor)(
    width * chunks.length,
  );
  chunks.forEach((c, i) => out.set(c as Float32Array, i * width));
  return out as HostTensor["data"];
}
