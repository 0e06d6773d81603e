/**
 * @module
 * The inference log's tables (drizzle-orm, SQLite/libSQL). Migrations in
 * src/logs/migrations are generated from this file with
 * `deno task db-generate` (drizzle-kit) and applied at start-up.
 */
import { sql } from "drizzle-orm";
import { blob, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * What many records share: the pipeline and version, the last step's model and the edge. Stored once each;
 * a record points at its row (`source`). Never deleted: a handful of rows per pipeline version.
 */
export const logSources = sqliteTable("log_sources", {
  id: integer("id").primaryKey(),
  pipelineName: text("pipeline_name").notNull(),
  pipelineVersion: text("pipeline_version").notNull(),
  /** JSON string `{"model_name","model_sha"}` of the last step, as Wallaroo reports it. */
  lastModel: text("last_model").notNull(),
  partition: text("partition").notNull(),
}, (t) => [uniqueIndex("log_sources_all").on(t.pipelineName, t.pipelineVersion, t.lastModel, t.partition)]);

/**
 * One row per served request (a record, entry.ts): its time and timings, its source, and its tensors in one
 * binary payload (payload.ts). Its rows have the ids `id` … `id + rows − 1`: ids stay per input row, so
 * `/logs`' `after` cursor, the Ops upload and the hub's deduplication count rows as before.
 */
export const inferenceBatch = sqliteTable("inference_batch", {
  /**
   * The first row's id. A record takes the ids after the newest record's rows, or after `next_id` in
   * log_counters where that is larger: a trigger (migration 0003) raises `next_id` past every record deleted,
   * so ids are never handed out twice and a commit writes no counter.
   */
  id: integer("id").primaryKey(),
  /** Input rows. */
  rows: integer("rows").notNull(),
  /** Request arrival, ms since epoch. */
  time: integer("time").notNull(),
  /** The log_sources row: pipeline, version, model, edge. */
  source: integer("source").notNull(),
  /** JSON list of ns: decoding, then each step. */
  elapsedJson: text("elapsed_json").notNull(),
  /** How many of its rows, from the first, the Ops server has. */
  uploaded: integer("uploaded").notNull().default(0),
  /**
   * The tensors (payload.ts); a row logged before records existed holds its row's JSON fields (rows.ts). Last:
   * a large payload spills into overflow pages, which SQLite walks to read any column stored after it.
   */
  payload: blob("payload").notNull(),
}, (t) => [
  // The upload's reads and the backlog count from the index alone; eviction finds uploaded records through the
  // second, which a record enters only once Ops has all its rows (no index write when it is logged).
  index("inference_batch_pending").on(t.id, t.rows, t.uploaded).where(sql`${t.uploaded} < ${t.rows}`),
  index("inference_batch_uploaded").on(t.id).where(sql`${t.uploaded} >= ${t.rows}`),
]);

/**
 * Where each minute of the log starts, in place of an index on `time` (which cost every commit a page): for
 * each minute (time / 60,000) that records have had, the id of the first record committed with a time in it,
 * set once. Ids grow in commit order, so no record of that minute has a smaller id, and a time-ranged read
 * starts at the smallest `first_id` of the minutes from its start on. Eviction (cap.ts) folds the marks of
 * evicted records into one that points at the oldest record kept.
 */
export const logTimeMarks = sqliteTable("log_time_marks", {
  /** The record's time / MARK_MS, rounded down. */
  minute: integer("minute").primaryKey(),
  firstId: integer("first_id").notNull(),
});

/** ms per `minute` of log_time_marks (the migrations divide by the same number). */
export const MARK_MS = 60_000;

/** Counters that must survive restarts. */
export const logCounters = sqliteTable("log_counters", {
  name: text("name").primaryKey(),
  value: integer("value").notNull().default(0),
});

/** Columns of the Arrow `/logs` reply beyond the fixed ones, each once any row has had it: `anomaly.<name>`, `shadow_data`. */
export const logColumns = sqliteTable("log_columns", {
  name: text("name").primaryKey(),
});
