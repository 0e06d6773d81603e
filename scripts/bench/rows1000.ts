/**
 * @module
 * The 1,000-row Arrow path of the demo regressor, measured beside its
 * baselines in one run (part of `deno task bench`, also runnable alone:
 * `deno run -A scripts/bench/rows1000.ts`, BENCH_SECONDS per line):
 *
 * - bare native `session.run` of the same 1,000 rows, in a process of its own
 *   (scripts/bench/bare_run.ts demo1000);
 * - tern /infer with the log off, async and durable, through wrk at 1 and 4
 *   connections, with the default pandas-records reply; and with the log off
 *   and durable, with an Arrow reply (`Accept: application/vnd.apache.arrow.file`);
 * - a per-stage breakdown in this process with tern's own functions: Arrow
 *   decode, native session.run, the pandas-records and Arrow replies, the log
 *   record, its commit through the store (on this thread, as tern commits
 *   records of this size) and the INSERT + COMMIT alone, its journal write
 *   (what a durable reply waits for since the journal); and, off the serving
 *   path, turning the record back into rows as `/logs` does. Median per request.
 *
 * With BENCH_BEFORE_BIN (an executable running another tern build, e.g. a
 * wrapper around `deno run -A OTHER_CHECKOUT/src/main.ts`), the durable lines
 * are measured again with it, labelled `(before)`: a before/after in one run.
 */
import { decodeArrow } from "../../src/codec/arrow_input.ts";
import { encodeArrowReply } from "../../src/codec/arrow_reply.ts";
import { encodeRecordsReply, type InferenceReply } from "../../src/codec/reply.ts";
import { createOrtNativeBackend } from "../../src/engine/ort_native.ts";
import { LogAppender } from "../../src/logs/appender.ts";
import { LogJournal } from "../../src/logs/journal.ts";
import { toLogRecord } from "../../src/logs/entry.ts";
import { recordRows } from "../../src/logs/rows.ts";
import { openLogStore } from "../../src/logs/store.ts";
import { DEMO_MODEL_URL } from "../../src/pipeline/demo.ts";
import { arrowBody, loadReference } from "../../tests/support/reference.ts";
import { startTern } from "../../tests/support/tern_process.ts";
import { measureBareRun } from "./bare_spawn.ts";
import type { Figures } from "./load.ts";
import { wrkMeasure } from "./wrk.ts";

const ARROW_FILE = "application/vnd.apache.arrow.file";
const SCENARIO = "demo 1,000-row Arrow";

/** Median ms of one stage of a 1,000-row request. */
export interface Stage {
  stage: string;
  medianMs: number;
}

/** What the 1,000-row bench measured. */
export interface Rows1000 {
  lines: Figures[];
  stages: Stage[];
  targets: { target: string; value: number; goal: number; higherIsBetter: boolean }[];
}

/** Runs every line; `seconds` per wrk line, `threads` for onnxruntime and tern. */
export async function measureRows1000(seconds: number, threads: number): Promise<Rows1000> {
  const note = (line: string) => console.error(`bench rows1000: ${line}`);
  const ref = loadReference();
  const body = arrowBody(ref.inputs);
  const lines: Figures[] = [];

  note("bare session.run, 1,000 rows");
  lines.push({
    section: "rows1000",
    scenario: SCENARIO,
    path: "bare session.run, native",
    connections: 1,
    ...await measureBareRun("demo1000", "native", threads, seconds),
  });

  note("stage breakdown");
  const stages = await stageBreakdown(body, threads);

  const before = Deno.env.get("BENCH_BEFORE_BIN");
  const runs = [["off", ""], ["async", ""], ["durable", ""], ...(before ? [["durable", " (before)"]] : [])];
  for (const [durability, label] of runs) {
    note(`tern, log ${durability}${label}`);
    const tern = await startTern({
      args: ["--config-cpus", String(threads), "--log-durability", durability],
      bin: label ? before : undefined,
    });
    try {
      const url = `${tern.url}/infer`;
      const replies = durability === "async" ? [""] : ["", ARROW_FILE];
      for (const accept of replies) {
        for (const connections of [1, 4]) {
          const path = `tern /infer, log ${durability}${label}${accept ? ", Arrow reply" : ""}`;
          lines.push(
            await wrkMeasure(
              { section: "rows1000", scenario: SCENARIO, path, connections },
              { url, contentType: ARROW_FILE, accept, body, seconds },
            ),
          );
        }
      }
    } finally {
      await tern.stop();
    }
  }

  const find = (scenario: string, path: string, connections: number) =>
    lines.find((l) => l.scenario === scenario && l.path === path && l.connections === connections)!;
  const bare = find(SCENARIO, "bare session.run, native", 1);
  const ratio = (target: string, value: number) => ({
    target: `${target} ≤ 1.5 × bare session.run p50`,
    value,
    goal: 1.5,
    higherIsBetter: false,
  });
  // Per reply format: the per-request time at 4 conns (1 / req/s) and the p50 at 1 conn.
  const formats = [["", "demo 1,000-row Arrow, log durable"], [", Arrow reply", "same, Arrow reply"]];
  const targets = formats.flatMap(([reply, label]) => {
    const path = `tern /infer, log durable${reply}`;
    return [
      ratio(`${label}, 4 conns: per-request time (1 / req/s)`, 1000 / find(SCENARIO, path, 4).perSecond / bare.p50Ms),
      ratio(`${label}, 1 conn: tern p50`, find(SCENARIO, path, 1).p50Ms / bare.p50Ms),
    ];
  });
  return { lines, stages, targets };
}

/** Median time of each stage of a 1,000-row request, with tern's own functions, in this process. */
async function stageBreakdown(body: Uint8Array, threads: number): Promise<Stage[]> {
  const session = await (await createOrtNativeBackend({ threads })).load(await Deno.readFile(DEMO_MODEL_URL), "demo");
  const dir = await Deno.makeTempDir({ prefix: "tern-bench-rows-" });
  const store = await openLogStore({ dir: `${dir}/worker`, sync: "normal", walLimitBytes: 64 << 20 });
  await Deno.mkdir(`${dir}/local`);
  const local = await openLogStore({ dir: `${dir}/local`, sync: "normal", walLimitBytes: 64 << 20 });
  await local.close(); // migrated; the appender below writes to it from this thread
  const appender = new LogAppender(`${dir}/local/inference-log.db`, { sync: "normal", walLimitBytes: 64 << 20 });
  const { journal } = LogJournal.open(`${dir}/inference-log.journal`, 0);
  const times: Record<string, number[]> = {};
  const time = async <T>(stage: string, f: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const value = await f();
    (times[stage] ??= []).push(performance.now() - t0);
    return value;
  };
  const utf8 = new TextEncoder();
  try {
    for (let i = 0; i < 220; i++) {
      const input = await time("Arrow decode (decodeArrow)", () => decodeArrow(body, session.inputs, 64 << 20));
      const outputs = await time("native session.run", () => session.run(input.tensors));
      const reply: InferenceReply = {
        pipelineName: "house-price-estimator",
        modelName: "house-price-estimator",
        modelVersion: "v1",
        time: Date.now(),
        elapsedNs: [1000, 2000],
        outputs: session.outputs.map((o) => [o.name, outputs[o.name]]),
        input,
      };
      await time("pandas-records reply (encode + UTF-8)", () => utf8.encode(encodeRecordsReply(reply)));
      await time("Arrow reply (encodeArrowReply)", () => encodeArrowReply(reply));
      const record = await time(
        "log record (toLogRecord)",
        () => toLogRecord({ reply, pipelineVersion: "v1", modelSha: "0".repeat(64) }, "bench"),
      );
      await time("commit (store.commit, on this thread)", () => store.commit([record]));
      await time("  of which INSERT + COMMIT (LogAppender.append)", () => appender.append([record]));
      const seq = await time(
        "journal write (what a durable reply waits for: LogJournal.write)",
        () => journal.write([record]),
      );
      journal.committed(seq);
      await time(
        "read side: the record back into 1,000 rows (recordRows, as /logs does)",
        () => recordRows({ ...record, id: 1, uploaded: 0 }),
      );
    }
  } finally {
    appender.close();
    await journal.close();
    await store.close();
    await session.release();
    await Deno.remove(dir, { recursive: true });
  }
  return Object.entries(times).map(([stage, ms]) => {
    const sorted = ms.slice(20).sort((a, b) => a - b); // the first 20 warm up
    return { stage, medianMs: sorted[Math.floor(sorted.length / 2)] };
  });
}

/** The figures as markdown tables. */
export function rows1000Markdown(r: Rows1000): string {
  return [
    "| scenario | path | conns | req/s | p50 ms | p99 ms |",
    "|---|---|--:|--:|--:|--:|",
    ...r.lines.map((l) =>
      `| ${l.scenario} | ${l.path} | ${l.connections} | ${l.perSecond.toFixed(0)} | ${l.p50Ms.toFixed(3)} | ${
        l.p99Ms.toFixed(3)
      } |`
    ),
    "",
    "| stage of one 1,000-row request (in process, median of 200) | ms |",
    "|---|--:|",
    ...r.stages.map((s) => `| ${s.stage} | ${s.medianMs.toFixed(3)} |`),
    "",
    "| target | measured | goal | met |",
    "|---|--:|--:|---|",
    ...r.targets.map((t) =>
      `| ${t.target} | ${t.value.toFixed(2)} | ${t.goal} | ${
        (t.higherIsBetter ? t.value >= t.goal : t.value <= t.goal) ? "yes" : "no"
      } |`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const seconds = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
  const threads = navigator.hardwareConcurrency || 1;
  const r = await measureRows1000(seconds, threads);
  console.log(`\n${new Date().toISOString()}: ${threads} cores, ${seconds} s per line\n\n${rows1000Markdown(r)}\n`);
  if (Deno.env.get("ROWS1000_JSON")) {
    await Deno.writeTextFile(Deno.env.get("ROWS1000_JSON")!, JSON.stringify(r, null, 2));
  }
  Deno.exit(0);
}
