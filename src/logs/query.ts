/**
 * @module
 * Reads the log in id order, page by page, so `/logs` streams in constant
 * memory however large the log is. The log stores records (one per served
 * request, entry.ts); a page turns them into rows (rows.ts), starting inside a
 * record when the cursor points there.
 */
import { asc } from "drizzle-orm";
import { type LogDb, pagesConnection } from "./db.ts";
import { recordRows, type StoredLogRow, type StoredRecord } from "./rows.ts";
import { logColumns, MARK_MS } from "./schema.ts";

export type { StoredLogRow } from "./rows.ts";

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

/**
 * Records read by a page's first query; the next ones read as many as the rows still wanted need at the
 * rows per record seen so far, up to MAX_RECORDS_PER_QUERY. A page of 1-row records then takes two queries,
 * and one of 1,000-row records does not fetch more than a few.
 */
const FIRST_RECORDS_PER_QUERY = 8;
const MAX_RECORDS_PER_QUERY = 1000;

/** A record with its source's fields (query `FROM RECORDS`). */
const RECORD_COLUMNS = "b.id AS id, b.rows AS rows, b.time AS time, s.pipeline_name AS pipeline_name, " +
  "s.pipeline_version AS pipeline_version, s.last_model AS last_model, b.elapsed_json AS elapsed_json, " +
  "s.partition AS partition, b.payload AS payload, b.uploaded AS uploaded";
const RECORDS = "inference_batch AS b JOIN log_sources AS s ON s.id = b.source";

/** The id of the record that holds row `id` (or the last record before it; 0 when none). */
const HOLDING = "(SELECT coalesce(max(id), 0) FROM inference_batch WHERE id <= ?)";

/** A result row of RECORD_COLUMNS, as `libsql` gives it. */
interface RecordRow {
  id: number;
  rows: number;
  time: number;
  pipeline_name: string;
  pipeline_version: string;
  last_model: string;
  elapsed_json: string;
  partition: string;
  /** A blob comes as an ArrayBuffer; a legacy row's JSON as a string. */
  payload: ArrayBuffer | Uint8Array | string;
  uploaded: number;
}

/** A record from a result row of RECORD_COLUMNS. */
function recordOf(row: RecordRow): StoredRecord {
  const payload = row.payload;
  return {
    id: row.id,
    rows: row.rows,
    time: row.time,
    pipelineName: row.pipeline_name,
    pipelineVersion: row.pipeline_version,
    lastModel: row.last_model,
    elapsedJson: row.elapsed_json,
    partition: row.partition,
    payload: typeof payload === "string"
      ? payload
      : payload instanceof ArrayBuffer
      ? new Uint8Array(payload)
      : new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
    uploaded: row.uploaded,
  };
}

/** SQL with its arguments. */
interface Sql {
  sql: string;
  args: number[];
}

/**
 * Rows with id > `after`, at most `limit`, in id order, from the records that `where` (SQL over the record's
 * columns, `b.*`, with `args`) selects; `firstRow(record)` is the first row of a record to consider, and `floor`
 * (SQL) the lowest record id worth reading.
 */
export function recordPage(
  log: LogDb,
  where: Sql,
  after: number,
  limit: number,
  firstRow: (record: StoredRecord) => number = () => 0,
  floor: Sql = { sql: "0", args: [] },
): StoredLogRow[] {
  const out: StoredLogRow[] = [];
  // The first query starts at the record holding row after + 1; the next ones after the last record read.
  let start: Sql = { sql: `b.id >= max(${HOLDING}, ${floor.sql})`, args: [after + 1, ...floor.args] };
  let records = FIRST_RECORDS_PER_QUERY;
  let seenRecords = 0;
  let seenRows = 0;
  while (out.length < limit) {
    const rows = pagesConnection(log).prepare(
      `SELECT ${RECORD_COLUMNS} FROM ${RECORDS} WHERE ${start.sql}${where.sql ? ` AND ${where.sql}` : ""} ` +
        `ORDER BY b.id LIMIT ${records}`,
    ).all(...start.args, ...where.args) as RecordRow[];
    for (const row of rows) {
      const record = recordOf(row);
      seenRecords++;
      seenRows += record.rows;
      const from = Math.max(firstRow(record), after + 1 - record.id, 0);
      out.push(...recordRows(record, from, from + limit - out.length));
      if (out.length >= limit) break;
    }
    if (rows.length < records) break;
    start = { sql: "b.id > ?", args: [rows[rows.length - 1].id] };
    const wanted = Math.ceil((limit - out.length) * seenRecords / seenRows);
    records = Math.min(MAX_RECORDS_PER_QUERY, Math.max(FIRST_RECORDS_PER_QUERY, wanted));
  }
  return out;
}

/**
 * One page: rows matching `filter` with id > `after`, at most `limit`, in id order. With a time range the
 * records are walked in id order (the log has no index on time); a read's first page starts at the first record
 * of start's minute (found once: the later pages start past it).
 */
export function readPage(log: LogDb, filter: LogFilter, after: number, limit: number): StoredLogRow[] {
  const sql: string[] = [];
  const args: number[] = [];
  if (filter.start !== undefined) sql.push("b.time >= ?"), args.push(filter.start);
  if (filter.end !== undefined) sql.push("b.time <= ?"), args.push(filter.end);
  const firstPage = after === (filter.after ?? 0);
  // The smallest first id of the minutes from start's on (schema.ts, logTimeMarks): no record with time ≥ start
  // lies before it; from there the walk skips the few that do not match.
  const floor = filter.start === undefined || !firstPage ? undefined : {
    sql: `(SELECT coalesce(min(first_id), ${Number.MAX_SAFE_INTEGER}) FROM log_time_marks WHERE minute >= ?)`,
    args: [Math.floor(filter.start / MARK_MS)],
  };
  return recordPage(log, { sql: sql.join(" AND "), args }, after, limit, undefined, floor);
}

/** The Arrow `/logs` columns beyond the fixed ones that rows have had (`anomaly.<name>`, `shadow_data`), sorted. */
export async function readExtraColumns(log: LogDb): Promise<string[]> {
  const rows = await log.db.select().from(logColumns).orderBy(asc(logColumns.name));
  return rows.map((r) => r.name);
}

/** Fetches one page (see readPage). */
export type PageSource = (filter: LogFilter, after: number, limit: number) => Promise<StoredLogRow[]>;

/** One page of rows in some form (`value`), with what moves the cursor: its row count and its last row's id. */
export interface CountedPage<T> {
  value: T;
  rows: number;
  lastId: number;
}

/** A page of rows as the pandas-records JSON list's items, comma-separated (no brackets). */
export type JsonPageSource = (filter: LogFilter, after: number, limit: number) => Promise<CountedPage<string>>;

/** Yields the rows matching `filter`, a page at a time, in id order. */
export function readLog(page: PageSource, filter: LogFilter): AsyncGenerator<StoredLogRow[]> {
  return walkLog(async (after, limit) => {
    const rows = await page(filter, after, limit);
    return { value: rows, rows: rows.length, lastId: rows.at(-1)?.id ?? after };
  }, filter);
}

/** As readLog, each page as pandas-records JSON text (built where the page is read). */
export function readLogJson(page: JsonPageSource, filter: LogFilter): AsyncGenerator<string> {
  return walkLog((after, limit) => page(filter, after, limit), filter);
}

/** Walks `filter`'s rows in pages of up to PAGE_ROWS, from its `after`, until its `limit` or the log's end. */
async function* walkLog<T>(
  page: (after: number, limit: number) => Promise<CountedPage<T>>,
  filter: LogFilter,
): AsyncGenerator<T> {
  let after = filter.after ?? 0;
  let left = filter.limit ?? Infinity;
  while (left > 0) {
    const next = await page(after, Math.min(PAGE_ROWS, left));
    if (next.rows === 0) return;
    yield next.value;
    after = next.lastId;
    left -= next.rows;
    if (next.rows < PAGE_ROWS) return;
  }
}
