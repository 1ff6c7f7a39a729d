CREATE TABLE `delivery_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`verification_id` text NOT NULL,
	`send_attempt_id` text NOT NULL,
	`channel` text NOT NULL,
	`status` text NOT NULL,
	`locale` text,
	`sealed_code` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`run_at` integer NOT NULL,
	`lease_owner` text,
	`lease_until` integer,
	`provider_sid` text,
	`error_code` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`verification_id`) REFERENCES `verifications`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`send_attempt_id`) REFERENCES `send_attempts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `delivery_jobs_due_idx` ON `delivery_jobs` (`status`,`run_at`);--> statement-breakpoint
CREATE INDEX `delivery_jobs_lease_idx` ON `delivery_jobs` (`status`,`lease_until`);--> statement-breakpoint
CREATE UNIQUE INDEX `delivery_jobs_attempt_idx` ON `delivery_jobs` (`send_attempt_id`);--> statement-breakpoint
CREATE INDEX `delivery_jobs_verification_idx` ON `delivery_jobs` (`verification_id`);