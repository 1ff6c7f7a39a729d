CREATE TABLE `price_overrides` (
	`country` text NOT NULL,
	`channel` text NOT NULL,
	`usd_micros` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`country`, `channel`)
);
--> statement-breakpoint
CREATE TABLE `rate_limits` (
	`key` text PRIMARY KEY NOT NULL,
	`points` integer DEFAULT 0 NOT NULL,
	`expire` integer
);
--> statement-breakpoint
CREATE INDEX `rate_limits_expire_idx` ON `rate_limits` (`expire`);--> statement-breakpoint
CREATE TABLE `spend_daily` (
	`service_id` text NOT NULL,
	`day` text NOT NULL,
	`usd_micros` integer DEFAULT 0 NOT NULL,
	`sends` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`service_id`, `day`)
);
