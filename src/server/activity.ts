/**
 * @module
 * Recent inference activity for the status page: the last few inferences and
 * per-interval request counts and latencies over the last minutes, kept in
 * fixed rings (nothing grows with traffic; recording allocates nothing).
 *
 * @example
 * const activity = new Activity(Date.now);
 * activity.record(reply.time, "house-price-estimator", "house-price-estimator", 1, 0.0004);
 * activity.series(); // { bucketMs: 5000, start, requests: [...], meanMs: [...] }
 */

/** One recent inference. */
export interface RecentInference {
  /** Arrival, ms since the epoch. */
  time: number;
  pipeline: string;
  /** The last step's model served. */
  model: string;
  rows: number;
  /** Decoding plus every step, ms. */
  ms: number;
}

/** Requests and mean latency per interval, oldest first, ending with the interval holding `now`. */
export interface ActivitySeries {
  /** Start of the first interval, ms since the epoch. */
  start: number;
  bucketMs: number;
  requests: number[];
  /** Mean latency of each interval in ms; null where it had no request. */
  meanMs: (number | null)[];
}

/** Recent inferences and a short history of throughput and latency. */
export class Activity {
  readonly #now: () => number;
  readonly #bucketMs: number;
  readonly #recent: RecentInference[];
  #recentNext = 0;
  #recentCount = 0;
  readonly #counts: Float64Array;
  readonly #seconds: Float64Array;
  /** Index (time / bucketMs) of the newest interval recorded. */
  #head = -1;
  #requests = 0;
  #rows = 0;

  /** `buckets` intervals of `bucketMs` each (default 60 × 5 s: five minutes); the last `keep` inferences. */
  constructor(now: () => number, bucketMs = 5_000, buckets = 60, keep = 10) {
    this.#now = now;
    this.#bucketMs = bucketMs;
    this.#counts = new Float64Array(buckets);
    this.#seconds = new Float64Array(buckets);
    this.#recent = Array.from({ length: keep }, () => ({ time: 0, pipeline: "", model: "", rows: 0, ms: 0 }));
  }

  /** Inference requests recorded since start. */
  get requests(): number {
    return this.#requests;
  }
  /** Input rows recorded since start. */
  get rows(): number {
    return this.#rows;
  }

  /** Records one inference that arrived at `time` and took `seconds`. */
  record(time: number, pipeline: string, model: string, rows: number, seconds: number): void {
    this.#requests++;
    this.#rows += rows;
    const r = this.#recent[this.#recentNext];
    r.time = time;
    r.pipeline = pipeline;
    r.model = model;
    r.rows = rows;
    r.ms = seconds * 1000;
    this.#recentNext = (this.#recentNext + 1) % this.#recent.length;
    this.#recentCount = Math.min(this.#recentCount + 1, this.#recent.length);
    const at = this.#advance(Math.floor(time / this.#bucketMs));
    if (at < 0) return; // older than the window
    this.#counts[at]++;
    this.#seconds[at] += seconds;
  }

  /** The last inferences, newest first (copies). */
  recent(): RecentInference[] {
    const n = this.#recent.length;
    const out: RecentInference[] = [];
    for (let k = 1; k <= this.#recentCount; k++) out.push({ ...this.#recent[(this.#recentNext - k + n) % n] });
    return out;
  }

  /** Requests and mean latency per interval, up to the interval holding now. */
  series(): ActivitySeries {
    const n = this.#counts.length;
    const nowIndex = Math.floor(this.#now() / this.#bucketMs);
    this.#advance(nowIndex);
    const requests: number[] = [];
    const meanMs: (number | null)[] = [];
    for (let k = n - 1; k >= 0; k--) {
      const index = this.#head - k;
      const slot = ((index % n) + n) % n;
      requests.push(this.#counts[slot]);
      meanMs.push(this.#counts[slot] ? (this.#seconds[slot] / this.#counts[slot]) * 1000 : null);
    }
    return { start: (this.#head - n + 1) * this.#bucketMs, bucketMs: this.#bucketMs, requests, meanMs };
  }

  /** Moves the window so interval `index` is in it (clearing the ones passed); its slot, or -1 when too old. */
  #advance(index: number): number {
    const n = this.#counts.length;
    if (this.#head < 0) this.#head = index;
    if (index > this.#head) {
      for (let i = this.#head + 1; i <= Math.min(index, this.#head + n); i++) {
        this.#counts[i % n] = 0;
        this.#seconds[i % n] = 0;
      }
      this.#head = index;
    }
    if (index <= this.#head - n) return -1;
    return ((index % n) + n) % n;
  }
}
