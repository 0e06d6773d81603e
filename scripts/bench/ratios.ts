/**
 * @module
 * The 1-row targets, measured in turns (alternate.ts): the bare Deno.serve + native `session.run` server
 * (bare_server.ts) and tern with the log off, async and durable, four processes side by side, the demo's
 * 1-row pandas-records at 4 connections, `rounds` rounds. Each ratio is tern's median req/s over the bare
 * server's median. Part of `deno task bench`; alone: `deno run -A scripts/bench/ratios.ts`.
 */
import { DEMO_MODEL_URL } from "../../src/pipeline/demo.ts";
import { loadReference, recordsBody } from "../../tests/support/reference.ts";
import { startTern, type TernProcess } from "../../tests/support/tern_process.ts";
import { measureInTurns, type Side } from "./alternate.ts";
import { startBareServer } from "./bare_spawn.ts";
import type { Figures } from "./load.ts";
import { cpuTimes, stolenPercent, stolenWords } from "./cpu_steal.ts";

/** A target: `value` against `goal`. */
export interface Target {
  target: string;
  value: number;
  goal: number;
  higherIsBetter: boolean;
}

const MODES = ["off", "async", "durable"] as const;
/** Per log mode: the step on the way, then the product goal (both ≥, ratios to the bare server). */
const GOALS: Record<(typeof MODES)[number], number[]> = { off: [], async: [0.7, 0.8], durable: [0.5, 0.8] };

/** The four lines (bare, tern off, async, durable: medians) and the targets from them. */
export async function measureOneRowRatios(
  seconds: number,
  threads: number,
  rounds = 3,
): Promise<{ lines: Figures[]; targets: Target[] }> {
  const where = (path: string) => ({ section: "ratios", scenario: "demo 1-row JSON", path, connections: 4 });
  const bare = await startBareServer(new URL(DEMO_MODEL_URL).pathname, threads);
  const terns: TernProcess[] = [];
  try {
    for (const mode of MODES) {
      terns.push(await startTern({ args: ["--config-cpus", String(threads), "--log-durability", mode] }));
    }
    const sides: Side[] = [
      { where: where("bare Deno.serve + native run"), url: bare.url },
      ...MODES.map((mode, i) => ({ where: where(`tern /infer, log ${mode}`), url: `${terns[i].url}/infer` })),
    ];
    const body = recordsBody(loadReference().inputs.slice(0, 1));
    const lines = await measureInTurns(
      sides,
      { contentType: "application/json; format=pandas-records", body, seconds },
      rounds,
    );
    const targets = MODES.flatMap((mode, i) =>
      GOALS[mode].map((goal) => ({
        target: `demo 1-row JSON, log ${mode}, 4 conns: tern req/s ≥ ${goal} × bare Deno.serve + session.run ` +
          `(medians of ${rounds} rounds in turns)`,
        value: lines[i + 1].perSecond / lines[0].perSecond,
        goal,
        higherIsBetter: true,
      }))
    );
    return { lines, targets };
  } finally {
    for (const tern of terns) await tern.stop();
    await bare.stop();
  }
}

if (import.meta.main) {
  const before = cpuTimes();
  const { lines, targets } = await measureOneRowRatios(
    Number(Deno.env.get("BENCH_SECONDS") ?? 5),
    navigator.hardwareConcurrency || 1,
  );
  for (const l of lines) console.log(`${l.path}: ${l.perSecond.toFixed(0)} req/s, p50 ${l.p50Ms.toFixed(3)} ms`);
  for (const t of targets) console.log(`${t.target}: ${t.value.toFixed(2)}`);
  console.log(`CPU time taken by the host (steal) meanwhile: ${stolenWords(stolenPercent(before, cpuTimes()))}`);
}
