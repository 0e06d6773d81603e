import type { Client } from "@libsql/client";
import { evictedTotal } from "../../src/logs/cap.ts";
import { type LogEntry, openInferenceLog } from "../../src/logs/mod.ts";
import { closeLogDb } from "../../src/logs/db.ts";
import { openLogReader } from "../../src/logs/db_open.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";

const CAP = 1024 * 1024;
/** The documented margin: one commit (here ≤ 100 rows, ≈8 KiB) over the cap for the DB file; WAL ≤ cap/8. */
const DB_MARGIN = 64 * 1024;

/** The ids of the rows in the log, in order. */
async function ids(client: Client) {
  const records = (await client.execute("SELECT id, rows FROM inference_batch ORDER BY id")).rows;
  return records.flatMap((r) => Array.from({ length: Number(r[1]) }, (_, i) => Number(r[0]) + i));
}

/**
 * With sync "full" every commit goes through the log worker; with "normal", batches of 50 rows are committed
 * on the calling thread (inline_commit.ts), which leaves eviction and checkpoints to the worker.
 */
for (const [sync, R] of [["full", 100], ["normal", 50]] as const) {
  Deno.test(`the storage cap (sync ${sync}, ${R}-row commits): uploaded rows go first, then the oldest; the file stays within cap + margin; evictions are counted`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tern-cap-" });
    try {
      const walLimitBytes = CAP / 8;
      const settings = { dir, sync, walLimitBytes, capBytes: CAP };
      let log = await openInferenceLog(settings, { durability: "durable", partition: "p" });
      const reader = await openLogReader(dir);
      const writer = log.writer;
      // Each append is its own commit: settle commits the journaled rows at once (writer.ts).
      const append = async (entry: LogEntry) => {
        await writer.append(entry);
        await writer.settle();
      };
      // A demo row takes about 80 bytes as a record: 10,000 fit, and the 5,000 uploaded are more than one eviction.
      for (let i = 0; i < 10_000 / R; i++) await append(demoEntry(i * R, R));
      assertEquals((await writer.status()).evictedRows, 0, "10,000 rows fit under 1 MiB");
      await reader.client.execute("UPDATE inference_batch SET uploaded = rows WHERE id > 5000");

      // Write until the first eviction: it must take uploaded rows (5001…) and keep the older, unuploaded 1…5000.
      let appended = 10_000 / R;
      while ((await writer.status()).evictedRows === 0) {
        assert(appended < 100_000 / R, "100,000 rows written and nothing evicted");
        await append(demoEntry(appended++ * R, R));
      }
      const afterFirst = await ids(reader.client);
      assert(!afterFirst.includes(5001), "the oldest uploaded row was evicted first");
      assertEquals(afterFirst.slice(0, 5000), Array.from({ length: 5000 }, (_, i) => i + 1), "unuploaded rows kept");

      // Far past the cap: only the newest rows remain, oldest evicted first, size bounded throughout.
      let largestFile = 0;
      let largestWal = 0;
      for (let i = 0; i < 50_000 / R; i++) {
        await append(demoEntry(appended++ * R, R));
        largestFile = Math.max(largestFile, (await Deno.stat(log.path)).size);
        largestWal = Math.max(largestWal, await Deno.stat(`${log.path}-wal`).then((s) => s.size).catch(() => 0));
      }
      const remaining = await ids(reader.client);
      const last = appended * R;
      assertEquals(remaining[remaining.length - 1], last, "the newest row is kept");
      assertEquals(remaining, Array.from({ length: remaining.length }, (_, i) => last - remaining.length + 1 + i));
      assert(largestFile <= CAP + DB_MARGIN, `database file reached ${largestFile} bytes, cap ${CAP} + ${DB_MARGIN}`);
      console.log(`largest database file ${largestFile} bytes, largest WAL ${largestWal} bytes (cap ${CAP})`);
      assert(largestWal <= walLimitBytes + DB_MARGIN, `WAL reached ${largestWal} bytes`);

      const status = await writer.status();
      assertEquals(status.evictedRows, last - remaining.length, "every evicted row is counted");
      assert(status.usedBytes <= CAP, `${status.usedBytes} bytes in use`);

      // The count survives a restart.
      await log.close();
      log = await openInferenceLog(settings, { durability: "durable", partition: "p" });
      assertEquals(await evictedTotal(reader.client), status.evictedRows);
      assertEquals(log.writer.evictedRows, status.evictedRows);
      closeLogDb(reader);
      await log.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
