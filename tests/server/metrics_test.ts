/**
 * The metrics in-process: a swap to a new pipeline version is counted, Ops
 * sync's state reaches /metrics, METRICS=false leaves /metrics out, and the
 * status page's activity rings keep what they should.
 */
import { createApp } from "../../src/server/app.ts";
import { Activity } from "../../src/server/activity.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { demoPipeline } from "../../src/pipeline/demo.ts";
import type { OpsSyncStatus } from "../../src/ops/agent.ts";
import { assertEquals } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";
import { parseExposition } from "../support/prometheus.ts";

ortTest("a new version swapped in is counted, and the pipeline's info follows it", async () => {
  const pipelines = new PipelineManager(wasmBackend());
  await pipelines.load(await demoPipeline());
  const app = createApp({ pipelines, now: () => 0, maxBodyBytes: 1 << 20 });
  try {
    const scrape = async () => await parseExposition(await (await app.request("/metrics")).text());
    assertEquals((await scrape()).value("tern_pipeline_swaps_total"), 0);
    const next = await demoPipeline();
    next.version = "second-version";
    await pipelines.load(next);
    const m = await scrape();
    assertEquals(m.value("tern_pipeline_swaps_total"), 1);
    assertEquals(m.value("tern_pipeline_info", { version: "second-version", status: "Running" }), 1);
  } finally {
    await pipelines.close();
  }
});

Deno.test("Ops sync's backlog, last contact and last upload are in /metrics; METRICS=false has no /metrics", async () => {
  const pipelines = new PipelineManager(wasmBackend());
  const status: OpsSyncStatus = {
    edgeName: "edge-1",
    opsHost: "hub:8090",
    joined: true,
    lastContact: 1_800_000_000_000,
    lastCheckIn: 1_800_000_000_000,
    lastUpload: 1_799_999_000_000,
    uploadedRows: 42,
    lastError: null,
    refused: null,
  };
  const app = createApp({
    pipelines,
    now: () => 0,
    maxBodyBytes: 1 << 20,
    ops: { status: () => status, backlog: () => Promise.resolve(7) },
  });
  let m = await parseExposition(await (await app.request("/metrics")).text());
  assertEquals(m.value("tern_ops_backlog_rows"), 7);
  assertEquals(m.value("tern_ops_uploaded_rows_total"), 42);
  assertEquals(m.value("tern_ops_last_contact_timestamp_seconds"), 1_800_000_000);
  assertEquals(m.value("tern_ops_last_upload_success_timestamp_seconds"), 1_799_999_000);
  assertEquals(m.value("tern_ops_sync_ok"), 1);
  status.lastError = "connection refused";
  m = await parseExposition(await (await app.request("/metrics")).text());
  assertEquals(m.value("tern_ops_sync_ok"), 0);

  const off = createApp({ pipelines, now: () => 0, maxBodyBytes: 1 << 20, metrics: false });
  const res = await off.request("/metrics");
  assertEquals(res.status, 404);
  assertEquals((await res.json()).code, "not_found");
});

Deno.test("activity keeps the last inferences newest first and per-interval counts and mean latency", () => {
  let now = 100_000;
  const activity = new Activity(() => now, 1_000, 5, 3);
  for (let i = 0; i < 4; i++) activity.record(now, "p", `m${i}`, i + 1, 0.002);
  now += 2_000;
  activity.record(now, "p", "m4", 1, 0.004);
  assertEquals(activity.recent().map((r) => r.model), ["m4", "m3", "m2"]);
  assertEquals([activity.requests, activity.rows], [5, 11]);
  const s = activity.series();
  assertEquals(s.start, 98_000);
  assertEquals(s.requests, [0, 0, 4, 0, 1]);
  assertEquals(s.meanMs, [null, null, 2, null, 4]);
  now += 10_000; // past the whole window: every interval is empty again
  assertEquals(activity.series().requests, [0, 0, 0, 0, 0]);
});
