/**
 * @module
 * `deno task bench`: tern's performance record. Every figure is measured in
 * the same run on the same machine, beside its baseline:
 *
 * 1. Logging: the demo regressor, 1-row pandas-records and 1,000-row Arrow,
 *    through the real tern with the inference log off, async, durable and fsync;
 *    adaptive batching off and on at 8 connections.
 * 2. Backends: the demo, and a ResNet-50-shaped CNN (scripts/make_cnn_fixture.py,
 *    cached in .cache/models) published to Debian's docker-registry, served by
 *    tern with INFERENCE_BACKEND=native and =wasm (and webgpu, cuda on a GPU
 *    machine); which backend `auto` picks for each, with its warm-up figures.
 *    And `/health` latency while a slow model (tests/testdata/slow_matmul.onnx,
 *    run in a worker thread of its own) serves 4 connections.
 * 3. Baselines: bare `session.run` in a loop per backend, in a process of its
 *    own (scripts/bench/bare_run.ts; for the CNN also at 1 thread, the gap per
 *    thread), and a bare `Deno.serve` handler that only calls native
 *    `session.run` (scripts/bench/bare_server.ts).
 * 4. Cold start: spawn to /health/ready of the demo (median of 3), and of dist/tern
 *    when the run is from source and the binary is built.
 * 5. Metrics: the demo at 4 connections with METRICS=true against its
 *    baseline METRICS=false, alternated (scripts/bench/metrics_cost.ts).
 * 6. The 1,000-row Arrow path beside bare session.run of the same rows, with a
 *    per-stage breakdown (scripts/bench/rows1000.ts).
 *
 * HTTP load comes from Debian's wrk at 1 and 4 connections (scripts/bench/wrk.ts;
 * on a 2-core box it still shares the cores with the server).
 * Prints a table and the target ratios; writes bench/results.json and
 * bench/results.md. Environment: BENCH_SECONDS (per line, default 5), TERN_BIN.
 */
import { DEMO_MODEL_URL } from "../../src/pipeline/demo.ts";
import { probeWebGpu } from "../../src/engine/webgpu.ts";
import { arrowBody, loadReference, recordsBody } from "../../tests/support/reference.ts";
import { cnnArrowBody, cnnModelPath } from "../../tests/support/cnn.ts";
import { startRegistry } from "../../tests/support/registry.ts";
import { runTern, startTern, ternCommand, type TernProcess } from "../../tests/support/tern_process.ts";
import { type Figures, summarise, type Where } from "./load.ts";
import { haveWrk, wrkMeasure } from "./wrk.ts";
import { measureMetricsCost } from "./metrics_cost.ts";
import { measureRows1000, rows1000Markdown } from "./rows1000.ts";
import { measureOneRowRatios } from "./ratios.ts";
import { measureBareRun, startBareServer } from "./bare_spawn.ts";
import { cpuTimes, stolenPercent, stolenWords } from "./cpu_steal.ts";

// The WebGPU probe loads Mesa's Vulkan loader, whose Wayland client prints "XDG_RUNTIME_DIR is invalid or not set"
// where no session set it: give the tern processes a private one, as scripts/test.sh does.
if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", await Deno.makeTempDir({ prefix: "bench-xdg-" }));
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
/** CPU time counters at the start: the record says how much the host took during the run (cpu_steal.ts). */
const cpuAtStart = cpuTimes();
const THREADS = navigator.hardwareConcurrency || 1;
const ROOT = new URL("../../", import.meta.url);
const JSON_TYPE = "application/json; format=pandas-records";
const ARROW_FILE = "application/vnd.apache.arrow.file";
const results: Figures[] = [];
/** What INFERENCE_BACKEND=auto chose per model, with the warm-up figures behind the choice. */
const autoChoices: { scenario: string; backend: string; warmupMs: Record<string, number> }[] = [];
const note = (line: string) => console.error(`bench: ${line}`);
if (!await haveWrk()) throw new Error("the bench drives HTTP load with wrk: apt-get install wrk");

const ref = loadReference();
const demoOneRow = recordsBody(ref.inputs.slice(0, 1));
const demoThousand = arrowBody(ref.inputs);

// ---- 1. Logging -----------------------------------------------------------
for (const durability of ["off", "async", "durable", "fsync"]) {
  note(`demo, log ${durability}`);
  await withTern({ args: ["--config-cpus", String(THREADS), "--log-durability", durability] }, async (tern) => {
    if (durability === "off") await recordAutoChoice("demo 1-row JSON", tern.url);
    const path = `tern /infer, log ${durability}`;
    const url = `${tern.url}/infer`;
    await httpLines({ section: "logging", scenario: "demo 1-row JSON", path }, JSON_TYPE, demoOneRow, url);
    if (durability === "durable") {
      await httpLines({ section: "logging", scenario: "demo 1,000-row Arrow", path }, ARROW_FILE, demoThousand, url);
    }
  });
}

// ---- 1a. The demo on each CPU backend (log durable, the default) ----------
for (const backend of ["native", "wasm"]) {
  note(`demo, ${backend}`);
  await withTern({ args: ["--config-cpus", String(THREADS), "--inference-backend", backend] }, (tern) =>
    httpLines(
      { section: "backends", scenario: "demo 1-row JSON", path: `tern /infer, ${backend}` },
      JSON_TYPE,
      demoOneRow,
      `${tern.url}/infer`,
    ));
}

// ---- 1b. Adaptive batching at 8 connections (log async, to show the engine's side) ----
for (const batching of [false, true]) {
  note(`demo, batching ${batching ? "on" : "off"}`);
  const args = ["--config-cpus", String(THREADS), "--log-durability", "async", ...(batching ? ["--batching"] : [])];
  await withTern({ args }, async (tern) => {
    results.push(
      await wrkMeasure(
        {
          section: "batching",
          scenario: "demo 1-row JSON",
          path: `tern /infer, log async, batching ${batching ? "on" : "off"}`,
          connections: 8,
        },
        { url: `${tern.url}/infer`, contentType: JSON_TYPE, body: demoOneRow, seconds: SECONDS },
      ),
    );
  });
}

// ---- 1c. What /metrics costs: METRICS=true against METRICS=false, alternated, 4 conns -----
note("demo, metrics off and on");
const metricsCost = await measureMetricsCost(SECONDS, THREADS);
results.push(metricsCost.off, metricsCost.on);

// ---- 1d. The 1-row targets: the bare server and tern off / async / durable, measured in turns --------------
note("demo 1-row, bare server and tern in turns");
const cpuBeforeRatios = cpuTimes();
const oneRow = await measureOneRowRatios(SECONDS, THREADS);
const ratiosStolen = stolenPercent(cpuBeforeRatios, cpuTimes());
results.push(...oneRow.lines);

// ---- 1e. The 1,000-row Arrow path, its baseline and its stages ------------------
note("demo 1,000-row Arrow path");
const rows1000 = await measureRows1000(SECONDS, THREADS);

// ---- 2. Backends on the CNN ---------------------------------------------
const CNN = await cnnModelPath();
const image = cnnArrowBody();
const registry = await startRegistry("none");
const persist = await Deno.makeTempDir({ prefix: "tern-bench-" });
try {
  const cnnUrl = await publish("resnet50-shaped", CNN);
  const cnnEnv = { PIPELINE_URL: cnnUrl, PERSISTENT_VOLUME_DIR: persist };
  note("CNN, auto");
  await withTern(
    { args: ["--config-cpus", String(THREADS), "--inference-backend", "auto"], env: cnnEnv, readyTimeoutMs: 180_000 },
    (tern) => recordAutoChoice("CNN 1 image Arrow", tern.url),
  );
  // On a GPU machine (scripts/gpu-check.sh) the GPU backends join in.
  const cnnBackends = ["native", "wasm"];
  if ((await probeWebGpu()).usable) cnnBackends.push("webgpu");
  if (Deno.env.get("ONNXRUNTIME_LIB_DIR")) cnnBackends.push("cuda");
  for (const backend of cnnBackends) {
    note(`CNN, ${backend}`);
    await withTern(
      {
        args: ["--config-cpus", String(THREADS), "--inference-backend", backend],
        env: cnnEnv,
        readyTimeoutMs: 120_000,
      },
      (tern) =>
        httpLines(
          { section: "backends", scenario: "CNN 1 image Arrow", path: `tern /infer, ${backend}` },
          ARROW_FILE,
          image,
          `${tern.url}/infer`,
        ),
    );
  }

  // ---- 2b. /health while a slow model (its own worker thread) serves 4 connections ----
  note("slow model, /health during load");
  const slowUrl = await publish("slow-matmul", new URL("tests/testdata/slow_matmul.onnx", ROOT).pathname);
  await withTern({
    args: ["--config-cpus", String(THREADS), "--inference-backend", "native"],
    env: { PIPELINE_URL: slowUrl, PERSISTENT_VOLUME_DIR: persist },
  }, async (tern) => {
    const scenario = "slow model 1-row JSON";
    const load = wrkMeasure(
      { section: "responsiveness", scenario, path: "tern /infer, native", connections: 4 },
      { url: `${tern.url}/infer`, contentType: JSON_TYPE, body: '[{"x":[2]}]', seconds: SECONDS },
    );
    // One probe every 10 ms, as a liveness checker would (only the request is timed).
    await new Promise((r) => setTimeout(r, 1500)); // past wrk's warm-up run
    const probing = Math.max(1, SECONDS - 1); // seconds: wrk's measured run less the wait above, at least 1
    const probes: number[] = [];
    for (const end = performance.now() + probing * 1000; performance.now() < end;) {
      const t0 = performance.now();
      await (await fetch(`${tern.url}/health`)).arrayBuffer();
      probes.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 10));
    }
    const where = { section: "responsiveness", scenario, path: "GET /health during that load", connections: 1 };
    results.push(await load, summarise(where, probes, probing));
  });
} finally {
  await registry.stop();
  await Deno.remove(persist, { recursive: true });
}

// ---- bare session.run per backend (a process each) ---------------------------
// At THREADS, and for the CNN also at 1 thread: the WASM/native gap per thread.
for (
  const [model, scenario, threads] of [
    ["demo", "demo 1-row JSON", THREADS],
    ["cnn", "CNN 1 image Arrow", THREADS],
    ["cnn", "CNN 1 image Arrow", 1],
  ] as const
) {
  for (const backend of ["native", "wasm"]) {
    note(`bare session.run, ${backend}, ${scenario}, ${threads} thread(s)`);
    const path = `bare session.run, ${backend}${threads === THREADS ? "" : `, ${threads} thread`}`;
    results.push({
      section: "baselines",
      scenario,
      path,
      connections: 1,
      ...await measureBareRun(model, backend, threads, SECONDS),
    });
  }
}

// ---- 3. Bare Deno.serve + native session.run -----------------------------
for (
  const [scenario, model, type, body] of [
    ["demo 1-row JSON", new URL(DEMO_MODEL_URL).pathname, JSON_TYPE, demoOneRow],
    ["CNN 1 image Arrow", CNN, ARROW_FILE, image],
  ] as const
) {
  note(`bare Deno.serve, ${scenario}`);
  const bare = await startBareServer(model, THREADS);
  try {
    for (const connections of [1, 4]) {
      results.push(
        await wrkMeasure(
          { section: "baselines", scenario, path: "bare Deno.serve + native run", connections },
          { url: bare.url, contentType: type, body, seconds: SECONDS },
        ),
      );
    }
  } finally {
    await bare.stop();
  }
}

// ---- 4. Cold start -------------------------------------------------------
/** Spawn to /health/ready of the demo, median of 3, running `bin` (undefined: as this run is set). */
async function coldStart(bin?: string): Promise<number> {
  const starts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const tern = await startTern({ args: ["--config-cpus", String(THREADS)], bin });
    starts.push(performance.now() - t0);
    await tern.stop();
  }
  return starts.sort((a, b) => a - b)[1];
}
const coldStartMs = await coldStart();
/** The compiled binary's cold start too, when this run is from source and `deno task compile` has built it. */
const BINARY = "dist/tern";
const binaryColdStartMs =
  !Deno.env.get("TERN_BIN") && await Deno.stat(new URL(BINARY, ROOT)).then(() => true, () => false)
    ? await coldStart(BINARY)
    : undefined;

// ---- report --------------------------------------------------------------
const find = (scenario: string, path: string, connections = 1) =>
  results.find((r) => r.scenario === scenario && r.path === path && r.connections === connections)!;
const targets = [
  ...oneRow.targets,
  {
    target: "CNN on native: tern end-to-end p50 ≤ 1.1 × bare native session.run p50",
    value: find("CNN 1 image Arrow", "tern /infer, native").p50Ms /
      find("CNN 1 image Arrow", "bare session.run, native").p50Ms,
    goal: 1.1,
    higherIsBetter: false,
  },
  {
    target: "CNN: WASM session.run p50 ≤ 3 × native",
    value: find("CNN 1 image Arrow", "bare session.run, wasm").p50Ms /
      find("CNN 1 image Arrow", "bare session.run, native").p50Ms,
    goal: 3,
    higherIsBetter: false,
  },
  {
    target:
      "demo 1-row JSON, 4 conns: req/s with METRICS=true ≥ 0.97 × METRICS=false (median of 4 alternated runs each)",
    value: metricsCost.ratio,
    goal: 0.97,
    higherIsBetter: true,
  },
  {
    target: `cold start to ready, demo (ms) ≤ 1000, ${
      Deno.env.get("TERN_BIN") ? Deno.env.get("TERN_BIN") : "from source"
    }`,
    value: coldStartMs,
    goal: 1000,
    higherIsBetter: false,
  },
  ...(binaryColdStartMs === undefined ? [] : [{
    target:
      `cold start to ready, demo (ms) ≤ 1000, ${BINARY} (median of 3; the first start of a build extracts its native libraries)`,
    value: binaryColdStartMs,
    goal: 1000,
    higherIsBetter: false,
  }]),
  ...rows1000.targets,
];

const table = [
  "| section | scenario | path | conns | req/s | p50 ms | p99 ms |",
  "|---|---|---|--:|--:|--:|--:|",
  ...results.map((r) =>
    `| ${r.section} | ${r.scenario} | ${r.path} | ${r.connections} | ${r.perSecond.toFixed(0)} | ${
      r.p50Ms.toFixed(3)
    } | ${r.p99Ms.toFixed(3)} |`
  ),
].join("\n");
const ratios = [
  "| target | measured | goal | met |",
  "|---|--:|--:|---|",
  ...targets.map((t) =>
    `| ${t.target} | ${t.value.toFixed(2)} | ${t.goal} | ${
      (t.higherIsBetter ? t.value >= t.goal : t.value <= t.goal) ? "yes" : "no"
    } |`
  ),
].join("\n");
const autoTable = [
  "| model | INFERENCE_BACKEND=auto chose | warm-up ms per run |",
  "|---|---|---|",
  ...autoChoices.map((a) =>
    `| ${a.scenario} | ${a.backend} | ${Object.entries(a.warmupMs).map(([b, ms]) => `${b} ${ms}`).join(", ")} |`
  ),
].join("\n");
const runStolen = stolenPercent(cpuAtStart, cpuTimes());
const header = `tern bench, ${new Date().toISOString()}: ${THREADS} cores, ${SECONDS} s per line, ${
  Deno.env.get("TERN_BIN") ? `binary ${Deno.env.get("TERN_BIN")}` : "from source"
} (${ternCommand()[0].split("/").pop()}); CPU time taken by the host (steal) during the run: ${
  stolenWords(runStolen)
}, during the 1-row ratio turns: ${stolenWords(ratiosStolen)}`;
console.log(`\n${header}\n\n${table}\n\n${autoTable}\n\n${ratios}\n`);
await Deno.mkdir(new URL("bench", ROOT), { recursive: true });
await Deno.writeTextFile(
  new URL("bench/results.json", ROOT),
  JSON.stringify(
    {
      header,
      seconds: SECONDS,
      cores: THREADS,
      results,
      autoChoices,
      targets,
      coldStartMs,
      binaryColdStartMs,
      rows1000,
      stolenPercent: { run: runStolen ?? null, ratioTurns: ratiosStolen ?? null },
    },
    null,
    2,
  ) +
    "\n",
);
await Deno.writeTextFile(
  new URL("bench/results.md", ROOT),
  `# tern benchmark record\n\n${header}. Produced by \`deno task bench\` (scripts/bench/main.ts); every line is measured in the same run. HTTP lines: wrk on loopback.\n\n${table}\n\n## Backend choice\n\n${autoTable}\n\n## Targets\n\n${ratios}\n\n## 1,000-row Arrow path\n\nscripts/bench/rows1000.ts, in the same run.\n\n${
    rows1000Markdown(rows1000)
  }\n`,
);
Deno.exit(0);

/** Starts tern with `options`, runs `use` against it, then stops it. */
async function withTern(options: Parameters<typeof startTern>[0], use: (tern: TernProcess) => Promise<void>) {
  const tern = await startTern(options);
  try {
    await use(tern);
  } finally {
    await tern.stop();
  }
}

/** wrk lines at 1 and 4 connections posting `body` to `url`, added to the record. */
async function httpLines(
  where: Omit<Where, "connections">,
  contentType: string,
  body: Uint8Array | string,
  url: string,
) {
  for (const connections of [1, 4]) {
    results.push(await wrkMeasure({ ...where, connections }, { url, contentType, body, seconds: SECONDS }));
  }
}

/** Publishes `model` as pipeline `name` to the bench's registry; returns its PIPELINE_URL. */
async function publish(name: string, model: string): Promise<string> {
  const url = `${registry.host}/bench/${name}:v1`;
  const published = await runTern(["publish", "--name", name, "--model", model, url]);
  if (published.code !== 0) throw new Error(published.stderr);
  return url;
}

/** Reads which backend auto chose for the served model, and the warm-up figures, from /models. */
async function recordAutoChoice(scenario: string, url: string) {
  const { models } = await (await fetch(`${url}/models`)).json();
  const model = models[0];
  if (!model?.backend || !model.warmup_ms) throw new Error(`/models shows no auto choice: ${JSON.stringify(models)}`);
  autoChoices.push({ scenario, backend: model.backend, warmupMs: model.warmup_ms });
}
