/**
 * @module
 * The hub's tables for PostgreSQL (HUB_DATABASE_URL=postgres://…). schema_sqlite.ts holds the
 * same tables for libSQL; keep the two alike. Migrations in
 * src/hub/migrations/pg are generated from this file with
 * `deno task hub-db-generate` and applied when the hub opens its database.
 */
import { bigint, index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

/** One row per registered edge. */
export const edges = pgTable("edges", {
  /** Registration id (UUID): part of every page's idempotency key. */
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  workspaceId: text("workspace_id").notNull(),
  /** The pipeline Ops assigns (set-pipeline). */
  pipelineUrl: text("pipeline_url"),
  /** Hex SHA-256 of the join token (never the token). */
  tokenHash: text("token_hash").notNull(),
  tokenCreatedAt: bigint("token_created_at", { mode: "number" }).notNull(),
  /** When the token was burned by a join; null while unused. */
  tokenUsedAt: bigint("token_used_at", { mode: "number" }),
  /** The edge's Ed25519 public key (JWK JSON), bound at join. */
  publicKey: text("public_key"),
  /** RFC 7638 thumbprint of publicKey. */
  keyThumbprint: text("key_thumbprint"),
  joinedAt: bigint("joined_at", { mode: "number" }),
  lastContact: bigint("last_contact", { mode: "number" }),
  /** Pipeline status at the last check-in. */
  status: text("status"),
  pipelineInUse: text("pipeline_in_use"),
  backlogRows: bigint("backlog_rows", { mode: "number" }).notNull().default(0),
  /** Rows the edge's storage cap evicted before they were uploaded (its last check-in): they never arrive. */
  evictedRows: bigint("evicted_rows", { mode: "number" }).notNull().default(0),
  rowsReceived: bigint("rows_received", { mode: "number" }).notNull().default(0),
  pagesReceived: bigint("pages_received", { mode: "number" }).notNull().default(0),
  duplicateRows: bigint("duplicate_rows", { mode: "number" }).notNull().default(0),
  largestPageRows: integer("largest_page_rows").notNull().default(0),
  /** JSON list of the extra `/logs` Arrow columns this edge's rows have had. */
  logColumns: text("log_columns").notNull().default("[]"),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
});

/** Uploaded inference-log rows: one per (edge, edge's row id), enforced by the primary key. */
export const logRows = pgTable("log_rows", {
  edgeId: text("edge_id").notNull(),
  rowId: bigint("row_id", { mode: "number" }).notNull(),
  time: bigint("time", { mode: "number" }).notNull(),
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
  receivedAt: bigint("received_at", { mode: "number" }).notNull(),
}, (t) => [primaryKey({ columns: [t.edgeId, t.rowId] }), index("log_rows_edge_time").on(t.edgeId, t.time)]);

/** Each distinct page received, by idempotency key. */
export const uploads = pgTable("uploads", {
  idempotencyKey: text("idempotency_key").primaryKey(),
  edgeId: text("edge_id").notNull(),
  firstId: bigint("first_id", { mode: "number" }).notNull(),
  lastId: bigint("last_id", { mode: "number" }).notNull(),
  rows: integer("rows").notNull(),
  storedRows: integer("stored_rows").notNull(),
  receivedAt: bigint("received_at", { mode: "number" }).notNull(),
});

/** Request-token ids seen, until the token expires: a replay is refused by any hub process. */
export const seenTokens = pgTable("seen_tokens", {
  jti: text("jti").primaryKey(),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
}, (t) => [index("seen_tokens_expires").on(t.expiresAt)]);
