/**
 * @module
 * How much CPU time the hypervisor took from this virtual machine (the `steal`
 * column of /proc/stat) while a stretch of the bench ran. On the shared
 * development machine it ranged from 14 % to 27 % of all CPU time within
 * minutes, and req/s moved with it, so the record says how much was taken.
 */

/** The machine's CPU time counters (all CPUs, in clock ticks), or undefined where /proc/stat is not readable. */
export interface CpuTimes {
  total: number;
  steal: number;
}

/** Reads the `cpu` line of /proc/stat. */
export function cpuTimes(): CpuTimes | undefined {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n", 1)[0];
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal [guest guest_nice: already counted in user and nice]
    return { total: ticks.slice(0, 8).reduce((a, b) => a + b, 0), steal: ticks[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/** The share of CPU time stolen between two readings, in percent (undefined when either is missing). */
export function stolenPercent(before: CpuTimes | undefined, after: CpuTimes | undefined): number | undefined {
  if (!before || !after) return undefined;
  return after.total > before.total ? (100 * (after.steal - before.steal)) / (after.total - before.total) : 0;
}

/** `stolenPercent` as words for the record. */
export function stolenWords(percent: number | undefined): string {
  return percent === undefined ? "not known (no /proc/stat)" : `${percent.toFixed(1)} % of all CPU time`;
}
