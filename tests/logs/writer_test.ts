import { type InferenceLog, openInferenceLog } from "../../src/logs/mod.ts";
import { Unavailable } from "../../src/errors.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";

async function withLog(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tern-log-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function allRows(log: InferenceLog, filter = {}) {
  const rows = [];
  for await (const page of log.read(filter)) rows.push(...page);
  return rows;
}

const SETTINGS = { durable: true, walLimitBytes: 1 << 20 };

Deno.test("durable appends are committed when they resolve, and concurrent ones share commits", () =>
  withLog(async (dir) => {
    const log = await openInferenceLog({ dir, ...SETTINGS }, { durability: "durable", partition: "edge-1" });
    const writer = log.writer;
    await writer.append(demoEntry(0, 3));
    assertEquals((await allRows(log)).length, 3, "rows visible as soon as append resolved");
    await Promise.all(Array.from({ length: 200 }, (_, i) => writer.append(demoEntry(100 + i))));
    const status = await writer.status();
    assertEquals(status.committedRows, 203);
    assert(status.commits < 100, `200 concurrent appends took ${status.commits} commits`);
    const rows = await allRows(log);
    assertEquals(rows.length, 203);
    assertEquals(rows.map((r) => r.id), Array.from({ length: 203 }, (_, i) => i + 1));
    assertEquals(JSON.parse(rows[3].inJson).tensor[0], 100);
    assertEquals(JSON.parse(rows[0].outJson), { variable: [123456.5] });
    assertEquals(rows[0].partition, "edge-1");
    assertEquals(JSON.parse(rows[0].lastModel).model_sha.length, 64);
    await log.close();
  }));

Deno.test("filters: after (cursor), limit, and time range", () =>
  withLog(async (dir) => {
    const log = await openInferenceLog({ dir, ...SETTINGS }, { durability: "async", partition: "p" });
    const writer = log.writer;
    for (let i = 0; i < 2500; i++) writer.append(demoEntry(i, 1, 1000 + i));
    await writer.flush();
    assertEquals((await allRows(log)).length, 2500, "pages of 1000 are all read");
    assertEquals((await allRows(log, { after: 2400 })).map((r) => r.id)[0], 2401);
    assertEquals((await allRows(log, { after: 10, limit: 1500 })).length, 1500);
    const range = await allRows(log, { start: 1100, end: 1199 });
    assertEquals([range.length, range[0].time, range[99].time], [100, 1100, 1199]);
    await log.close();
  }));

Deno.test("backpressure: past the queue bound an append waits, then fails with 503 rather than dropping", () =>
  withLog(async (dir) => {
    const log = await openInferenceLog({ dir, ...SETTINGS }, {
      durability: "durable",
      partition: "p",
      maxPendingRows: 1,
      maxWaitMs: 0,
    });
    const writer = log.writer;
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => writer.append(demoEntry(i))));
    const refused = results.filter((r) => r.status === "rejected");
    assert(refused.length > 0, "some appends were refused");
    assert(refused.every((r) => (r as PromiseRejectedResult).reason instanceof Unavailable));
    const accepted = results.length - refused.length;
    assertEquals((await allRows(log)).length, accepted, "every accepted append is in the log; no refused one is");
    await log.close();
  }));
