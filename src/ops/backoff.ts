/**
 * @module
 * Exponential backoff with jitter for requests to Ops: the n-th delay in a row
 * is drawn between half and all of min(cap, base × 2ⁿ), so edges that lost
 * Ops together do not all come back in the same instant. (The pipeline
 * updater's reloads wait by it too, without jitter.)
 */

/** Delays between retries; `reset` after a success. */
export class Backoff {
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #random: () => number;
  #failures = 0;

  /** `random` returns [0, 1] (Math.random; injectable for tests; `() => 1`: the whole step, no jitter). */
  constructor(baseMs: number, capMs: number, random: () => number = Math.random) {
    this.#baseMs = baseMs;
    this.#capMs = Math.max(baseMs, capMs);
    this.#random = random;
  }

  /** The next delay in ms. */
  next(): number {
    const ceiling = Math.min(this.#capMs, this.#baseMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    return Math.round(ceiling * (0.5 + 0.5 * this.#random()));
  }

  /** Failures in a row so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Starts over after a success. */
  reset(): void {
    this.#failures = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
