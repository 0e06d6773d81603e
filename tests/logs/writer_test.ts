import { LogWriter, openInferenceLog } from "../../src/logs/mod.ts";
import { Unavailable } from "../../src/errors.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";
import { allRows, withTempDir } from "../support/log_dir.ts";

const withLog = (fn: (dir: string) => Promise<void>) => withTempDir("tern-log-", fn);

const SETTINGS = { sync: "normal" as const, walLimitBytes: 1 << 20 };

Deno.test("durable appends are readable once they resolve, and concurrent ones share commits", () =>
  withLog(async (dir) => {
    const log = await openInferenceLog({ dir, ...SETTINGS }, { durability: "durable", partition: "edge-1" });
    const writer = log.writer;
    await writer.append(demoEntry(0, 3));
    assertEquals((await allRows(log)).length, 3, "rows visible as soon as append resolved");
    await Promise.all(Array.from({ length: 200 }, (_, i) => writer.append(demoEntry(100 + i))));
    await writer.settle();
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

Deno.test("the queue bound holds under many concurrent appends: no commit carries more than the bound", async () => {
  const commits: number[] = [];
  const store = {
    evictedAtOpen: 0,
    journalSeqAtOpen: 0,
    failed: false,
    commit: async (rows: unknown[]) => {
      commits.push(rows.length);
      await new Promise((r) => setTimeout(r, 5));
      return { evicted: 0 };
    },
    usedBytes: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
  const writer = new LogWriter(store, { durability: "durable", partition: "p", maxPendingRows: 10, maxWaitMs: 10_000 });
  await Promise.all(Array.from({ length: 200 }, (_, i) => writer.append(demoEntry(i))));
  assertEquals(commits.reduce((a, b) => a + b, 0), 200, "every append committed");
  assert(commits.every((n) => n <= 10), `a commit carried ${Math.max(...commits)} rows`);
});

Deno.test("a failing store: durable appends get 503 after the retries, async rows are counted as lost", async () => {
  let calls = 0;
  const store = {
    evictedAtOpen: 0,
    journalSeqAtOpen: 0,
    failed: false,
    commit: () => {
      calls++;
      return Promise.reject(new Error("disk full"));
    },
    usedBytes: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
  const durable = new LogWriter(store, { durability: "durable", partition: "p" });
  await assertRejects(() => durable.append(demoEntry(1)), /inference log write failed: disk full/);
  assertEquals(calls, 3, "the commit was tried three times");
  const async = new LogWriter(store, { durability: "async", partition: "p" });
  const errors: string[] = [];
  const original = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    await async.append(demoEntry(2, 4));
    await async.flush();
  } finally {
    console.error = original;
  }
  assertEquals((await async.status()).lostRows, 4);
  assertMatch(errors.join("\n"), /4 rows not logged/);
});

Deno.test("one append larger than the queue bound is refused whole (413), never committed as one huge transaction", () =>
  withLog(async (dir) => {
    const log = await openInferenceLog({ dir, ...SETTINGS }, {
      durability: "durable",
      partition: "p",
      maxPendingRows: 5,
    });
    await assertRejects(
      () => log.writer.append(demoEntry(0, 6)),
      /6 rows are more than the inference log queues at once \(5\)/,
    );
    await log.writer.append(demoEntry(0, 5));
    assertEquals((await allRows(log)).length, 5);
    await log.close();
  }));
