ALTER TABLE "edges" ADD COLUMN "log_columns" text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE "log_rows" ADD COLUMN "anomaly_json" text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "log_rows" ADD COLUMN "shadow_json" text DEFAULT '{}' NOT NULL;