CREATE TABLE `instance_settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `delivery_jobs` ADD `friendly_name` text;--> statement-breakpoint
ALTER TABLE `risk_decisions` ADD `attempt_id` text;--> statement-breakpoint
CREATE INDEX `risk_decisions_attempt_idx` ON `risk_decisions` (`attempt_id`) WHERE attempt_id is not null;--> statement-breakpoint
ALTER TABLE `services` ADD `lookup_enabled` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `services` ADD `psd2_enabled` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `services` ADD `do_not_share_warning_enabled` integer DEFAULT true NOT NULL;