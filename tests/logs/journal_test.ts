/**
 * The durable log's journal (src/logs/journal.ts): frames read back as written, a torn or damaged tail cut off
 * (it was never acknowledged), frames already in the database skipped, and, through the log itself, rows a
 * stop left only in the journal committed once at the next start, never twice.
 */
import { decodeFrames, encodeFrame, JOURNAL_FILE, LogJournal } from "../../src/logs/journal.ts";
import { type LogRecord, toLogRecord } from "../../src/logs/entry.ts";
import { LogWriter, openInferenceLog } from "../../src/logs/mod.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";
import { allRows, withTempDir } from "../support/log_dir.ts";

const SETTINGS = { sync: "normal" as const, walLimitBytes: 1 << 20 };

function records(marker: number, count: number, rows = 2): LogRecord[] {
  return Array.from({ length: count }, (_, i) => toLogRecord(demoEntry(marker + 10 * i, rows), "edge-j"));
}

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("tern-journal-", fn);

const firstFeatures = (rows: { inJson: string }[]) => rows.map((r) => JSON.parse(r.inJson).tensor[0]);

Deno.test("frames read back as written, every field and payload byte", () => {
  const written = [records(0, 3), records(100, 1, 7)];
  const bytes = new Uint8Array([...encodeFrame(4, written[0]), ...encodeFrame(5, written[1])]);
  const { frames, validBytes } = decodeFrames(bytes);
  assertEquals(validBytes, bytes.length);
  assertEquals(frames.map((f) => f.seq), [4, 5]);
  assertEquals(frames.map((f) => f.records), written);
});

Deno.test("a torn or damaged frame ends the journal there; the file is cut back before anything is appended", () =>
  withDir(async (dir) => {
    const path = `${dir}/${JOURNAL_FILE}`;
    const first = encodeFrame(1, records(0, 2));
    const second = encodeFrame(2, records(50, 2));
    // A write cut short by a kill: half of the second frame.
    Deno.writeFileSync(path, new Uint8Array([...first, ...second.subarray(0, second.length >> 1)]));
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    let opened;
    try {
      opened = LogJournal.open(path, 0);
    } finally {
      console.error = original;
    }
    assertEquals(opened.pending.map((f) => f.seq), [1]);
    assert(/write cut short/.test(errors.join("\n")), "the dropped tail is reported");
    assertEquals(Deno.statSync(path).size, first.length, "the torn tail is cut off");
    assertEquals(opened.journal.write(records(70, 1)), 2, "numbering goes on after the last whole frame");
    await opened.journal.close();
    assertEquals(decodeFrames(Deno.readFileSync(path)).frames.map((f) => f.seq), [1, 2]);

    // One flipped bit in the first frame's body: its CRC fails, and nothing after it is trusted.
    const damaged = Deno.readFileSync(path);
    damaged[40] ^= 0x10;
    assertEquals(decodeFrames(damaged).frames, []);
  }));

Deno.test("frames the database already holds are skipped, and the file is emptied once all are committed", () =>
  withDir(async (dir) => {
    const path = `${dir}/${JOURNAL_FILE}`;
    Deno.writeFileSync(path, new Uint8Array([...encodeFrame(7, records(0, 1)), ...encodeFrame(8, records(9, 1))]));
    const { journal, pending } = LogJournal.open(path, 7);
    assertEquals(pending.map((f) => f.seq), [8]);
    const next = journal.write(records(20, 1));
    assertEquals(next, 9);
    journal.committed(8);
    assert(Deno.statSync(path).size > 0, "frame 9 is not committed yet: the file is kept");
    journal.committed(9);
    assertEquals(Deno.statSync(path).size, 0, "everything written is committed: the file is emptied");
    await journal.close();
    // Every frame committed (a kill between the commit and the emptying): nothing pending, the file emptied.
    Deno.writeFileSync(path, encodeFrame(3, records(0, 1)));
    const again = LogJournal.open(path, 3);
    assertEquals(again.pending, []);
    assertEquals(Deno.statSync(path).size, 0);
    assertEquals(again.journal.write(records(0, 1)), 4);
    await again.journal.close();
  }));

Deno.test("durable rows a stop left only in the journal are committed at the next start, once", () =>
  withDir(async (dir) => {
    const journalPath = `${dir}/${JOURNAL_FILE}`;
    let log = await openInferenceLog({ dir, ...SETTINGS }, { durability: "durable", partition: "edge-j" });
    await log.writer.append(demoEntry(0, 3));
    await Promise.all([log.writer.append(demoEntry(10, 2)), log.writer.append(demoEntry(20, 1))]);
    // Acknowledged: in the journal, whatever the database holds yet.
    const acknowledged = Deno.readFileSync(journalPath);
    assertEquals(decodeFrames(acknowledged).frames.flatMap((f) => f.records).map((r) => r.rows), [3, 2, 1]);
    await log.close();
    assertEquals(Deno.statSync(journalPath).size, 0, "a clean stop commits everything and empties the journal");

    // A kill between the commit and the emptying: the same frames are back; the database has them already.
    Deno.writeFileSync(journalPath, acknowledged);
    log = await openInferenceLog({ dir, ...SETTINGS }, { durability: "durable", partition: "edge-j" });
    assertEquals(firstFeatures(await allRows(log)), [0, 1, 2, 10, 11, 20], "no row committed twice");
    await log.close();

    // A kill before the commit: a log that never saw these rows, and the journal holding them.
    await withDir(async (other) => {
      const fresh = await openInferenceLog({ dir: other, ...SETTINGS }, { durability: "durable", partition: "x" });
      await fresh.close();
      Deno.writeFileSync(`${other}/${JOURNAL_FILE}`, acknowledged);
      // Started again with the log async: the journal is still committed.
      const restarted = await openInferenceLog({ dir: other, ...SETTINGS }, { durability: "async", partition: "x" });
      const rows = await allRows(restarted);
      assertEquals(firstFeatures(rows), [0, 1, 2, 10, 11, 20], "every acknowledged row, in order");
      assertEquals(rows.map((r) => r.id), [1, 2, 3, 4, 5, 6]);
      assertEquals((await restarted.writer.status()).committedRows, 6);
      await restarted.writer.append(demoEntry(30, 1));
      await restarted.close();
      assertEquals(Deno.statSync(`${other}/${JOURNAL_FILE}`).size, 0);
      const reopened = await openInferenceLog({ dir: other, ...SETTINGS }, { durability: "durable", partition: "x" });
      assertEquals(firstFeatures(await allRows(reopened)), [0, 1, 2, 10, 11, 20, 30]);
      await reopened.close();
    });
  }));

Deno.test("durable replies wait for the journal, not the commit: rows are committed in batches", () =>
  withDir(async (dir) => {
    const log = await openInferenceLog({ dir, ...SETTINGS }, { durability: "durable", partition: "edge-j" });
    for (let i = 0; i < 30; i++) await log.writer.append(demoEntry(i));
    const before = await log.writer.status();
    assert(before.committedRows < 30, `all 30 sequential appends were committed one by one (${before.commits})`);
    assertEquals(before.pendingRows + before.committedRows, 30, "the others wait in the queue, counted");
    await log.writer.settle();
    const after = await log.writer.status();
    assertEquals([after.committedRows, after.pendingRows], [30, 0]);
    assert(after.commits < 30, `${after.commits} commits for 30 appends`);
    await log.close();
  }));

Deno.test("journaled rows whose commit fails are kept and tried again; a stop leaves them in the journal", () =>
  withDir(async (dir) => {
    const path = `${dir}/${JOURNAL_FILE}`;
    let failing = true;
    const committed: { rows: number[]; seq?: number }[] = [];
    let attempts = 0;
    const store = {
      evictedAtOpen: 0,
      journalSeqAtOpen: 0,
      failed: false,
      commit: (records: LogRecord[], seq?: number) => {
        attempts++;
        if (failing) return Promise.reject(new Error("disk I/O error"));
        committed.push({ rows: records.map((r) => r.rows), seq });
        return Promise.resolve({ evicted: 0 });
      },
      usedBytes: () => Promise.resolve(0),
      close: () => Promise.resolve(),
    };
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      const writer = new LogWriter(store, {
        durability: "durable",
        partition: "p",
        journal: LogJournal.open(path, 0),
      });
      await writer.append(demoEntry(0, 4)); // acknowledged: journaled, whatever the database does
      await writer.settle(); // three failed tries
      assertEquals([attempts, committed.length], [3, 0]);
      assertEquals((await writer.status()).pendingRows, 4, "kept, not lost");
      failing = false;
      const retried = Date.now();
      while (committed.length === 0) await new Promise((r) => setTimeout(r, 50));
      assert(Date.now() - retried < 5000);
      assertEquals(committed, [{ rows: [4], seq: 1 }]);
      assertEquals(Deno.statSync(path).size, 0, "committed: the journal is emptied");
      assertEquals((await writer.status()).pendingRows, 0);

      failing = true;
      await writer.append(demoEntry(10, 2));
      await writer.close(); // the last try fails: the rows stay in the journal
      const left = LogJournal.open(path, 1);
      await left.journal.close();
      assertEquals(left.pending.flatMap((f) => f.records.map((r) => r.rows)), [2]);
    } finally {
      console.error = original;
    }
    assertMatch(errors.join("\n"), /journaled rows kept; tried again shortly/);
    assertMatch(errors.join("\n"), /journaled rows kept; the next start commits them/);
  }));

Deno.test("one process at a time: a second one cannot open a journal in use, and can once the first is gone", () =>
  withDir(async (dir) => {
    const path = `${dir}/${JOURNAL_FILE}`;
    const holder = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../support/hold_journal.ts", import.meta.url).pathname, path],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      assertEquals((await lines.read()).value?.trim(), "held");
      // The lock leaves no files of its own beside it (SQLite's rollback journal is off on it).
      assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [JOURNAL_FILE, `${JOURNAL_FILE}.lock`]);
      let refused = "";
      try {
        await LogJournal.open(path, 0).journal.close();
      } catch (err) {
        refused = (err as Error).message;
      }
      assertEquals(
        refused,
        `another tern process is using the inference log in ${dir} (its journal is locked): ` +
          "run one tern per PERSISTENT_VOLUME_DIR",
      );
    } finally {
      await holder.stdin.close();
      await holder.status;
      await lines.cancel();
    }
    const { journal } = LogJournal.open(path, 0); // the holder is gone: its lock went with it
    await journal.close();
  }));
