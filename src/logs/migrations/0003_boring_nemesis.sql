CREATE TABLE `log_time_marks` (
	`minute` integer PRIMARY KEY NOT NULL,
	`first_id` integer NOT NULL
);
--> statement-breakpoint
DROP INDEX `inference_batch_time`;--> statement-breakpoint
-- Each minute's first record (schema.ts, logTimeMarks), for the records already logged.
INSERT INTO `log_time_marks` (`minute`, `first_id`)
	SELECT `time` / 60000, min(`id`) FROM `inference_batch` GROUP BY `time` / 60000;--> statement-breakpoint
-- A commit no longer writes next_id: a record takes the ids after the newest record's rows, or after next_id where
-- that is larger. So next_id must pass the rows of every record deleted (the newest ones included), whoever deletes it.
INSERT INTO `log_counters` (`name`, `value`)
	SELECT 'next_id', coalesce(max(`id` + `rows`), 1) FROM `inference_batch` WHERE true
	ON CONFLICT(`name`) DO UPDATE SET `value` = max(`value`, excluded.`value`);--> statement-breakpoint
CREATE TRIGGER `inference_batch_next_id` AFTER DELETE ON `inference_batch` BEGIN
	UPDATE `log_counters` SET `value` = max(`value`, OLD.`id` + OLD.`rows`) WHERE `name` = 'next_id';
END;
