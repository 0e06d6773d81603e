/**
 * @module
 * Reads the log in id order, page by page, so `/logs` streams in constant
 * memory however large the log is.
 */
import { and, asc, gt, gte, lte, type SQL } from "drizzle-orm";
import type { LogDb } from "./db.ts";
import { inferenceLog } from "./schema.ts";

/** A stored log row. */
export type StoredLogRow = typeof inferenceLog.$inferSelect;

/** Filters of `POST /logs` (all optional). */
export interface LogFilter {
  /** Rows with time ≥ start (ms since epoch). */
  start?: number;
  /** Rows with time ≤ end (ms since epoch). */
  end?: number;
  /** Rows with id > after (the cursor: the last `metadata.id` seen). */
  after?: number;
  /** At most this many rows. */
  limit?: number;
}

/** Rows per page read from the database. */
export const PAGE_ROWS = 1000;

/** Yields the rows matching `filter`, a page at a time, in id order. */
export async function* readLog(log: LogDb, filter: LogFilter): AsyncGenerator<StoredLogRow[]> {
  let after = filter.after ?? 0;
  let left = filter.limit ?? Infinity;
  while (left > 0) {
    const where: SQL[] = [gt(inferenceLog.id, after)];
    if (filter.start !== undefined) where.push(gte(inferenceLog.time, filter.start));
    if (filter.end !== undefined) where.push(lte(inferenceLog.time, filter.end));
    const page = await log.db.select().from(inferenceLog).where(and(...where)).orderBy(asc(inferenceLog.id))
      .limit(Math.min(PAGE_ROWS, left));
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1].id;
    left -= page.length;
    if (page.length < PAGE_ROWS) return;
  }
}
