/**
 * @module
 * Reads the log in id order, page by page, so `/logs` streams in constant
 * memory however large the log is.
 */
import { and, asc, gt, gte, lte, type SQL } from "drizzle-orm";
import type { LogDb } from "./db.ts";
import { inferenceLog, logColumns } from "./schema.ts";

/**
 * A stored log row. Its validation results and shadow outputs (`anomalyJson`, `shadowJson`, `{}` when absent) are
 * optional here, so rows from elsewhere (the hub's, written before validations existed) are rows too.
 */
export type StoredLogRow =
  & Omit<typeof inferenceLog.$inferSelect, "anomalyJson" | "shadowJson">
  & Partial<Pick<typeof inferenceLog.$inferSelect, "anomalyJson" | "shadowJson">>;

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

/** One page: rows matching `filter` with id > `after`, at most `limit`, in id order. */
export function readPage(log: LogDb, filter: LogFilter, after: number, limit: number): Promise<StoredLogRow[]> {
  const where: SQL[] = [gt(inferenceLog.id, after)];
  if (filter.start !== undefined) where.push(gte(inferenceLog.time, filter.start));
  if (filter.end !== undefined) where.push(lte(inferenceLog.time, filter.end));
  return log.db.select().from(inferenceLog).where(and(...where)).orderBy(asc(inferenceLog.id)).limit(limit);
}

/** The Arrow `/logs` columns beyond the fixed ones that rows have had (`anomaly.<name>`, `shadow_data`), sorted. */
export async function readExtraColumns(log: LogDb): Promise<string[]> {
  const rows = await log.db.select().from(logColumns).orderBy(asc(logColumns.name));
  return rows.map((r) => r.name);
}

/** Fetches one page (see readPage). */
export type PageSource = (filter: LogFilter, after: number, limit: number) => Promise<StoredLogRow[]>;

/** Yields the rows matching `filter`, a page at a time, in id order. */
export async function* readLog(page: PageSource, filter: LogFilter): AsyncGenerator<StoredLogRow[]> {
  let after = filter.after ?? 0;
  let left = filter.limit ?? Infinity;
  while (left > 0) {
    const rows = await page(filter, after, Math.min(PAGE_ROWS, left));
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1].id;
    left -= rows.length;
    if (rows.length < PAGE_ROWS) return;
  }
}
