CREATE TABLE `inference_batch` (
	`id` integer PRIMARY KEY NOT NULL,
	`rows` integer NOT NULL,
	`time` integer NOT NULL,
	`source` integer NOT NULL,
	`elapsed_json` text NOT NULL,
	`uploaded` integer DEFAULT 0 NOT NULL,
	`payload` blob NOT NULL
);
--> statement-breakpoint
CREATE INDEX `inference_batch_time` ON `inference_batch` (`time`);--> statement-breakpoint
CREATE INDEX `inference_batch_pending` ON `inference_batch` (`id`,`rows`,`uploaded`) WHERE "inference_batch"."uploaded" < "inference_batch"."rows";--> statement-breakpoint
CREATE INDEX `inference_batch_uploaded` ON `inference_batch` (`id`) WHERE "inference_batch"."uploaded" >= "inference_batch"."rows";--> statement-breakpoint
CREATE TABLE `log_sources` (
	`id` integer PRIMARY KEY NOT NULL,
	`pipeline_name` text NOT NULL,
	`pipeline_version` text NOT NULL,
	`last_model` text NOT NULL,
	`partition` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `log_sources_all` ON `log_sources` (`pipeline_name`,`pipeline_version`,`last_model`,`partition`);--> statement-breakpoint
-- Rows logged before records existed become one-row records holding their JSON fields (src/logs/rows.ts), with
-- their ids and upload marks; new ids continue after the largest id ever handed out (AUTOINCREMENT's sqlite_sequence).
INSERT INTO `log_sources` (`pipeline_name`, `pipeline_version`, `last_model`, `partition`)
	SELECT DISTINCT `pipeline_name`, `pipeline_version`, `last_model`, `partition` FROM `inference_log`;--> statement-breakpoint
INSERT INTO `inference_batch` (`id`, `rows`, `time`, `source`, `elapsed_json`, `payload`, `uploaded`)
	SELECT l.`id`, 1, l.`time`, s.`id`, l.`elapsed_json`,
		json_array(l.`in_json`, l.`out_json`, l.`anomaly_count`, l.`anomaly_json`, l.`shadow_json`, l.`dropped_json`), l.`uploaded`
	FROM `inference_log` AS l JOIN `log_sources` AS s
		ON s.`pipeline_name` = l.`pipeline_name` AND s.`pipeline_version` = l.`pipeline_version`
		AND s.`last_model` = l.`last_model` AND s.`partition` = l.`partition`
	ORDER BY l.`id`;--> statement-breakpoint
INSERT INTO `log_counters` (`name`, `value`)
	SELECT 'next_id', 1 + max(coalesce((SELECT `seq` FROM `sqlite_sequence` WHERE `name` = 'inference_log'), 0), coalesce((SELECT max(`id`) FROM `inference_log`), 0)) WHERE true
	ON CONFLICT(`name`) DO UPDATE SET `value` = excluded.`value`;--> statement-breakpoint
DROP TABLE `inference_log`;