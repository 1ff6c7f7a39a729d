CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`key_hash` text NOT NULL,
	`role` text NOT NULL,
	`service_id` text,
	`name` text,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_idx` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `risk_decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`verification_id` text,
	`kind` text NOT NULL,
	`outcome` text NOT NULL,
	`stage` text,
	`code` text,
	`error_code` integer,
	`reason` text,
	`shadow` text,
	`to_number` text,
	`country` text,
	`prefix` text,
	`line_type` text,
	`ip` text,
	`channel` text,
	`tags` text,
	`converted` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `risk_decisions_created_idx` ON `risk_decisions` (`created_at`);--> statement-breakpoint
CREATE INDEX `risk_decisions_service_idx` ON `risk_decisions` (`service_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `risk_decisions_verification_idx` ON `risk_decisions` (`verification_id`);--> statement-breakpoint
CREATE TABLE `send_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`verification_id` text NOT NULL,
	`channel` text NOT NULL,
	`at` integer NOT NULL,
	`delivery_status` text DEFAULT 'queued' NOT NULL,
	`provider_sid` text,
	`price` text,
	`price_unit` text,
	`error_code` integer,
	FOREIGN KEY (`verification_id`) REFERENCES `verifications`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `send_attempts_verification_idx` ON `send_attempts` (`verification_id`);--> statement-breakpoint
CREATE INDEX `send_attempts_provider_idx` ON `send_attempts` (`provider_sid`);--> statement-breakpoint
CREATE TABLE `services` (
	`id` text PRIMARY KEY NOT NULL,
	`friendly_name` text NOT NULL,
	`code_length` integer NOT NULL,
	`ttl_seconds` integer NOT NULL,
	`max_check_attempts` integer NOT NULL,
	`max_send_attempts` integer NOT NULL,
	`custom_code_enabled` integer NOT NULL,
	`skip_sms_to_landlines` integer NOT NULL,
	`sms_enabled` integer DEFAULT true NOT NULL,
	`call_enabled` integer DEFAULT true NOT NULL,
	`sms_template` text,
	`risk_settings` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `verifications` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`to_number` text NOT NULL,
	`channel` text NOT NULL,
	`status` text NOT NULL,
	`code_hash` text NOT NULL,
	`code_seed` text,
	`locale` text,
	`amount` text,
	`payee` text,
	`country_code` text,
	`line_type` text,
	`check_attempts` integer DEFAULT 0 NOT NULL,
	`send_attempts` integer DEFAULT 1 NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `verifications_pending_idx` ON `verifications` (`service_id`,`to_number`) WHERE status = 'PENDING';--> statement-breakpoint
CREATE INDEX `verifications_expiry_idx` ON `verifications` (`status`,`expires_at`);--> statement-breakpoint
CREATE INDEX `verifications_to_idx` ON `verifications` (`service_id`,`to_number`,`created_at`);