/**
 * @module
 * A pipeline whose models are loaded into a backend, and how one batch runs
 * through its steps.
 */
import { BadInput } from "../errors.ts";
import type { ModelSession } from "../engine/backend.ts";
import { elementCount, type HostTensor } from "../engine/tensor.ts";
import type { Batcher } from "./batcher.ts";

/** One loaded step. */
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

/** A loaded pipeline: steps run in order. */
export interface LoadedPipeline {
  name: string;
  version: string;
  steps: LoadedModel[];
}

/** Outputs of the last step, in model order, and each step's duration in ns. */
export interface PipelineRun {
  outputs: [string, HostTensor][];
  stepNs: number[];
}

/**
 * Runs `feeds` (the first step's inputs, `rows` rows) through every step.
 * A step's outputs feed the next step's inputs by name, or by position when
 * the names differ. A model whose batch dim is fixed at 1 runs row by row.
 */
export async function runPipeline(
  pipeline: LoadedPipeline,
  feeds: Record<string, HostTensor>,
  rows: number,
): Promise<PipelineRun> {
  const stepNs: number[] = [];
  let current = feeds;
  let outputs: [string, HostTensor][] = [];
  for (const step of pipeline.steps) {
    const t0 = performance.now();
    const session = step.session;
    const stepFeeds = feedsFor(session, current);
    const result = session.inputs.some((i) => i.shape[0] === 1) && rows > 1
      ? await runRowByRow(session, stepFeeds, rows)
      : step.batcher
      ? await step.batcher.run(stepFeeds, rows)
      : await session.run(stepFeeds);
    stepNs.push(Math.round((performance.now() - t0) * 1e6));
    outputs = session.outputs.map((o) => [o.name, result[o.name]]);
    current = result;
  }
  return { outputs, stepNs };
}

function feedsFor(
  session: ModelSession,
  available: Record<string, HostTensor>,
): Record<string, HostTensor> {
  const names = Object.keys(available);
  const feeds: Record<string, HostTensor> = {};
  session.inputs.forEach((input, i) => {
    const t = available[input.name] ?? available[names[i]];
    if (!t) {
      throw new BadInput(
        `no value for model input '${input.name}'`,
        "missing_column",
      );
    }
    feeds[input.name] = t;
  });
  return feeds;
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
