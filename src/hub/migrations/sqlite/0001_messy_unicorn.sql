ALTER TABLE `edges` ADD `log_columns` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `log_rows` ADD `anomaly_json` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `log_rows` ADD `shadow_json` text DEFAULT '{}' NOT NULL;