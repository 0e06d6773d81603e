/**
 * @module
 * Timing a model before it serves, on zeros (empty strings) of the model's
 * own shape: one row (or `rows` in a free batch dim), other symbolic dims
 * taken as 1.
 */
import { allocate, concreteDims, elementCount, type HostTensor, type TensorSpec } from "./tensor.ts";

/** A zero tensor shaped like `spec`: a free first (batch) dim of `rows`, other symbolic or unknown dims of 1. */
export function allocateZeros(spec: TensorSpec, rows = 1): HostTensor {
  const dims = concreteDims(spec, rows);
  const data = allocate(spec.type, elementCount(dims));
  if (Array.isArray(data)) data.fill("");
  return { type: spec.type, data, dims };
}

/** Fewest runs timed by default: the median is taken. */
const TIMED_RUNS = 7;
/** Fast models keep running until this much time is measured, so their medians are stable (µs-scale runs are noisy). */
const MIN_TIMED_MS = 20;
/** Most runs timed. */
const MAX_TIMED_RUNS = 2000;
/** Timing stops early only on runs at least this long: shorter ones cost nothing to finish, and vary too much. */
const GIVE_UP_MIN_MS = 10;

/**
 * Median ms per run of `run` on zero inputs of the model's shape (after one
 * untimed run): at least TIMED_RUNS runs, and more until MIN_TIMED_MS are
 * measured. With `beatMs` (the best median of another backend), timing stops
 * once two runs in a row took GIVE_UP_MIN_MS or more and over twice that, and
 * returns the faster of them: a slow model on a slow backend would otherwise
 * cost seconds of start-up to lose anyway (one slow run alone may be a hiccup).
 * Rounded to µs: finer digits are timer noise. `rows` fills a free batch dim
 * (default 1); `minRuns` lowers the fewest runs timed (for costly batches).
 */
export async function timeRuns(
  inputs: readonly TensorSpec[],
  run: (feeds: Record<string, HostTensor>) => Promise<unknown>,
  beatMs?: number,
  { rows = 1, minRuns = TIMED_RUNS }: { rows?: number; minRuns?: number } = {},
): Promise<number> {
  const feeds = Object.fromEntries(inputs.map((spec) => [spec.name, allocateZeros(spec, rows)]));
  await run(feeds);
  const times: number[] = [];
  let spent = 0;
  while (times.length < minRuns || (spent < MIN_TIMED_MS && times.length < MAX_TIMED_RUNS)) {
    const t0 = performance.now();
    await run(feeds);
    const ms = performance.now() - t0;
    times.push(ms);
    const fastest = Math.min(...times.slice(-2));
    if (beatMs !== undefined && times.length >= 2 && fastest > 2 * beatMs && fastest >= GIVE_UP_MIN_MS) {
      return Math.round(fastest * 1000) / 1000;
    }
    spent += ms;
  }
  return Math.round(times.sort((a, b) => a - b)[Math.floor(times.length / 2)] * 1000) / 1000;
}
