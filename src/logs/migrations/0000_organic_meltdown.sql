CREATE TABLE `inference_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`time` integer NOT NULL,
	`in_json` text NOT NULL,
	`out_json` text NOT NULL,
	`anomaly_count` integer DEFAULT 0 NOT NULL,
	`pipeline_name` text NOT NULL,
	`pipeline_version` text NOT NULL,
	`last_model` text NOT NULL,
	`elapsed_json` text NOT NULL,
	`dropped_json` text NOT NULL,
	`partition` text NOT NULL,
	`uploaded` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `inference_log_time` ON `inference_log` (`time`);--> statement-breakpoint
CREATE INDEX `inference_log_uploaded_id` ON `inference_log` (`uploaded`,`id`);--> statement-breakpoint
CREATE TABLE `log_counters` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer DEFAULT 0 NOT NULL
);
