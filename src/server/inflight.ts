/**
 * @module
 * A budget of request-body bytes served at once (MAX_INFLIGHT_SIZE), so a
 * burst of large requests cannot take the process past its memory: a request
 * takes its share before its body is read and gives it back when its reply
 * is built; one that does not fit waits its turn (first come, first served)
 * and gets 503 after `maxWaitMs`.
 *
 * @example
 * const budget = new InflightBudget(64 << 20, 10_000);
 * const release = await budget.take(bodyBytes);
 * try { ... } finally { release(); }
 */
import { Unavailable } from "../errors.ts";

/** How long a request waits for its share of MAX_INFLIGHT_SIZE before a 503. */
export const INFLIGHT_WAIT_MS = 10_000;

interface Waiter {
  bytes: number;
  grant: () => void;
}

/** Bytes of request bodies being served, bounded. */
export class InflightBudget {
  readonly #capacity: number;
  readonly #maxWaitMs: number;
  #used = 0;
  #waiters: Waiter[] = [];

  /** `capacity` bytes at once; a request waits at most `maxWaitMs` for room. */
  constructor(capacity: number, maxWaitMs: number) {
    this.#capacity = capacity;
    this.#maxWaitMs = maxWaitMs;
  }

  /** Bytes taken now. */
  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` (at most the capacity), waiting for room; returns the function that gives them back. */
  async take(bytes: number): Promise<() => void> {
    const n = Math.min(bytes, this.#capacity);
    if (this.#waiters.length === 0 && this.#used + n <= this.#capacity) {
      this.#used += n;
    } else {
      await this.#wait(n);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= n;
      this.#grant();
    };
  }

  /** Takes the share of a request's body before it is read: its declared size, else `undeclared` (the largest). */
  takeFor(req: Request, undeclared: number): Promise<() => void> {
    const declared = Number(req.headers.get("content-length") ?? NaN);
    return this.take(Number.isFinite(declared) ? declared : undeclared);
  }

  #wait(bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        this.#grant(); // a smaller request behind this one may fit now
        reject(
          new Unavailable(
            `busy: ${this.#used} bytes of requests are being served (MAX_INFLIGHT_SIZE ${this.#capacity}); retry shortly`,
          ),
        );
      }, this.#maxWaitMs);
      this.#waiters.push(waiter);
    });
  }

  /** Admits waiters in arrival order while they fit. */
  #grant(): void {
    while (this.#waiters.length > 0 && this.#used + this.#waiters[0].bytes <= this.#capacity) {
      const next = this.#waiters.shift()!;
      this.#used += next.bytes;
      next.grant();
    }
  }
}
