CREATE TABLE `inference_batch` (
	`id` integer PRIMARY KEY NOT NULL,
	`rows` integer NOT NULL,
	`time` integer NOT NULL,
	`pipeline_name` text NOT NULL,
	`pipeline_version` text NOT NULL,
	`last_model` text NOT NULL,
	`elapsed_json` text NOT NULL,
	`partition` text NOT NULL,
	`payload` blob NOT NULL,
	`uploaded` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `inference_batch_time` ON `inference_batch` (`time`);--> statement-breakpoint
CREATE INDEX `inference_batch_pending` ON `inference_batch` (`id`) WHERE "inference_batch"."uploaded" < "inference_batch"."rows";--> statement-breakpoint
-- Rows logged before records existed become one-row records holding their JSON fields (src/logs/rows.ts), with
-- their ids; new ids continue after the largest id ever handed out (AUTOINCREMENT's sqlite_sequence).
INSERT INTO `inference_batch` (`id`, `rows`, `time`, `pipeline_name`, `pipeline_version`, `last_model`, `elapsed_json`, `partition`, `payload`, `uploaded`)
	SELECT `id`, 1, `time`, `pipeline_name`, `pipeline_version`, `last_model`, `elapsed_json`, `partition`,
		json_array(`in_json`, `out_json`, `anomaly_count`, `anomaly_json`, `shadow_json`, `dropped_json`), `uploaded`
	FROM `inference_log` ORDER BY `id`;--> statement-breakpoint
INSERT INTO `log_counters` (`name`, `value`)
	SELECT 'next_id', 1 + max(coalesce((SELECT `seq` FROM `sqlite_sequence` WHERE `name` = 'inference_log'), 0), coalesce((SELECT max(`id`) FROM `inference_log`), 0)) WHERE true
	ON CONFLICT(`name`) DO UPDATE SET `value` = excluded.`value`;--> statement-breakpoint
DROP TABLE `inference_log`;