/**
 * @module
 * The log's hot write path: its own connection through `libsql` (the engine
 * under @libsql/client) with the INSERT, BEGIN and COMMIT prepared once.
 * @libsql/client prepares every statement again on each call, which made a
 * one-row commit 2.5× as slow (66 µs against 26 µs measured here); drizzle's
 * query builder cost 13 of 18 ms per 1,000 rows. Column names come from the
 * drizzle schema, so the two cannot drift apart.
 */
import { rowExtraColumns } from "../codec/extra_columns.ts";
import Database from "libsql";
import { getTableColumns, getTableName } from "drizzle-orm";
import type { LogRow } from "./entry.ts";
import { LOG_FIELDS, type LogBatch, toBatch, valueAt } from "./batch.ts";
import { connectionPragmas, type OpenLogOptions } from "./db.ts";
import { inferenceLog, logColumns } from "./schema.ts";

const COLUMNS = getTableColumns(inferenceLog);
const INTO = `INSERT INTO ${getTableName(inferenceLog)} (${LOG_FIELDS.map((f) => COLUMNS[f].name).join(", ")})`;
const INSERT_SQL = `${INTO} VALUES (${LOG_FIELDS.map(() => "?").join(", ")})`;
/**
 * Many rows in one statement: a field all rows share is bound once (?1…?12), the others come from a JSON
 * array of per-row arrays (?13, `null` where shared), in array order, so ids keep the rows' order. One
 * statement per JSON_CHUNK_CHARS of rows instead of one per row: 1,000 demo rows took 7 ms as 1,000
 * statements and 2.7 ms so, measured here.
 */
const INSERT_JSON_SQL = `${INTO} SELECT ${
  LOG_FIELDS.map((_, k) => `coalesce(?${k + 1}, j.value ->> ${k})`).join(", ")
} FROM json_each(?${LOG_FIELDS.length + 1}) AS j ORDER BY j.key`;
/** Batches of up to this many rows are inserted a statement per row (nothing to gain from the JSON). */
const ROW_BY_ROW_MAX = 8;
/** Largest JSON text bound to one many-row statement (well under SQLite's 1e9-byte string limit). */
const JSON_CHUNK_CHARS = 8 << 20;
const COLUMN_SQL = `INSERT OR IGNORE INTO ${getTableName(logColumns)} (${
  getTableColumns(logColumns).name.name
}) VALUES (?)`;

/** Bytes of database pages holding data, as cap.ts counts them. */
const USED_BYTES_SQL = "SELECT (p.page_count - f.freelist_count) * s.page_size AS used " +
  "FROM pragma_page_count() AS p, pragma_freelist_count() AS f, pragma_page_size() AS s";

const ANOMALY_JSON = LOG_FIELDS.indexOf("anomalyJson");
const SHADOW_JSON = LOG_FIELDS.indexOf("shadowJson");

/** Appends rows to an already migrated log database. */
export class LogAppender {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<unknown[]>;
  readonly #insertJson: Database.Statement<unknown[]>;
  readonly #begin: Database.Statement<unknown[]>;
  readonly #commit: Database.Statement<unknown[]>;
  readonly #rollback: Database.Statement<unknown[]>;
  readonly #column: Database.Statement<unknown[]>;
  readonly #usedBytes: Database.Statement<unknown[]>;
  /** The shapes of extra columns seen (a row's validation names and whether it has shadows), recorded once each. */
  readonly #shapes = new Set<string>();

  /** Opens `path` with the same per-connection settings as the rest of the log (db.ts). */
  constructor(path: string, options: OpenLogOptions) {
    this.#db = new Database(path);
    try {
      for (const pragma of connectionPragmas(options)) this.#db.exec(pragma);
      this.#insert = this.#db.prepare(INSERT_SQL);
      this.#insertJson = this.#db.prepare(INSERT_JSON_SQL);
      this.#begin = this.#db.prepare("BEGIN IMMEDIATE");
      this.#commit = this.#db.prepare("COMMIT");
      this.#rollback = this.#db.prepare("ROLLBACK");
      this.#column = this.#db.prepare(COLUMN_SQL);
      this.#usedBytes = this.#db.prepare(USED_BYTES_SQL);
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  /** Inserts `rows` in one transaction: all of them or (on error, which is thrown) none. */
  append(rows: readonly LogRow[]): void {
    this.appendBatch(toBatch(rows));
  }

  /** Inserts a batch's rows in one transaction, in order: all of them or (on error, which is thrown) none. */
  appendBatch(batch: LogBatch): void {
    if (batch.rows === 0) return;
    // A transaction left open by a failed rollback would refuse every later BEGIN.
    if (this.#db.inTransaction) this.#rollback.run();
    this.#begin.run();
    try {
      if (batch.rows <= ROW_BY_ROW_MAX) this.#insertRowByRow(batch);
      else this.#insertJsonChunks(batch);
      const shapes = this.#newShapes(batch);
      for (const [anomalyJson, shadows] of shapes.values()) {
        for (const name of rowExtraColumns(anomalyJson, shadows)) this.#column.run(name);
      }
      this.#commit.run();
      for (const shape of shapes.keys()) this.#shapes.add(shape);
    } catch (err) {
      try {
        if (this.#db.inTransaction) this.#rollback.run();
      } catch { /* the next append rolls back first; the insert's error is the one to report */ }
      throw err;
    }
  }

  #insertRowByRow({ rows, columns }: LogBatch): void {
    for (let r = 0; r < rows; r++) this.#insert.run(...columns.map((c) => valueAt(c, r)));
  }

  #insertJsonChunks({ rows, columns }: LogBatch): void {
    const shared = columns.map((c) => "same" in c ? c.same : null);
    const each = columns.map((c) => "each" in c ? c.each : undefined);
    let parts: string[] = [];
    let chars = 0;
    const flush = () => {
      this.#insertJson.run(...shared, `[${parts.join(",")}]`);
      parts = [];
      chars = 0;
    };
    for (let r = 0; r < rows; r++) {
      const row = `[${each.map((values) => values === undefined ? "null" : JSON.stringify(values[r])).join(",")}]`;
      parts.push(row);
      chars += row.length + 1;
      if (chars >= JSON_CHUNK_CHARS) flush();
    }
    if (parts.length > 0) flush();
  }

  /**
   * The extra-column shapes not recorded yet (a row's validation names and whether it has shadows), each with
   * an anomaly JSON and shadow flag of it; rows without validations or shadows have none.
   */
  #newShapes(batch: LogBatch): Map<string, [string, boolean]> {
    const found = new Map<string, [string, boolean]>();
    const anomalies = batch.columns[ANOMALY_JSON];
    const shadowColumn = batch.columns[SHADOW_JSON];
    const rows = "same" in anomalies && "same" in shadowColumn ? 1 : batch.rows;
    for (let r = 0; r < rows; r++) {
      const anomaly = String(valueAt(anomalies, r));
      const shadows = valueAt(shadowColumn, r) !== "{}";
      if (anomaly === "{}" && !shadows) continue;
      const shape = anomaly.replace(/:(true|false)/g, "") + (shadows ? "+shadow" : "");
      if (!this.#shapes.has(shape) && !found.has(shape)) found.set(shape, [anomaly, shadows]);
    }
    return found;
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
