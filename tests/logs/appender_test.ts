import Database from "libsql";
import { LogAppender } from "../../src/logs/appender.ts";
import { openLogDb } from "../../src/logs/db.ts";
import type { LogRow } from "../../src/logs/entry.ts";
import { assertEquals } from "../support/assert.ts";

const SETTINGS = { sync: "normal" as const, walLimitBytes: 1 << 20 };

/** `n` rows: some fields shared by all, others differing per row (strings that need escaping included). */
function rows(n: number, first: number): LogRow[] {
  return Array.from({ length: n }, (_, i) => ({
    time: 1_700_000_000_000 + (i >> 2),
    inJson: `{"tensor":[${first + i},1.5e-7],"s":["a\\"b\\\\c\\n","é🙂"]}`,
    outJson: `{"variable":[${(first + i) * 0.5}]}`,
    anomalyCount: i % 3 === 0 ? 1 : 0,
    anomalyJson: i % 3 === 0 ? '{"too_high":true}' : '{"too_high":false}',
    shadowJson: i === 5 ? '{"shadow-1":{"y":[1]}}' : "{}",
    pipelineName: "p",
    pipelineVersion: "v1",
    lastModel: '{"model_name":"m","model_sha":"00"}',
    elapsedJson: "[1,2]",
    droppedJson: i === 7 ? '["in.image"]' : "[]",
    partition: "edge",
  }));
}

const COLUMNS = "time, in_json, out_json, anomaly_count, anomaly_json, shadow_json, pipeline_name, " +
  "pipeline_version, last_model, elapsed_json, dropped_json, partition, uploaded";

Deno.test("a many-row append stores every field as a row-by-row one does, in order, with the extra columns", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-appender-" });
  try {
    const log = await openLogDb(dir, SETTINGS);
    log.client.close();
    const appender = new LogAppender(log.path, SETTINGS);
    const small = rows(3, 0); // row by row
    const large = rows(500, 3); // one JSON statement
    const sameEverywhere = rows(20, 503).map((r) => ({ ...r, time: 5, anomalyJson: "{}", anomalyCount: 0 }));
    appender.append(small);
    appender.append(large);
    appender.append(sameEverywhere);
    appender.close();
    const db = new Database(log.path);
    const stored = db.prepare(`SELECT id, ${COLUMNS} FROM inference_log ORDER BY id`).all() as Record<
      string,
      unknown
    >[];
    const columns = db.prepare("SELECT name FROM log_columns ORDER BY name").all() as { name: string }[];
    const types = db.prepare("SELECT DISTINCT typeof(time), typeof(anomaly_count), typeof(in_json) FROM inference_log")
      .raw().all();
    db.close();
    const expected = [...small, ...large, ...sameEverywhere].map((r, i) => ({
      id: i + 1,
      time: r.time,
      in_json: r.inJson,
      out_json: r.outJson,
      anomaly_count: r.anomalyCount,
      anomaly_json: r.anomalyJson,
      shadow_json: r.shadowJson,
      pipeline_name: r.pipelineName,
      pipeline_version: r.pipelineVersion,
      last_model: r.lastModel,
      elapsed_json: r.elapsedJson,
      dropped_json: r.droppedJson,
      partition: r.partition,
      uploaded: 0,
    }));
    assertEquals(stored, expected);
    assertEquals(types, [["integer", "integer", "text"]]);
    assertEquals(columns.map((c) => c.name), ["anomaly.too_high", "shadow_data"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a batch larger than one statement's JSON is split, keeping every row and its order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-appender-" });
  try {
    const log = await openLogDb(dir, SETTINGS);
    log.client.close();
    const appender = new LogAppender(log.path, SETTINGS);
    const big = rows(300, 0).map((r, i) => ({ ...r, inJson: `{"x":"${String(i).padEnd(40_000, "x")}"}` }));
    appender.append(big); // 12 MB of JSON: more than one statement's share
    appender.close();
    const db = new Database(log.path);
    const stored = db.prepare("SELECT id, in_json FROM inference_log ORDER BY id").raw().all() as [number, string][];
    db.close();
    assertEquals(stored, big.map((r, i) => [i + 1, r.inJson]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
