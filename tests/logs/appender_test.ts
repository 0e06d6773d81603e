import Database from "libsql";
import { LogAppender } from "../../src/logs/appender.ts";
import { closeLogDb, logDbPath } from "../../src/logs/db.ts";
import { openLogDb } from "../../src/logs/db_open.ts";
import { toLogRecord } from "../../src/logs/entry.ts";
import { readPage } from "../../src/logs/query.ts";
import { assertEquals } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";

const SETTINGS = { sync: "normal" as const, walLimitBytes: 1 << 20 };

async function withAppender(fn: (appender: LogAppender, dir: string) => Promise<void> | void) {
  const dir = await Deno.makeTempDir({ prefix: "tern-appender-" });
  try {
    const log = await openLogDb(dir, SETTINGS);
    closeLogDb(log);
    const appender = new LogAppender(log.path, SETTINGS);
    try {
      await fn(appender, dir);
    } finally {
      appender.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every row of the log: id and first input value. */
async function rows(dir: string): Promise<[number, number][]> {
  const log = await openLogDb(dir, SETTINGS);
  try {
    return (await readPage(log, {}, 0, 1e6)).map((r) => [r.id, JSON.parse(r.inJson).tensor[0]]);
  } finally {
    closeLogDb(log);
  }
}

Deno.test("one record per served request: its rows get consecutive ids, records in order, one INSERT each", () =>
  withAppender(async (appender, dir) => {
    const record = (marker: number, n: number) => toLogRecord(demoEntry(marker, n), "edge");
    appender.append([record(0, 3), record(3, 1)]);
    appender.append([record(4, 1000), record(1004, 2)]);
    const db = new Database(logDbPath(dir));
    const stored = db.prepare("SELECT id, rows FROM inference_batch ORDER BY id").raw().all();
    db.close();
    assertEquals(stored, [[1, 3], [4, 1], [5, 1000], [1005, 2]]);
    assertEquals(await rows(dir), Array.from({ length: 1006 }, (_, i) => [i + 1, i]));
  }));

Deno.test("ids are never handed out twice: not after the newest records are deleted, nor by another connection", () =>
  withAppender(async (appender, dir) => {
    appender.append([toLogRecord(demoEntry(0, 5), "edge")]);
    const db = new Database(logDbPath(dir));
    db.exec("DELETE FROM inference_batch"); // as the storage cap may, down to the last record
    db.close();
    const other = new LogAppender(logDbPath(dir), SETTINGS);
    other.append([toLogRecord(demoEntry(5, 2), "edge")]);
    other.close();
    appender.append([toLogRecord(demoEntry(7, 1), "edge"), toLogRecord(demoEntry(8, 0), "edge")]);
    assertEquals(await rows(dir), [[6, 5], [7, 6], [8, 7]], "a record of no rows takes no id");
  }));

Deno.test("a raised next id: later rows continue from it, a lower one changes nothing, ids already used stay", () =>
  withAppender(async (appender, dir) => {
    appender.append([toLogRecord(demoEntry(0, 2), "edge")]);
    assertEquals(appender.nextId(), 3);
    appender.raiseNextId(100);
    appender.raiseNextId(50);
    assertEquals(appender.nextId(), 100);
    appender.append([toLogRecord(demoEntry(2, 2), "edge")]);
    appender.raiseNextId(10);
    appender.append([toLogRecord(demoEntry(4, 1), "edge")]);
    assertEquals(await rows(dir), [[1, 0], [2, 1], [100, 2], [101, 3], [102, 4]]);
  }));

Deno.test("the extra Arrow columns a record brings are recorded once", () =>
  withAppender((appender, dir) => {
    const checked = demoEntry(0, 2);
    checked.reply.checks = { names: ["too_high"], flags: new Uint8Array([1, 0]) };
    appender.append([toLogRecord(demoEntry(0, 1), "edge"), toLogRecord(checked, "edge")]);
    const shadowed = demoEntry(0, 1);
    shadowed.reply.shadows = [{ model: "s", outputs: shadowed.reply.outputs }];
    appender.append([toLogRecord(shadowed, "edge"), toLogRecord(checked, "edge")]);
    const db = new Database(logDbPath(dir));
    const columns = db.prepare("SELECT name FROM log_columns ORDER BY name").raw().all();
    db.close();
    assertEquals(columns, [["anomaly.too_high"], ["shadow_data"]]);
  }));
