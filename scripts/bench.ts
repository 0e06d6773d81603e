/**
 * @module
 * `deno task bench`: tern's performance record. Starts the real tern (source,
 * or `TERN_BIN=dist/tern`) on a loopback port and drives it with a closed-loop
 * load generator in this process, then measures bare onnxruntime-web
 * `session.run` on the same inputs in this process as the baseline, so both
 * figures come from the same machine in the same run.
 *
 * Scenarios: a 1-row pandas-records request and a 1,000-row Arrow file
 * request against the demo pipeline, at 1 and 4 connections, with the
 * inference log durable (the default); the 1-row request also with the log
 * off and async, to show what logging costs.
 *
 * Environment: BENCH_SECONDS (per measurement, default 5), TERN_BIN.
 * The load generator shares the machine's cores with tern: on a 2-core box
 * the HTTP figures include that contention.
 */
import { createOrtWebWasmBackend } from "../src/engine/ort_web.ts";
import { DEMO_MODEL_URL } from "../src/pipeline/demo.ts";
import { arrowBody, loadReference, recordsBody } from "../tests/support/reference.ts";
import { startTern } from "../tests/support/tern_process.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const THREADS = navigator.hardwareConcurrency || 1;

interface Figures {
  scenario: string;
  path: string;
  connections: number;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function summarise(
  scenario: string,
  path: string,
  connections: number,
  latencies: number[],
  seconds: number,
): Figures {
  const sorted = latencies.sort((a, b) => a - b);
  return {
    scenario,
    path,
    connections,
    requests: sorted.length,
    perSecond: sorted.length / seconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
  };
}

/** Runs `once` in `connections` closed loops for `seconds`; returns each call's latency in ms. */
async function closedLoop(connections: number, seconds: number, once: () => Promise<void>): Promise<number[]> {
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

const ref = loadReference();
const scenarios = [
  {
    name: "1-row pandas-records",
    rows: ref.inputs.slice(0, 1),
    type: "application/json; format=pandas-records",
    body: recordsBody(ref.inputs.slice(0, 1)),
  },
  {
    name: "1,000-row Arrow file",
    rows: ref.inputs,
    type: "application/vnd.apache.arrow.file",
    body: arrowBody(ref.inputs),
  },
];

const results: Figures[] = [];

/** Measures `scenario` against a running tern at `connections`. */
async function measureHttp(url: string, s: typeof scenarios[number], connections: number, path: string) {
  const once = async () => {
    const res = await fetch(`${url}/infer`, { method: "POST", headers: { "content-type": s.type }, body: s.body });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  };
  await closedLoop(connections, Math.min(1, SECONDS), once); // warm-up
  results.push(summarise(s.name, path, connections, await closedLoop(connections, SECONDS, once), SECONDS));
}

// The inference log's cost: the same 1-row request with logging off, async and durable (the default).
for (const durability of ["off", "async", "durable"]) {
  const tern = await startTern({ args: ["--config-cpus", String(THREADS), "--log-durability", durability] });
  try {
    for (const s of durability === "durable" ? scenarios : scenarios.slice(0, 1)) {
      for (const connections of [1, 4]) await measureHttp(tern.url, s, connections, `tern /infer, log ${durability}`);
    }
  } finally {
    await tern.stop();
  }
}

const backend = createOrtWebWasmBackend({ threads: THREADS });
const session = await backend.load(await Deno.readFile(DEMO_MODEL_URL), "demo");
for (const s of scenarios) {
  const feeds = {
    tensor: { type: "float32" as const, data: new Float32Array(s.rows.flat()), dims: [s.rows.length, 18] },
  };
  const once = async () => void await session.run(feeds);
  await closedLoop(1, Math.min(1, SECONDS), once);
  results.push(summarise(s.name, `bare session.run (${backend.name})`, 1, await closedLoop(1, SECONDS, once), SECONDS));
}
await session.release();

const fmt = (n: number, digits: number) => n.toFixed(digits).padStart(9);
console.log(`\ntern bench: demo pipeline, ${backend.description}, ${SECONDS}s per line, ${THREADS} cores\n`);
console.log("| scenario               | path                         | conns |     req/s |  p50 ms |  p99 ms |");
console.log("|------------------------|------------------------------|------:|----------:|--------:|--------:|");
for (const r of results) {
  console.log(
    `| ${r.scenario.padEnd(22)} | ${r.path.padEnd(28)} | ${String(r.connections).padStart(5)} | ${
      fmt(r.perSecond, 0)
    } | ${fmt(r.p50Ms, 3).slice(2)} | ${fmt(r.p99Ms, 3).slice(2)} |`,
  );
}
for (const s of scenarios) {
  const http = results.find((r) => r.scenario === s.name && r.connections === 1 && r.path.endsWith("durable"))!;
  const bare = results.find((r) => r.scenario === s.name && r.path.startsWith("bare"))!;
  console.log(
    `${s.name}: tern HTTP p50 is ${(http.p50Ms / bare.p50Ms).toFixed(1)}x bare session.run p50 ` +
      `(+${(http.p50Ms - bare.p50Ms).toFixed(3)} ms for HTTP, codecs and durable logging)`,
  );
}
Deno.exit(0);
