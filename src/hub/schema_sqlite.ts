/**
 * @module
 * The hub's tables for libSQL (the embedded default). schema_pg.ts holds the
 * same tables for PostgreSQL; keep the two alike. Migrations in
 * src/hub/migrations/sqlite are generated from this file with
 * `deno task hub-db-generate` and applied when the hub opens its database.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per registered edge. */
export const edges = sqliteTable("edges", {
  /** Registration id (UUID): part of every page's idempotency key. */
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  workspaceId: text("workspace_id").notNull(),
  /** The pipeline Ops assigns (set-pipeline). */
  pipelineUrl: text("pipeline_url"),
  /** Hex SHA-256 of the join token (never the token). */
  tokenHash: text("token_hash").notNull(),
  tokenCreatedAt: integer("token_created_at").notNull(),
  /** When the token was burned by a join; null while unused. */
  tokenUsedAt: integer("token_used_at"),
  /** The edge's Ed25519 public key (JWK JSON), bound at join. */
  publicKey: text("public_key"),
  /** RFC 7638 thumbprint of publicKey. */
  keyThumbprint: text("key_thumbprint"),
  joinedAt: integer("joined_at"),
  lastContact: integer("last_contact"),
  /** Pipeline status at the last check-in. */
  status: text("status"),
  pipelineInUse: text("pipeline_in_use"),
  backlogRows: integer("backlog_rows").notNull().default(0),
  /** Rows the edge's storage cap evicted before they were uploaded (its last check-in): they never arrive. */
  evictedRows: integer("evicted_rows").notNull().default(0),
  rowsReceived: integer("rows_received").notNull().default(0),
  pagesReceived: integer("pages_received").notNull().default(0),
  duplicateRows: integer("duplicate_rows").notNull().default(0),
  largestPageRows: integer("largest_page_rows").notNull().default(0),
  /** JSON list of the extra `/logs` Arrow columns this edge's rows have had. */
  logColumns: text("log_columns").notNull().default("[]"),
  createdAt: integer("created_at").notNull(),
});

/** Uploaded inference-log rows: one per (edge, edge's row id), enforced by the primary key. */
export const logRows = sqliteTable("log_rows", {
  edgeId: text("edge_id").notNull(),
  rowId: integer("row_id").notNull(),
  time: integer("time").notNull(),
  inJson: text("in_json").notNull(),
  outJson: text("out_json").notNull(),
  anomalyCount: integer("anomaly_count").notNull(),
  pipelineVersion: text("pipeline_version").notNull(),
  lastModel: text("last_model").notNull(),
  elapsedJson: text("elapsed_json").notNull(),
  droppedJson: text("dropped_json").notNull(),
  partition: text("partition").notNull(),
  anomalyJson: text("anomaly_json").notNull().default("{}"),
  shadowJson: text("shadow_json").notNull().default("{}"),
  receivedAt: integer("received_at").notNull(),
}, (t) => [primaryKey({ columns: [t.edgeId, t.rowId] }), index("log_rows_edge_time").on(t.edgeId, t.time)]);

/** Each distinct page received, by idempotency key. */
export const uploads = sqliteTable("uploads", {
  idempotencyKey: text("idempotency_key").primaryKey(),
  edgeId: text("edge_id").notNull(),
  firstId: integer("first_id").notNull(),
  lastId: integer("last_id").notNull(),
  rows: integer("rows").notNull(),
  storedRows: integer("stored_rows").notNull(),
  receivedAt: integer("received_at").notNull(),
});

/** Request-token ids seen, until the token expires: a replay is refused by any hub process. */
export const seenTokens = sqliteTable("seen_tokens", {
  jti: text("jti").primaryKey(),
  expiresAt: integer("expires_at").notNull(),
}, (t) => [index("seen_tokens_expires").on(t.expiresAt)]);
