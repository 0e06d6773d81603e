import Database from "libsql";
import { closeLogDb, logDbPath } from "../../src/logs/db.ts";
import { openLogReader } from "../../src/logs/db_open.ts";
import { type LogEntry, toLogRecord } from "../../src/logs/entry.ts";
import { INLINE_MAX_BYTES } from "../../src/logs/inline_commit.ts";
import { readPage } from "../../src/logs/query.ts";
import { openLogStore } from "../../src/logs/store.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";

const SETTINGS = { sync: "normal" as const, walLimitBytes: 1 << 20 };

/** The first input values of the log's rows, in id order, read on a connection of their own. */
async function stored(dir: string): Promise<number[]> {
  const log = await openLogReader(dir);
  try {
    return (await readPage(log, {}, 0, 1e6)).map((r) => JSON.parse(r.inJson).tensor[0]);
  } finally {
    closeLogDb(log);
  }
}

const records = (entry: LogEntry) => [toLogRecord(entry, "p")];

Deno.test("a small commit on the serving thread gives way to another connection's write lock: the worker commits it once the lock is free, and the thread keeps serving meanwhile", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-inline-" });
  const store = await openLogStore({ dir, ...SETTINGS });
  try {
    await store.commit(records(demoEntry(0, 2)));
    const other = new Database(logDbPath(dir));
    other.exec("BEGIN IMMEDIATE"); // as the worker's eviction or an Ops mark would
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let committed = false;
    const commit = store.commit(records(demoEntry(2, 3))).then(() => committed = true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assertEquals(committed, false, "the rows wait for the lock");
    assert(ticks > 10, `timers ran ${ticks} times while the commit waited: the thread was not blocked`);
    other.exec("COMMIT");
    other.close();
    await commit;
    clearInterval(timer);
    await store.commit(records(demoEntry(5, 1)));
    const first = await stored(dir);
    assertEquals(first, [0, 1, 2, 3, 4, 5], "every row once, in the order they were committed");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(`records over ${INLINE_MAX_BYTES} bytes go through the worker; both kinds land in order, each row once`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-inline-" });
  const store = await openLogStore({ dir, ...SETTINGS });
  try {
    const large = Math.ceil(INLINE_MAX_BYTES / (19 * 4)) + 1; // a demo row's record takes 19 floats
    const sizes = [1, 64, large, 3, 500, large + 100, 2];
    let first = 0;
    for (const n of sizes) {
      await store.commit(records(demoEntry(first, n)));
      first += n;
    }
    const rows = await stored(dir);
    assertEquals(rows, Array.from({ length: first }, (_, i) => i), "every row once, in order");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
