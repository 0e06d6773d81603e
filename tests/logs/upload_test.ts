/**
 * The log's side of the Ops upload: pages of rows not yet uploaded, in id
 * order; marking a page by id range; the backlog; the cursor surviving a
 * reopen; and marked rows going first when the storage cap evicts.
 */
import { tableFromIPC } from "apache-arrow";
import { openInferenceLog } from "../../src/logs/mod.ts";
import { closeLogDb, inLogDir } from "../../src/logs/db.ts";
import { JOURNAL_FILE, LogJournal } from "../../src/logs/journal.ts";
import { toLogRecord } from "../../src/logs/entry.ts";
import { openLogReader } from "../../src/logs/db_open.ts";
import { pendingRows } from "../../src/logs/upload.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";

const ids = (rows: { id: number }[]) => rows.map((r) => r.id);

Deno.test("pending pages, marks and the backlog; the upload cursor survives a reopen", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-upload-" });
  const settings = { dir, sync: "normal" as const, walLimitBytes: 1 << 20 };
  try {
    let log = await openInferenceLog(settings, { durability: "durable", partition: "edge-1" });
    const reader = await openLogReader(dir); // reads what the log's worker committed, across the reopen below
    let commits = 0;
    log.writer.onCommit(() => commits++);
    await log.writer.append(demoEntry(0, 25));
    await log.writer.settle(); // the rows were journaled; now they are in the database
    assert(commits >= 1, "commit listeners are called");
    assertEquals(await log.upload.backlog(), 25);
    const page = pendingRows(reader, 0, 10);
    assertEquals(ids(page), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assertEquals(page[0].partition, "edge-1");
    assertEquals(await log.upload.markUploaded(1, 10), 10);
    assertEquals(await log.upload.markUploaded(1, 10), 0, "marking again changes nothing");
    assertEquals(await log.upload.markUploaded(3, 5), 0, "nor does a range inside what is marked");
    assertEquals(ids(pendingRows(reader, 0, 3)), [11, 12, 13]);
    assertEquals(ids(pendingRows(reader, 12, 3)), [13, 14, 15]);
    assertEquals(await log.upload.backlog(), 15);
    // The pages the uploader sends, encoded in the reading worker: full when they hold what was asked for.
    const full = await log.upload.pendingPage(0, 10, "edge-1");
    assertEquals([full?.firstId, full?.lastId, full?.rows, full?.full], [11, 20, 10, true]);
    const partial = (await log.upload.pendingPage(20, 10, "edge-1"))!;
    assertEquals([partial.firstId, partial.lastId, partial.rows, partial.full], [21, 25, 5, false]);
    const sent = tableFromIPC(partial.body);
    assertEquals(sent.getChild("metadata.id")!.toArray(), BigInt64Array.from([21n, 22n, 23n, 24n, 25n]));
    assertEquals(sent.getChild("metadata.partition")!.get(0), "edge-1");
    assertEquals(await log.upload.pendingPage(25, 10, "edge-1"), undefined);
    await log.close();

    log = await openInferenceLog(settings, { durability: "durable", partition: "edge-1" });
    assertEquals(ids(pendingRows(reader, 0, 1)), [11], "a restart resumes at the first row not uploaded");
    await log.upload.markUploaded(11, 25);
    assertEquals([await log.upload.backlog(), pendingRows(reader, 0, 10).length], [0, 0]);
    closeLogDb(reader);
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("continueIds moves the row ids before anything is committed, rows a journal left included", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-upload-ids-" });
  const settings = { dir, sync: "normal" as const, walLimitBytes: 1 << 20 };
  try {
    // Rows a durable start journaled and never committed (a kill -9), under a database removed since.
    const { journal } = LogJournal.open(inLogDir(dir, JOURNAL_FILE), 0);
    journal.write([toLogRecord(demoEntry(0, 3), "edge-1")]);
    await journal.close();
    const asked: number[] = [];
    const hooks = { continueIds: (next: number) => (asked.push(next), Promise.resolve(1000)) };
    let log = await openInferenceLog(settings, { durability: "durable", partition: "edge-1" }, hooks);
    await log.writer.append(demoEntry(3, 2));
    const read = async () => {
      const rows: number[] = [];
      for await (const page of log.read({})) rows.push(...ids(page));
      return rows;
    };
    assertEquals(await read(), [1000, 1001, 1002, 1003, 1004]);
    await log.close();
    // Ids never go back: a hook naming a lower one changes nothing.
    log = await openInferenceLog(settings, { durability: "durable", partition: "edge-1" }, hooks);
    await log.writer.append(demoEntry(5, 1));
    assertEquals((await read()).at(-1), 1005);
    assertEquals(asked, [1, 1005]);
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("under the storage cap, rows marked uploaded are evicted before older rows that are not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-upload-cap-" });
  try {
    const CAP = 512 * 1024;
    const log = await openInferenceLog({ dir, sync: "normal", walLimitBytes: CAP / 8, capBytes: CAP }, {
      durability: "durable",
      partition: "edge-1",
    });
    const reader = await openLogReader(dir);
    // 5,000 rows of about 80 bytes: the 3,000 uploaded are more than one eviction takes (10 % of the cap).
    for (let i = 0; i < 50; i++) await log.writer.append(demoEntry(i * 100, 100));
    await log.writer.settle();
    await log.upload.markUploaded(2001, 5000);
    let n = 50;
    while ((await log.writer.status()).evictedRows === 0) {
      await log.writer.append(demoEntry(n++ * 100, 100));
      await log.writer.settle();
    }
    const left = ids(pendingRows(reader, 0, 5000));
    assertEquals(left.slice(0, 2000), Array.from({ length: 2000 }, (_, i) => i + 1), "rows not uploaded are kept");
    const all = (await reader.client.execute("SELECT min(id) FROM inference_batch WHERE uploaded > 0")).rows[0][0];
    assert(all === null || Number(all) > 2001, "the oldest uploaded rows went first");
    assertEquals(await log.upload.evictedUnsent(), 0, "no row went before Ops had it");
    closeLogDb(reader);
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
