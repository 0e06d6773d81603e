/**
 * @module
 * `deno task bench-hub`: tern hub under a fleet, beside `deno task bench`.
 * 1,000 simulated edges (the edge's real Ops client with its own Ed25519 key
 * each, in this process) join, check in and upload log pages of demo-shaped
 * rows against one real `tern hub serve` (source, or TERN_BIN), on libSQL and
 * on PostgreSQL (Debian's postgresql 15, started in a temporary folder; skipped
 * with a note if it is not installed). Per store:
 *
 * - joins/s, all edges;
 * - check-ins alone: every edge checks in twice; rate, p50, p99;
 * - uploads: every edge sends BENCH_PAGES pages of BENCH_PAGE_ROWS rows with a
 *   check-in between pages; rows ingested per second over the phase, and the
 *   check-in p50/p99 while pages arrive. The hub's row count is checked against
 *   what was sent (exactly once).
 *
 * BENCH_CONCURRENCY requests are in flight at once. The simulated edges share
 * the machine's cores with the hub (and PostgreSQL). Writes bench/hub-results.md
 * and .json. Environment: BENCH_EDGES (1000), BENCH_PAGES (2), BENCH_PAGE_ROWS
 * (250), BENCH_CONCURRENCY (64), TERN_BIN.
 */
import { addEdge } from "../../src/hub/commands.ts";
import { openHubStore } from "../../src/hub/open_store.ts";
import type { StoredLogRow } from "../../src/logs/query.ts";
import { type EdgeKey, OpsClient } from "../../src/ops/client.ts";
import { parseEdgeBundle } from "../../src/ops/edge_bundle.ts";
import { uploadPage } from "../../src/ops/page.ts";
import type { CheckInRequest } from "../../src/ops/protocol.ts";
import { newKeyPair, signingKey } from "../../src/ops/session.ts";
import { freePort, startHub } from "../../tests/support/hub_process.ts";
import { startPostgres, type TestPostgres } from "../../tests/support/postgres.ts";
import { loadReference } from "../../tests/support/reference.ts";

const EDGES = Number(Deno.env.get("BENCH_EDGES") ?? 1000);
const PAGES = Number(Deno.env.get("BENCH_PAGES") ?? 2);
const PAGE_ROWS = Number(Deno.env.get("BENCH_PAGE_ROWS") ?? 250);
const CONCURRENCY = Number(Deno.env.get("BENCH_CONCURRENCY") ?? 64);
const note = (line: string) => console.error(`bench-hub: ${line}`);

/** One store's figures. */
interface HubFigures {
  store: string;
  edges: number;
  joinsPerSecond: number;
  checkInsPerSecond: number;
  checkInP50Ms: number;
  checkInP99Ms: number;
  rowsIngested: number;
  rowsPerSecond: number;
  pagesPerSecond: number;
  checkInUnderLoadP50Ms: number;
  checkInUnderLoadP99Ms: number;
}

interface SimEdge {
  name: string;
  /** The bundle's join token. */
  token: string;
  /** Set by the join. */
  id: string;
  key: EdgeKey;
  client: OpsClient;
}

const CHECK_IN: CheckInRequest = {
  status: "Running",
  pipeline_name: "house-price-estimator",
  pipeline_url: null,
  pipeline_version: "93b40260-eb39-82fc-aa6c-95032e198b82",
  backlog_rows: 0,
  evicted_rows: 0,
  tern_version: "bench",
};

/** Runs `tasks` with at most `limit` at a time. */
async function pool(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) await tasks[next++]();
  }));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** A page of demo-shaped rows of edge `name`, ids from `first`. */
function page(name: string, first: number): StoredLogRow[] {
  const ref = pageTemplate();
  return ref.map((r, i) => ({ ...r, id: first + i, partition: name }));
}

let template: StoredLogRow[] | undefined;
function pageTemplate(): StoredLogRow[] {
  if (template) return template;
  const ref = loadReference();
  template = Array.from({ length: PAGE_ROWS }, (_, i) => ({
    id: 0,
    time: Date.now(),
    inJson: JSON.stringify({ tensor: ref.inputs[i % ref.inputs.length] }),
    outJson: JSON.stringify({ variable: [ref.predictions[i % ref.predictions.length]] }),
    anomalyCount: 0,
    pipelineName: "house-price-estimator",
    pipelineVersion: "93b40260-eb39-82fc-aa6c-95032e198b82",
    lastModel: '{"model_name":"house-price-estimator","model_sha":"1767147f"}',
    elapsedJson: "[41253,180021]",
    droppedJson: "[]",
    partition: "",
    uploaded: 0,
  }));
  return template;
}

async function timed(latencies: number[], fn: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  await fn();
  latencies.push(performance.now() - t0);
}

async function benchStore(store: string, state: { stateDir: string } | { databaseUrl: string }): Promise<HubFigures> {
  note(`${store}: adding ${EDGES} edges`);
  const port = freePort();
  const host = `127.0.0.1:${port}`;
  const admin = await openHubStore(state);
  const bundles: string[] = [];
  try {
    for (let i = 0; i < EDGES; i++) {
      bundles.push(
        await addEdge(admin, { name: `edge-${i}`, workspace: "bench", opscenterHost: host }, Date.now()),
      );
    }
  } finally {
    await admin.close();
  }
  const hub = await startHub(state, port);
  try {
    const base = new URL(`http://${host}`);
    const edges: SimEdge[] = [];
    for (const b of bundles) {
      const bundle = parseEdgeBundle(b);
      const pair = await newKeyPair();
      const key = {
        key: await signingKey({
          version: 1,
          edgeName: bundle.EDGE_NAME,
          opsHost: host,
          tokenSha256: "",
          ...pair,
          edgeId: null,
          joinedAt: null,
          lastContact: null,
        }),
        publicJwk: pair.publicJwk,
      };
      const client = new OpsClient({ base, edgeName: bundle.EDGE_NAME, fetch, now: Date.now });
      edges.push({ name: bundle.EDGE_NAME, token: bundle.JOIN_TOKEN, id: "", key, client });
    }

    note(`${store}: ${EDGES} joins`);
    let t0 = performance.now();
    await pool(
      edges.map((e) => async () => {
        e.id = (await e.client.join(e.key, { edge_name: e.name, join_token: e.token, tern_version: "bench" })).edge_id;
      }),
      CONCURRENCY,
    );
    const joinsPerSecond = EDGES / ((performance.now() - t0) / 1000);

    note(`${store}: ${EDGES * 2} check-ins`);
    const alone: number[] = [];
    t0 = performance.now();
    await pool(
      [...edges, ...edges].map((e) => () => timed(alone, () => e.client.checkIn(e.key, CHECK_IN))),
      CONCURRENCY,
    );
    const checkInSeconds = (performance.now() - t0) / 1000;

    note(`${store}: ${EDGES * PAGES} pages of ${PAGE_ROWS} rows, a check-in between pages`);
    const loaded: number[] = [];
    pageTemplate();
    t0 = performance.now();
    await pool(
      edges.map((e) => async () => {
        for (let p = 0; p < PAGES; p++) {
          await e.client.upload(e.key, e.id, uploadPage(page(e.name, p * PAGE_ROWS + 1), PAGE_ROWS, e.name));
          if (p < PAGES - 1) await timed(loaded, () => e.client.checkIn(e.key, CHECK_IN));
        }
      }),
      CONCURRENCY,
    );
    const uploadSeconds = (performance.now() - t0) / 1000;
    const listed: { rows_received: number }[] = (await (await fetch(`http://${host}/edges`)).json()).edges;
    const rowsIngested = listed.reduce((sum, e) => sum + e.rows_received, 0);
    if (rowsIngested !== EDGES * PAGES * PAGE_ROWS) {
      throw new Error(`the hub holds ${rowsIngested} rows, ${EDGES * PAGES * PAGE_ROWS} were sent`);
    }
    alone.sort((a, b) => a - b);
    loaded.sort((a, b) => a - b);
    return {
      store,
      edges: EDGES,
      joinsPerSecond,
      checkInsPerSecond: alone.length / checkInSeconds,
      checkInP50Ms: percentile(alone, 0.5),
      checkInP99Ms: percentile(alone, 0.99),
      rowsIngested,
      rowsPerSecond: rowsIngested / uploadSeconds,
      pagesPerSecond: (EDGES * PAGES) / uploadSeconds,
      checkInUnderLoadP50Ms: loaded.length ? percentile(loaded, 0.5) : NaN,
      checkInUnderLoadP99Ms: loaded.length ? percentile(loaded, 0.99) : NaN,
    };
  } finally {
    await hub.stop();
  }
}

const results: HubFigures[] = [];
const dir = await Deno.makeTempDir({ prefix: "tern-bench-hub-" });
try {
  results.push(await benchStore("libSQL", { stateDir: `${dir}/hub` }));
  let pg: TestPostgres | undefined;
  try {
    pg = await startPostgres();
  } catch (err) {
    note(`PostgreSQL skipped: ${(err as Error).message}`);
  }
  if (pg) {
    try {
      results.push(await benchStore("PostgreSQL", { databaseUrl: pg.url }));
    } finally {
      await pg.stop();
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

const when = new Date().toISOString();
const cores = navigator.hardwareConcurrency || 1;
const f = (n: number, digits = 0) => Number.isNaN(n) ? "-" : n.toFixed(digits);
const md = [
  "# tern hub benchmark record",
  "",
  `tern hub bench, ${when}: ${cores} cores, ${EDGES} simulated edges (in the bench process, sharing the cores), ` +
  `${PAGES} pages of ${PAGE_ROWS} demo-shaped rows each, ${CONCURRENCY} requests in flight, hub ${
    Deno.env.get("TERN_BIN") ? "from TERN_BIN" : "from source (deno)"
  }. Produced by \`deno task bench-hub\` (scripts/bench/hub.ts).`,
  "",
  "| store | edges | joins/s | check-ins/s | check-in p50 ms | check-in p99 ms | rows ingested | rows/s | pages/s | check-in p50 ms during uploads | check-in p99 ms during uploads |",
  "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ...results.map((r) =>
    `| ${r.store} | ${r.edges} | ${f(r.joinsPerSecond)} | ${f(r.checkInsPerSecond)} | ${f(r.checkInP50Ms, 2)} | ${
      f(r.checkInP99Ms, 2)
    } | ${r.rowsIngested} | ${f(r.rowsPerSecond)} | ${f(r.pagesPerSecond, 1)} | ${f(r.checkInUnderLoadP50Ms, 2)} | ${
      f(r.checkInUnderLoadP99Ms, 2)
    } |`
  ),
  "",
].join("\n");
console.log(md);
const out = new URL("../../bench/", import.meta.url);
await Deno.writeTextFile(new URL("hub-results.md", out), md);
await Deno.writeTextFile(
  new URL("hub-results.json", out),
  JSON.stringify(
    { when, cores, edges: EDGES, pages: PAGES, pageRows: PAGE_ROWS, concurrency: CONCURRENCY, results },
    null,
    2,
  ) +
    "\n",
);
