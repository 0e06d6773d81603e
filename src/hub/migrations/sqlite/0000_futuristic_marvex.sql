CREATE TABLE `edges` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`workspace_id` text NOT NULL,
	`pipeline_url` text,
	`token_hash` text NOT NULL,
	`token_created_at` integer NOT NULL,
	`token_used_at` integer,
	`public_key` text,
	`key_thumbprint` text,
	`joined_at` integer,
	`last_contact` integer,
	`status` text,
	`pipeline_in_use` text,
	`backlog_rows` integer DEFAULT 0 NOT NULL,
	`rows_received` integer DEFAULT 0 NOT NULL,
	`pages_received` integer DEFAULT 0 NOT NULL,
	`duplicate_rows` integer DEFAULT 0 NOT NULL,
	`largest_page_rows` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `edges_name_unique` ON `edges` (`name`);--> statement-breakpoint
CREATE TABLE `log_rows` (
	`edge_id` text NOT NULL,
	`row_id` integer NOT NULL,
	`time` integer NOT NULL,
	`in_json` text NOT NULL,
	`out_json` text NOT NULL,
	`anomaly_count` integer NOT NULL,
	`pipeline_version` text NOT NULL,
	`last_model` text NOT NULL,
	`elapsed_json` text NOT NULL,
	`dropped_json` text NOT NULL,
	`partition` text NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`edge_id`, `row_id`)
);
--> statement-breakpoint
CREATE INDEX `log_rows_edge_time` ON `log_rows` (`edge_id`,`time`);--> statement-breakpoint
CREATE TABLE `seen_tokens` (
	`jti` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `seen_tokens_expires` ON `seen_tokens` (`expires_at`);--> statement-breakpoint
CREATE TABLE `uploads` (
	`idempotency_key` text PRIMARY KEY NOT NULL,
	`edge_id` text NOT NULL,
	`first_id` integer NOT NULL,
	`last_id` integer NOT NULL,
	`rows` integer NOT NULL,
	`stored_rows` integer NOT NULL,
	`received_at` integer NOT NULL
);
