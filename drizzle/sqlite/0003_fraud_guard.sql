CREATE TABLE `blocked_prefixes` (
	`scope` text NOT NULL,
	`service_id` text,
	`prefix` text NOT NULL,
	`source` text NOT NULL,
	`reason` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`expires_at` integer,
	PRIMARY KEY(`scope`, `prefix`),
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `blocked_prefixes_prefix_idx` ON `blocked_prefixes` (`prefix`);--> statement-breakpoint
CREATE TABLE `geo_permissions` (
	`service_id` text NOT NULL,
	`country` text NOT NULL,
	`channel` text NOT NULL,
	`permission` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`service_id`, `country`, `channel`),
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `risk_counters` (
	`key` text NOT NULL,
	`bucket` integer NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`key`, `bucket`)
);
--> statement-breakpoint
CREATE INDEX `risk_counters_bucket_idx` ON `risk_counters` (`bucket`);--> statement-breakpoint
CREATE TABLE `safe_numbers` (
	`number` text PRIMARY KEY NOT NULL,
	`note` text,
	`created_at` integer NOT NULL
);
