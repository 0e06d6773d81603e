/**
 * @module
 * The benchmark's in-process measuring tools (bare `session.run` loops): a
 * closed-loop runner and percentile summaries. HTTP load comes from wrk.ts.
 */

/** One measured line of the record. */
export interface Figures {
  section: string;
  scenario: string;
  path: string;
  connections: number;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `once` in `connections` closed loops for `seconds`; returns each call's latency in ms. */
export async function closedLoop(connections: number, seconds: number, once: () => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await once();
      latencies.push(performance.now() - t0);
    }
  }));
  return latencies;
}

/** Where a line was measured: everything of Figures but the figures. */
export type Where = Omit<Figures, "requests" | "perSecond" | "p50Ms" | "p99Ms">;

/** The figures of `latencies` (ms) taken over `seconds`. */
export function summarise(where: Where, latencies: number[], seconds: number): Figures {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { ...where, requests: sorted.length, perSecond: sorted.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** Warms up for a second, then measures `seconds`. */
export async function measure(where: Where, seconds: number, once: () => Promise<void>): Promise<Figures> {
  await closedLoop(where.connections, Math.min(1, seconds), once);
  return summarise(where, await closedLoop(where.connections, seconds, once), seconds);
}
