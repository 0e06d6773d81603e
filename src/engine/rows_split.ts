/**
 * @module
 * One model on two runtimes, chosen per run by its rows. Runs of `fromRows`
 * rows or more go to the runtime that is faster on large batches (a GPU
 * runtime, whose run has a large fixed cost: WebGPU on an H200 took 43 ms at
 * batch 1 and 159 ms at 64, native CPU 9.2 ms an image). Smaller runs go to
 * the runtime that is faster on one row. INFERENCE_BACKEND=auto makes one when
 * adaptive batching is on (select.ts). Batches form only under load
 * (pipeline/batcher.ts), so a lone client gets the fast one-row runtime and
 * concurrent clients get the GPU's throughput.
 */
import type { ModelSession } from "./backend.ts";

/** Which runtime takes large runs, from how many rows, and the timings that decided it. */
export interface LargeBatches {
  /** The runtime that runs batches of `fromRows` rows or more. */
  backend: string;
  fromRows: number;
  /** The batch size the runtimes were compared at. */
  timedRows: number;
  /** Ms per run of `timedRows` rows, per runtime: a median as timed, the one-row winner's estimated (select.ts). */
  ms: Readonly<Record<string, number>>;
}

/** One runtime's median ms per run: at one row, and at the timed batch size. */
export interface RunTimes {
  at1: number;
  atRows: number;
}

/**
 * The fewest rows from which `large` runs a batch faster than `small`, or undefined when `large` is no faster at
 * `rows` rows. It reads each runtime's time as a line through its two timings (a fixed cost per run plus a cost
 * per row). The answer is at least 2 (one row is what `small` was chosen for) and at most `rows`.
 */
export function largeFromRows(small: RunTimes, large: RunTimes, rows: number): number | undefined {
  const at1 = large.at1 - small.at1;
  const atRows = large.atRows - small.atRows;
  if (!(atRows < 0) || rows < 2) return undefined;
  if (at1 <= 0) return 2; // faster at both sizes: the one-row timing was noise
  const crossing = 1 + at1 * (rows - 1) / (at1 - atRows);
  return Math.min(rows, Math.max(2, Math.floor(crossing) + 1));
}

/** The rows of one run: the first input's batch dim (1 for a scalar input). */
function rowsOf(session: ModelSession, feeds: Parameters<ModelSession["run"]>[0]): number {
  return feeds[session.inputs[0]?.name]?.dims[0] ?? 1;
}

/**
 * `small` and `large` as one session: a run of `largeBatches.fromRows` rows or more goes to `large`, any other to
 * `small`, whose name and figures the session shows. Releasing it releases both.
 */
export function splitByRows(small: ModelSession, large: ModelSession, largeBatches: LargeBatches): ModelSession {
  return {
    backend: small.backend,
    inputs: small.inputs,
    outputs: small.outputs,
    warmupMs: small.warmupMs,
    runMs: small.runMs,
    offThread: small.offThread,
    largeBatches,
    get failed() {
      return small.failed || large.failed;
    },
    run: (feeds) => (rowsOf(small, feeds) >= largeBatches.fromRows ? large : small).run(feeds),
    release: async () => {
      await Promise.all([small.release(), large.release()]);
    },
  };
}
