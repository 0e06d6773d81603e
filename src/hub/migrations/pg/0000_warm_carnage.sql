CREATE TABLE "edges" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"workspace_id" text NOT NULL,
	"pipeline_url" text,
	"token_hash" text NOT NULL,
	"token_created_at" bigint NOT NULL,
	"token_used_at" bigint,
	"public_key" text,
	"key_thumbprint" text,
	"joined_at" bigint,
	"last_contact" bigint,
	"status" text,
	"pipeline_in_use" text,
	"backlog_rows" bigint DEFAULT 0 NOT NULL,
	"rows_received" bigint DEFAULT 0 NOT NULL,
	"pages_received" bigint DEFAULT 0 NOT NULL,
	"duplicate_rows" bigint DEFAULT 0 NOT NULL,
	"largest_page_rows" integer DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "edges_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "log_rows" (
	"edge_id" text NOT NULL,
	"row_id" bigint NOT NULL,
	"time" bigint NOT NULL,
	"in_json" text NOT NULL,
	"out_json" text NOT NULL,
	"anomaly_count" integer NOT NULL,
	"pipeline_version" text NOT NULL,
	"last_model" text NOT NULL,
	"elapsed_json" text NOT NULL,
	"dropped_json" text NOT NULL,
	"partition" text NOT NULL,
	"received_at" bigint NOT NULL,
	CONSTRAINT "log_rows_edge_id_row_id_pk" PRIMARY KEY("edge_id","row_id")
);
--> statement-breakpoint
CREATE TABLE "seen_tokens" (
	"jti" text PRIMARY KEY NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "uploads" (
	"idempotency_key" text PRIMARY KEY NOT NULL,
	"edge_id" text NOT NULL,
	"first_id" bigint NOT NULL,
	"last_id" bigint NOT NULL,
	"rows" integer NOT NULL,
	"stored_rows" integer NOT NULL,
	"received_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "log_rows_edge_time" ON "log_rows" USING btree ("edge_id","time");--> statement-breakpoint
CREATE INDEX "seen_tokens_expires" ON "seen_tokens" USING btree ("expires_at");