/**
 * @module
 * What /metrics costs: the demo, 1-row pandas-records at 4 connections, the
 * log durable (the defaults), through tern with METRICS=false (the baseline)
 * and METRICS=true, measured in turns `rounds` times (alternate.ts) so drift on
 * a shared machine falls on both; each side's median req/s is its figure. Part of
 * `deno task bench` (scripts/bench/main.ts); alone:
 * `deno run -A scripts/bench/metrics_cost.ts` prints the lines and the ratio.
 */
import { loadReference, recordsBody } from "../../tests/support/reference.ts";
import { startTern } from "../../tests/support/tern_process.ts";
import type { Figures } from "./load.ts";
import { measureInTurns } from "./alternate.ts";

/** The two lines (metrics off, on: each the median round by req/s) and on ÷ off. */
export interface MetricsCost {
  off: Figures;
  on: Figures;
  /** req/s with metrics ÷ req/s without (1: free; goal ≥ 0.97). */
  ratio: number;
}

/** Measures both sides `rounds` times each for `seconds`, in turns (alternate.ts) against two processes. */
export async function measureMetricsCost(seconds: number, threads: number, rounds = 4): Promise<MetricsCost> {
  const body = recordsBody(loadReference().inputs.slice(0, 1));
  const start = (on: boolean) => startTern({ args: ["--config-cpus", String(threads), "--metrics", String(on)] });
  const terns = { off: await start(false), on: await start(true) };
  try {
    const where = (side: string) => ({
      section: "metrics",
      scenario: "demo 1-row JSON",
      path: `tern /infer, metrics ${side}`,
      connections: 4,
    });
    const [off, on] = await measureInTurns(
      [{ where: where("off"), url: `${terns.off.url}/infer` }, { where: where("on"), url: `${terns.on.url}/infer` }],
      { contentType: "application/json; format=pandas-records", body, seconds },
      rounds,
    );
    return { off, on, ratio: on.perSecond / off.perSecond };
  } finally {
    await terns.off.stop();
    await terns.on.stop();
  }
}

if (import.meta.main) {
  const seconds = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
  const cost = await measureMetricsCost(seconds, navigator.hardwareConcurrency || 1);
  for (const f of [cost.off, cost.on]) {
    console.log(`${f.path}, 4 conns: ${f.perSecond.toFixed(0)} req/s, p50 ${f.p50Ms.toFixed(3)} ms`);
  }
  console.log(`metrics on ÷ off: ${cost.ratio.toFixed(3)} (goal ≥ 0.97)`);
}
