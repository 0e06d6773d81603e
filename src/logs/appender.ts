/**
 * @module
 * The log's hot write path: its own connection through `libsql` (the engine
 * under @libsql/client) with every statement prepared once. @libsql/client
 * prepares every statement again on each call, which made a one-row commit
 * 2.5× as slow (66 µs against 26 µs measured here). One INSERT per served
 * request (a record, entry.ts), whatever its rows: 1,000 demo rows took
 * 2.7–5.5 ms as rows and take about 0.15 ms as one record, measured here.
 * Column names come from the drizzle schema, so the two cannot drift apart.
 */
import Database from "libsql";
import { getTableColumns, getTableName } from "drizzle-orm";
import type { LogRecord } from "./entry.ts";
import { connectionPragmas, type OpenLogOptions } from "./db.ts";
import { inferenceBatch, logColumns, logCounters, logSources, logTimeMarks, MARK_MS } from "./schema.ts";

const BATCH = getTableColumns(inferenceBatch);
const FIELDS = ["id", "rows", "time", "source", "elapsedJson", "payload"] as const satisfies readonly (
  keyof typeof BATCH
)[];
const INSERT_SQL = `INSERT INTO ${getTableName(inferenceBatch)} (${FIELDS.map((f) => BATCH[f].name).join(", ")}) ` +
  `VALUES (${FIELDS.map(() => "?").join(", ")})`;
const SOURCE = getTableColumns(logSources);
const SOURCE_FIELDS = ["pipelineName", "pipelineVersion", "lastModel", "partition"] as const satisfies readonly (
  keyof typeof SOURCE
)[];
const SOURCES = getTableName(logSources);
const FIND_SOURCE_SQL = `SELECT ${SOURCE.id.name} FROM ${SOURCES} WHERE ${
  SOURCE_FIELDS.map((f) => `${SOURCE[f].name} = ?`).join(" AND ")
}`;
const ADD_SOURCE_SQL = `INSERT INTO ${SOURCES} (${SOURCE_FIELDS.map((f) => SOURCE[f].name).join(", ")}) ` +
  `VALUES (${SOURCE_FIELDS.map(() => "?").join(", ")}) RETURNING ${SOURCE.id.name}`;
const COUNTERS = getTableName(logCounters);
/**
 * The next row id: after the newest record's rows, or `next_id` where larger (the counter a trigger raises past
 * every record deleted, schema.ts). Both are read, neither written: a commit writes only its records' pages.
 */
const NEXT_ID_SQL =
  `SELECT max(coalesce((SELECT ${BATCH.id.name} + ${BATCH.rows.name} FROM ${getTableName(inferenceBatch)} ` +
  `ORDER BY ${BATCH.id.name} DESC LIMIT 1), 1), coalesce((SELECT value FROM ${COUNTERS} WHERE name = 'next_id'), 1))`;
const COUNTER = getTableColumns(logCounters);
/** Raises `next_id` to at least the given id (it is never lowered). */
const RAISE_NEXT_ID_SQL =
  `INSERT INTO ${COUNTERS} (${COUNTER.name.name}, ${COUNTER.value.name}) VALUES ('next_id', ?) ` +
  `ON CONFLICT (${COUNTER.name.name}) DO UPDATE SET ${COUNTER.value.name} = max(${COUNTER.value.name}, ` +
  `excluded.${COUNTER.value.name})`;
/** The last journal frame (journal.ts) whose records the database holds: written with them, in their transaction. */
const JOURNAL_SEQ_SQL =
  `INSERT INTO ${COUNTERS} (${COUNTER.name.name}, ${COUNTER.value.name}) VALUES ('journal_seq', ?) ` +
  `ON CONFLICT (${COUNTER.name.name}) DO UPDATE SET ${COUNTER.value.name} = excluded.${COUNTER.value.name}`;
const MARKS = getTableColumns(logTimeMarks);
/** A minute's first record (schema.ts): set once, by the first commit with a record in it. */
const MARK_SQL = `INSERT OR IGNORE INTO ${getTableName(logTimeMarks)} (${MARKS.minute.name}, ${MARKS.firstId.name}) ` +
  "VALUES (?, ?)";
const COLUMN_SQL = `INSERT OR IGNORE INTO ${getTableName(logColumns)} (${
  getTableColumns(logColumns).name.name
}) VALUES (?)`;

/** Bytes of database pages holding data, as cap.ts counts them. */
const USED_BYTES_SQL = "SELECT (p.page_count - f.freelist_count) * s.page_size AS used " +
  "FROM pragma_page_count() AS p, pragma_freelist_count() AS f, pragma_page_size() AS s";

/** Appends records to an already migrated log database. */
export class LogAppender {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<unknown[]>;
  readonly #findSource: Database.Statement<unknown[]>;
  readonly #addSource: Database.Statement<unknown[]>;
  readonly #nextId: Database.Statement<unknown[]>;
  readonly #mark: Database.Statement<unknown[]>;
  readonly #begin: Database.Statement<unknown[]>;
  readonly #commit: Database.Statement<unknown[]>;
  readonly #rollback: Database.Statement<unknown[]>;
  readonly #column: Database.Statement<unknown[]>;
  readonly #usedBytes: Database.Statement<unknown[]>;
  readonly #journalSeq: Database.Statement<unknown[]>;
  /** Extra columns already recorded in log_columns. */
  readonly #columns = new Set<string>();
  /** The minute this connection last committed a record in: its mark is set (a probe per commit saved). */
  #markedMinute = -1;
  /** log_sources ids of committed sources, by sourceKey. */
  readonly #sources = new Map<string, number>();

  /** Opens `path` with the same per-connection settings as the rest of the log (db.ts). */
  constructor(path: string, options: OpenLogOptions) {
    this.#db = new Database(path);
    try {
      for (const pragma of connectionPragmas(options)) this.#db.exec(pragma);
      this.#insert = this.#db.prepare(INSERT_SQL);
      this.#findSource = this.#db.prepare(FIND_SOURCE_SQL).raw();
      this.#addSource = this.#db.prepare(ADD_SOURCE_SQL).raw();
      this.#nextId = this.#db.prepare(NEXT_ID_SQL).raw();
      this.#mark = this.#db.prepare(MARK_SQL);
      this.#begin = this.#db.prepare("BEGIN IMMEDIATE");
      this.#commit = this.#db.prepare("COMMIT");
      this.#rollback = this.#db.prepare("ROLLBACK");
      this.#column = this.#db.prepare(COLUMN_SQL);
      this.#usedBytes = this.#db.prepare(USED_BYTES_SQL);
      this.#journalSeq = this.#db.prepare(JOURNAL_SEQ_SQL);
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  /**
   * Inserts `records` in one transaction, in order: all of them or (on error, which is thrown) none; with
   * `journalSeq`, the last journal frame they complete is recorded in the same transaction.
   */
  append(records: readonly LogRecord[], journalSeq?: number): void {
    if (records.length === 0 && journalSeq === undefined) return;
    // A transaction left open by a failed rollback would refuse every later BEGIN.
    if (this.#db.inTransaction) this.#rollback.run();
    this.#begin.run();
    try {
      let id = this.nextId();
      const columns = new Set<string>();
      const sources = new Map<string, number>();
      let minute = this.#markedMinute;
      for (const r of records) {
        if (r.rows === 0) continue; // nothing to log, and its id would be the next record's
        const key = sourceKey(r);
        let source = this.#sources.get(key) ?? sources.get(key);
        if (source === undefined) sources.set(key, source = this.#sourceId(r));
        this.#insert.run(id, r.rows, r.time, source, r.elapsedJson, r.payload);
        const recordMinute = Math.floor(r.time / MARK_MS);
        if (recordMinute !== minute) this.#mark.run(minute = recordMinute, id);
        id += r.rows;
        for (const name of r.extraColumns) if (!this.#columns.has(name)) columns.add(name);
      }
      for (const name of columns) this.#column.run(name);
      if (journalSeq !== undefined) this.#journalSeq.run(journalSeq);
      this.#commit.run();
      this.#markedMinute = minute;
      // Remembered once committed: a source added by a transaction rolled back does not exist.
      for (const name of columns) this.#columns.add(name);
      for (const [key, source] of sources) this.#sources.set(key, source);
    } catch (err) {
      try {
        if (this.#db.inTransaction) this.#rollback.run();
      } catch { /* the next append rolls back first; the insert's error is the one to report */ }
      throw err;
    }
  }

  /** The log_sources id of a record's source, added when new (in the transaction under way). */
  #sourceId(r: LogRecord): number {
    const values = SOURCE_FIELDS.map((f) => r[f]);
    const found = (this.#findSource.get(...values) ?? this.#addSource.get(...values)) as [number];
    return Number(found[0]);
  }

  /** The id the next row committed gets. */
  nextId(): number {
    return Number((this.#nextId.get() as [number] | undefined)?.[0] ?? 1);
  }

  /** No row committed after this gets an id below `id`. */
  raiseNextId(id: number): void {
    this.#db.prepare(RAISE_NEXT_ID_SQL).run(id);
  }

  /** Checkpoints the WAL (PASSIVE: copies what no reader still needs; the next commit restarts a copied WAL). */
  checkpoint(): void {
    this.#db.exec("PRAGMA wal_checkpoint(PASSIVE)");
  }

  /** Bytes of database pages holding data (the storage cap's measure). */
  usedBytes(): number {
    return Number((this.#usedBytes.get() as { used: number }).used);
  }

  /** Closes the connection. */
  close(): void {
    this.#db.close();
  }
}

/** A record's source as one string (its four fields; none holds a NUL). */
function sourceKey(r: LogRecord): string {
  return `${r.pipelineName}\0${r.pipelineVersion}\0${r.lastModel}\0${r.partition}`;
}
