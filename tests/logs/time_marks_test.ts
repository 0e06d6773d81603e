/**
 * Time-ranged reads find their records through the minute marks (schema.ts, logTimeMarks), not an index on time:
 * records committed out of time order, across minutes, before and after the storage cap evicts some of them
 * (uploaded ones first, so not always a prefix of ids), are read exactly as a filter over every row would read them.
 */
import fc from "fast-check";
import { LogAppender } from "../../src/logs/appender.ts";
import { enforceCap, usedBytes } from "../../src/logs/cap.ts";
import { closeLogDb } from "../../src/logs/db.ts";
import { openLogDb } from "../../src/logs/db_open.ts";
import { toLogRecord } from "../../src/logs/entry.ts";
import { readPage } from "../../src/logs/query.ts";
import { markUploaded } from "../../src/logs/upload.ts";
import { assertEquals } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";

const SETTINGS = { sync: "normal" as const, walLimitBytes: 1 << 20 };
const MINUTE = 60_000;
const BASE = 1_700_000_000_000;

/** A commit: its records' times, as minutes from BASE plus ms, and rows per record. */
const commits = fc.array(
  fc.array(fc.record({ minute: fc.integer({ min: 0, max: 6 }), ms: fc.integer({ min: 0, max: MINUTE - 1 }) }), {
    minLength: 1,
    maxLength: 4,
  }),
  { minLength: 1, maxLength: 25 },
);

/** Filters to try: bounds at, inside and between minutes. */
const bound = fc.oneof(
  fc.integer({ min: -1, max: 8 }).map((m) => BASE + m * MINUTE),
  fc.integer({ min: -MINUTE, max: 8 * MINUTE }).map((ms) => BASE + ms),
);
const filters = fc.array(
  fc.record({ start: fc.option(bound, { nil: undefined }), end: fc.option(bound, { nil: undefined }) }),
  {
    minLength: 1,
    maxLength: 6,
  },
);

Deno.test("time ranges read exactly the records in them: out of time order, across minutes, after evictions", async () => {
  await fc.assert(
    fc.asyncProperty(
      commits,
      fc.integer({ min: 0, max: 3 }),
      fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
      filters,
      async (batches, rowsEach, uploadThrough, tries) => {
        const dir = await Deno.makeTempDir({ prefix: "tern-marks-" });
        const log = await openLogDb(dir, SETTINGS);
        const appender = new LogAppender(log.path, SETTINGS);
        try {
          let marker = 0;
          for (const batch of batches) {
            appender.append(batch.map(({ minute, ms }) => {
              const rows = rowsEach || 1;
              const record = toLogRecord(demoEntry(marker, rows, BASE + minute * MINUTE + ms), "edge");
              marker += rows;
              return record;
            }));
          }
          const check = () => {
            const all = readPage(log, {}, 0, 1e6);
            for (const { start, end } of tries) {
              const expected = all.filter((r) =>
                (start === undefined || r.time >= start) && (end === undefined || r.time <= end)
              );
              assertEquals(
                readPage(log, { start, end }, 0, 1e6).map((r) => r.id),
                expected.map((r) => r.id),
                JSON.stringify({ start, end }),
              );
            }
          };
          check();
          // Mark some rows uploaded (evicted first), then evict about a tenth of the log, then read again.
          if (uploadThrough !== undefined) await markUploaded(log, 1, uploadThrough);
          await enforceCap(log.client, (await usedBytes(log.client)) - 1);
          check();
          // Records logged after the eviction, in minutes before and after those kept.
          appender.append([
            toLogRecord(demoEntry(marker, 1, BASE), "edge"),
            toLogRecord(demoEntry(marker + 1, 1, BASE + 7 * MINUTE), "edge"),
          ]);
          check();
        } finally {
          appender.close();
          closeLogDb(log);
          await Deno.remove(dir, { recursive: true });
        }
      },
    ),
    { numRuns: 40 },
  );
});
