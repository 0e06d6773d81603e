/**
 * @module
 * Adaptive batching (BATCHING; by default for models on a GPU runtime). An idle model runs a
 * request at once; requests that arrive while a run is in flight wait for it
 * and then run together, joined along the batch dim into one `session.run`,
 * and each caller gets back its own rows. So batches form only under load,
 * and no request waits longer than the run ahead of it. One bad request never
 * fails the others: if the joined run is refused, each request runs alone.
 * Only for models whose batch dim is not fixed. On a GPU a run has a large
 * fixed cost (WebGPU on an H200: 43 ms at batch 1, 159 ms at 64), which a
 * joined run spreads; on the CPU runtimes it measured no gain (the demo's
 * run takes µs, and a native run holds the serving thread).
 */
import { BadInput } from "../errors.ts";
import type { ModelSession } from "../engine/backend.ts";
import { allocate, elementCount, type HostTensor } from "../engine/tensor.ts";

/** Batching settings. */
export interface BatchOptions {
  /** Rows one joined run may hold (BATCH_MAX_ROWS). */
  maxRows: number;
  /** Only models served by these backends are batched (BATCHING=auto: the GPU ones); absent: every model. */
  backends?: readonly string[];
}

interface Waiting {
  feeds: Record<string, HostTensor>;
  rows: number;
  resolve: (out: Record<string, HostTensor>) => void;
  reject: (err: unknown) => void;
}

/** Runs a session, joining the runs that queue up behind one in flight. */
export class Batcher {
  readonly #session: ModelSession;
  readonly #options: BatchOptions;
  #queue: Waiting[] = [];
  #busy = false;
  /** Session runs made, and requests they served (for tests and status). */
  runs = 0;
  requests = 0;

  constructor(session: ModelSession, options: BatchOptions) {
    this.#session = session;
    this.#options = options;
  }

  /** Runs `feeds` (`rows` rows), possibly together with other callers' rows. */
  run(feeds: Record<string, HostTensor>, rows: number): Promise<Record<string, HostTensor>> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ feeds, rows, resolve, reject });
      if (!this.#busy) this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    while (this.#queue.length > 0) {
      let rows = 0;
      let take = 0;
      while (take < this.#queue.length && (take === 0 || rows + this.#queue[take].rows <= this.#options.maxRows)) {
        rows += this.#queue[take++].rows;
      }
      await this.#runBatch(this.#queue.splice(0, take));
    }
    this.#busy = false;
  }

  async #runBatch(batch: Waiting[]): Promise<void> {
    this.requests += batch.length;
    const joined = batch.length > 1 ? join(batch) : undefined;
    if (!joined) return void await Promise.all(batch.map((w) => this.#runAlone(w)));
    this.runs++;
    let out: Record<string, HostTensor>;
    try {
      out = await this.#session.run(joined.feeds);
    } catch (err) {
      if (!(err instanceof BadInput)) return batch.forEach((w) => w.reject(err));
      // Someone's rows were refused: run each alone, so only that request fails.
      return void await Promise.all(batch.map((w) => this.#runAlone(w)));
    }
    let start = 0;
    for (const w of batch) {
      w.resolve(slice(out, joined.rows, start, w.rows));
      start += w.rows;
    }
  }

  async #runAlone(w: Waiting): Promise<void> {
    this.runs++;
    await this.#session.run(w.feeds).then(w.resolve, w.reject);
  }
}

/** The callers' feeds joined along dim 0; undefined when they cannot be (dtypes or row shapes differ). */
function join(batch: Waiting[]): { feeds: Record<string, HostTensor>; rows: number } | undefined {
  const rows = batch.reduce((n, w) => n + w.rows, 0);
  const feeds: Record<string, HostTensor> = {};
  for (const name of Object.keys(batch[0].feeds)) {
    const first = batch[0].feeds[name];
    const rowDims = first.dims.slice(1);
    const parts = batch.map((w) => w.feeds[name]);
    if (
      parts.some((t) =>
        !t || t.type !== first.type || t.dims.length !== first.dims.length ||
        t.dims.slice(1).some((d, i) => d !== rowDims[i])
      )
    ) return undefined;
    const width = elementCount(rowDims);
    const data = allocate(first.type, rows * width);
    let at = 0;
    for (const t of parts) {
      if (Array.isArray(data)) (t.data as string[]).forEach((v, i) => (data[at + i] = v));
      else (data as Float32Array).set(t.data as Float32Array, at);
      at += t.data.length;
    }
    feeds[name] = { type: first.type, data, dims: [rows, ...rowDims] };
  }
  return { feeds, rows };
}

/** One caller's rows of the joined outputs (outputs that are not per-row are given whole). */
function slice(
  out: Record<string, HostTensor>,
  totalRows: number,
  start: number,
  rows: number,
): Record<string, HostTensor> {
  const mine: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(out)) {
    if (t.dims[0] !== totalRows) {
      mine[name] = t;
      continue;
    }
    const width = elementCount(t.dims.slice(1));
    mine[name] = {
      type: t.type,
      data: t.data.slice(start * width, (start + rows) * width) as HostTensor["data"],
      dims: [rows, ...t.dims.slice(1)],
    };
  }
  return mine;
}
