import Database from "libsql";
import { logDbPath } from "../../src/logs/db.ts";
import { logRows } from "../../src/logs/entry.ts";
import { INLINE_MAX_ROWS } from "../../src/logs/inline_commit.ts";
import { openLogStore } from "../../src/logs/store.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";

const SETTINGS = { sync: "normal" as const, walLimitBytes: 1 << 20 };

/** The ids and first input values of the log's rows, in id order, read on a connection of their own. */
function stored(dir: string): number[] {
  const db = new Database(logDbPath(dir));
  try {
    return (db.prepare("SELECT in_json FROM inference_log ORDER BY id").all() as { in_json: string }[])
      .map((r) => JSON.parse(r.in_json).tensor[0]);
  } finally {
    db.close();
  }
}

Deno.test("a small commit on the serving thread gives way to another connection's write lock: the worker commits it once the lock is free, and the thread keeps serving meanwhile", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-inline-" });
  const store = await openLogStore({ dir, ...SETTINGS });
  try {
    await store.commit(logRows(demoEntry(0, 2), "p"));
    const other = new Database(logDbPath(dir));
    other.exec("BEGIN IMMEDIATE"); // as the worker's eviction or an Ops mark would
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let committed = false;
    const commit = store.commit(logRows(demoEntry(2, 3), "p")).then(() => committed = true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assertEquals(committed, false, "the rows wait for the lock");
    assert(ticks > 10, `timers ran ${ticks} times while the commit waited: the thread was not blocked`);
    other.exec("COMMIT");
    other.close();
    await commit;
    clearInterval(timer);
    await store.commit(logRows(demoEntry(5, 1), "p"));
    const first = stored(dir);
    assertEquals(first.length, 6, "every row once");
    assertEquals(first, [...first].sort((a, b) => a - b), "in the order they were committed");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(`batches over ${INLINE_MAX_ROWS} rows go through the worker; both kinds land in order, each row once`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-inline-" });
  const store = await openLogStore({ dir, ...SETTINGS });
  try {
    const sizes = [1, INLINE_MAX_ROWS, INLINE_MAX_ROWS + 1, 3, 500, 2];
    let first = 0;
    for (const n of sizes) {
      await store.commit(logRows(demoEntry(first, n), "p"));
      first += n;
    }
    const rows = stored(dir);
    assertEquals(rows.length, first);
    assertEquals(rows, [...rows].sort((a, b) => a - b));
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
