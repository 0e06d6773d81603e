/**
 * A log written by a tern from before records (one table row per input row, migrations 0000–0001) keeps every
 * row, its id and its upload mark when a newer tern opens it, and ids go on after the largest ever handed out.
 */
import Database from "libsql";
import { closeLogDb, logDbPath } from "../../src/logs/db.ts";
import { openInferenceLog } from "../../src/logs/mod.ts";
import { openLogReader } from "../../src/logs/db_open.ts";
import { pendingRows } from "../../src/logs/upload.ts";
import { assertEquals } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";

const MIGRATIONS = new URL("../../src/logs/migrations/", import.meta.url);

/** A log database as the row-per-row tern left it. */
function legacyLog(path: string): void {
  const db = new Database(path);
  for (const tag of ["0000_organic_meltdown", "0001_normal_pandemic"]) {
    for (
      const statement of Deno.readTextFileSync(new URL(`${tag}.sql`, MIGRATIONS)).split("--> statement-breakpoint")
    ) {
      db.exec(statement);
    }
  }
  db.exec("CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY, hash text NOT NULL, created_at numeric)");
  const journal = JSON.parse(Deno.readTextFileSync(new URL("meta/_journal.json", MIGRATIONS)));
  for (const entry of journal.entries.slice(0, 2)) {
    db.prepare("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('legacy', ?)").run(entry.when);
  }
  const insert = db.prepare(
    "INSERT INTO inference_log (time, in_json, out_json, anomaly_count, anomaly_json, shadow_json, pipeline_name, " +
      "pipeline_version, last_model, elapsed_json, dropped_json, partition, uploaded) " +
      "VALUES (?, ?, '{\"variable\":[1.5]}', ?, ?, '{}', 'p', 'v1', '{\"model_name\":\"m\",\"model_sha\":\"00\"}', '[1,2]', ?, 'edge', ?)",
  );
  insert.run(1000, '{"tensor":[1.0,"é\\"🙂"]}', 0, "{}", "[]", 1);
  insert.run(130_000, '{"tensor":[2.0]}', 1, '{"too_high":true}', "[]", 0);
  insert.run(1002, "{}", 0, "{}", '["in.image"]', 0);
  db.exec("DELETE FROM inference_log WHERE id = 3"); // evicted: id 3 was handed out, so it is never used again
  db.close();
}

Deno.test("rows logged before records keep their ids, values and upload marks; new ids follow the largest ever used; time ranges find them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-migrate-" });
  try {
    legacyLog(logDbPath(dir));
    const log = await openInferenceLog({ dir, sync: "normal", walLimitBytes: 1 << 20 }, {
      durability: "durable",
      partition: "edge",
    });
    const reader = await openLogReader(dir);
    await log.writer.append(demoEntry(7, 2));
    const rows = [];
    for await (const page of log.read({})) rows.push(...page);
    assertEquals(rows.map((r) => [r.id, r.uploaded]), [[1, 1], [2, 0], [4, 0], [5, 0]]);
    assertEquals(rows[0], {
      id: 1,
      time: 1000,
      inJson: '{"tensor":[1.0,"é\\"🙂"]}',
      outJson: '{"variable":[1.5]}',
      anomalyCount: 0,
      anomalyJson: "{}",
      shadowJson: "{}",
      pipelineName: "p",
      pipelineVersion: "v1",
      lastModel: '{"model_name":"m","model_sha":"00"}',
      elapsedJson: "[1,2]",
      droppedJson: "[]",
      partition: "edge",
      uploaded: 1,
    });
    assertEquals([rows[1].anomalyCount, rows[1].anomalyJson], [1, '{"too_high":true}']);
    assertEquals(JSON.parse(rows[3].inJson).tensor[0], 8);
    assertEquals(await log.upload.backlog(), 3, "row 2 and the two new rows");
    assertEquals(pendingRows(reader, 0, 10).map((r) => r.id), [2, 4, 5]);
    // Time ranges read through the minute marks the migration set, and those of records logged since, one of them
    // with an older time than the rows before it.
    await log.writer.append(demoEntry(9, 1, 65_000));
    const ids = async (filter: object) => {
      const found = [];
      for await (const page of log.read(filter)) found.push(...page.map((r) => r.id));
      return found;
    };
    assertEquals(await ids({ start: 60_000 }), [2, 4, 5, 6]);
    assertEquals(await ids({ start: 60_000, end: 130_000 }), [2, 6]);
    assertEquals(await ids({ end: 59_999 }), [1]);
    assertEquals(await ids({ start: 130_001 }), [4, 5]);
    closeLogDb(reader);
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
