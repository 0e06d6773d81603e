/**
 * @module
 * The inference log's tables (drizzle-orm, SQLite/libSQL). Migrations in
 * src/logs/migrations are generated from this file with
 * `deno task db-generate` (drizzle-kit) and applied at start-up.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per inference input row, in the order they were served. */
export const inferenceLog = sqliteTable("inference_log", {
  /** Monotonic: upload order and the `after` cursor of `/logs`. */
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** Request arrival, ms since epoch. */
  time: integer("time").notNull(),
  /** JSON object: input name → this row's values (fields too large are left out, see `dropped`). */
  inJson: text("in_json").notNull(),
  /** JSON object: output name → this row's values. */
  outJson: text("out_json").notNull(),
  /** Validations this row failed. */
  anomalyCount: integer("anomaly_count").notNull().default(0),
  /** JSON object: validation name → whether this row failed it (`{}` without validations). */
  anomalyJson: text("anomaly_json").notNull().default("{}"),
  /** JSON object: shadow model → {output name → this row's values} (`{}` without shadows). */
  shadowJson: text("shadow_json").notNull().default("{}"),
  pipelineName: text("pipeline_name").notNull(),
  pipelineVersion: text("pipeline_version").notNull(),
  /** JSON string `{"model_name","model_sha"}` of the last step, as Wallaroo reports it. */
  lastModel: text("last_model").notNull(),
  /** JSON list of ns: decoding, then each step. */
  elapsedJson: text("elapsed_json").notNull(),
  /** JSON list of input fields left out for size, e.g. `["in.image"]`. */
  droppedJson: text("dropped_json").notNull(),
  partition: text("partition").notNull(),
  /** 1 once the Ops server has the row. */
  uploaded: integer("uploaded").notNull().default(0),
}, (t) => [
  index("inference_log_time").on(t.time),
  index("inference_log_uploaded_id").on(t.uploaded, t.id),
]);

/** Counters that must survive restarts. */
export const logCounters = sqliteTable("log_counters", {
  name: text("name").primaryKey(),
  value: integer("value").notNull().default(0),
});

/** Columns of the Arrow `/logs` reply beyond the fixed ones, each once any row has had it: `anomaly.<name>`, `shadow_data`. */
export const logColumns = sqliteTable("log_columns", {
  name: text("name").primaryKey(),
});
