/**
 * @module
 * Appends log rows in one transaction of multi-row INSERTs, written as plain
 * SQL: drizzle's query builder cost 13 ms per 1,000 rows here, the statement
 * itself 5 ms. Column names come from the drizzle schema.
 */
import type { Client, InValue } from "@libsql/client";
import { getTableColumns } from "drizzle-orm";
import type { LogRow } from "./entry.ts";
import { inferenceLog } from "./schema.ts";

/** Rows per INSERT statement (SQLite bounds the variables of one statement). */
const ROWS_PER_STATEMENT = 200;

/** The fields a LogRow sets, in statement order. */
const INSERT_FIELDS = [
  "time",
  "inJson",
  "outJson",
  "anomalyCount",
  "pipelineName",
  "pipelineVersion",
  "lastModel",
  "elapsedJson",
  "droppedJson",
  "partition",
] as const satisfies readonly (keyof LogRow)[];

const COLUMNS = getTableColumns(inferenceLog);
const INSERT_HEAD = `INSERT INTO inference_log (${INSERT_FIELDS.map((f) => COLUMNS[f].name).join(", ")}) VALUES `;
const ROW_PLACEHOLDERS = `(${INSERT_FIELDS.map(() => "?").join(",")})`;
const insertSqlCache = new Map<number, string>();

/** `INSERT … VALUES (?,…),(?,…)` for `rows` rows, built once per size. */
function insertSql(rows: number): string {
  let sql = insertSqlCache.get(rows);
  if (!sql) insertSqlCache.set(rows, sql = INSERT_HEAD + new Array(rows).fill(ROW_PLACEHOLDERS).join(","));
  return sql;
}

/** Inserts `rows` in one write transaction. */
export async function insertRows(client: Client, rows: LogRow[]): Promise<void> {
  const statements = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const args: InValue[] = [];
    for (const row of chunk) for (const field of INSERT_FIELDS) args.push(row[field] as InValue);
    statements.push({ sql: insertSql(chunk.length), args });
  }
  if (statements.length > 0) await client.batch(statements, "write");
}
