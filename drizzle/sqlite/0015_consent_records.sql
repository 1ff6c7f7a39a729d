CREATE TABLE `consent_records` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`verification_id` text,
	`to_number` text NOT NULL,
	`text_version` text NOT NULL,
	`agreed_at` integer NOT NULL,
	`user_agent` text,
	`ip` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `consent_records_to_idx` ON `consent_records` (`to_number`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `consent_records_created_idx` ON `consent_records` (`created_at`,`id`);--> statement-breakpoint
ALTER TABLE `services` ADD `require_consent` integer DEFAULT false NOT NULL;