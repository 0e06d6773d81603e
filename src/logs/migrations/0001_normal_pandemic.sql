CREATE TABLE `log_columns` (
	`name` text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
ALTER TABLE `inference_log` ADD `anomaly_json` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `inference_log` ADD `shadow_json` text DEFAULT '{}' NOT NULL;