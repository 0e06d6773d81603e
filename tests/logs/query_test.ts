/**
 * Pages of rows from records of many rows: the cursor and a page's end fall inside records, and the time
 * range selects whole requests.
 */
import { openInferenceLog } from "../../src/logs/mod.ts";
import { closeLogDb } from "../../src/logs/db.ts";
import { openLogReader } from "../../src/logs/db_open.ts";
import { readPage } from "../../src/logs/query.ts";
import { logRecordJson } from "../../src/codec/log_json.ts";
import { assertEquals } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

Deno.test("pages start and end inside records; filters by time, after and limit combine; JSON pages match", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-query-" });
  try {
    const log = await openInferenceLog({ dir, sync: "normal", walLimitBytes: 1 << 20 }, {
      durability: "durable",
      partition: "p",
    });
    const reader = await openLogReader(dir);
    // 50 requests of 7 rows: request i has rows 7i+1 … 7i+7, time 1000 + i, first feature = its row id.
    for (let i = 0; i < 50; i++) await log.writer.append(demoEntry(7 * i + 1, 7, 1000 + i));
    await log.writer.settle(); // journaled, then committed: the reader below reads the database itself
    const page = async (filter: object, after: number, limit: number) =>
      (await readPage(reader, filter, after, limit)).map((r) => {
        assertEquals(JSON.parse(r.inJson).tensor[0], r.id, "each row carries its own values");
        return r.id;
      });
    assertEquals(await page({}, 0, 5), range(1, 5));
    assertEquals(await page({}, 5, 5), range(6, 10), "resumes inside the first record, ends inside the second");
    assertEquals(await page({}, 0, 1000), range(1, 350));
    assertEquals(await page({ start: 1010, end: 1019 }, 0, 1000), range(71, 140));
    assertEquals(await page({ start: 1010 }, 75, 20), range(76, 95));
    assertEquals(await page({ end: 1001 }, 3, 1000), range(4, 14));
    assertEquals(await page({ start: 2000 }, 0, 10), [], "nothing at or after start");
    assertEquals(await page({}, 350, 10), []);
    const rows = [];
    for await (const p of log.read({ after: 100, limit: 30 })) rows.push(...p.map((r) => r.id));
    assertEquals(rows, range(101, 130));
    // /logs' JSON pages, built in the reading worker, are the same rows as the row pages, across page ends.
    for (let i = 50; i < 200; i++) await log.writer.append(demoEntry(7 * i + 1, 7, 1000 + i));
    for (const filter of [{}, { after: 3, limit: 1200 }, { start: 1010, after: 1002 }]) {
      const json: unknown[] = [];
      for await (const p of log.readJson(filter)) json.push(...JSON.parse(`[${p}]`));
      const expected: unknown[] = [];
      for await (const p of log.read(filter)) expected.push(...p.map((r) => JSON.parse(logRecordJson(r))));
      assertEquals(json, expected);
      assertEquals(json.length, Math.min(filter.limit ?? Infinity, 1400 - (filter.after ?? 0)));
    }
    closeLogDb(reader);
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
