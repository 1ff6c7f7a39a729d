-- Fraud Guard v2 (issue 14): country blocks and the evidence of automatic blocks on blocked_prefixes
-- (the key gains the country, so +1's US and CA blocks are two rows), and the capped budget share's
-- spend on spend_daily. Edited by hand: drizzle-kit copied the new columns from the old table.
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_blocked_prefixes` (
	`scope` text NOT NULL,
	`service_id` text,
	`prefix` text NOT NULL,
	`country` text DEFAULT '' NOT NULL,
	`source` text NOT NULL,
	`reason` text NOT NULL,
	`level` text,
	`rule` text,
	`figures` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`expires_at` integer,
	PRIMARY KEY(`scope`, `prefix`, `country`),
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_blocked_prefixes`("scope", "service_id", "prefix", "source", "reason", "created_at", "updated_at", "expires_at") SELECT "scope", "service_id", "prefix", "source", "reason", "created_at", "updated_at", "expires_at" FROM `blocked_prefixes`;--> statement-breakpoint
DROP TABLE `blocked_prefixes`;--> statement-breakpoint
ALTER TABLE `__new_blocked_prefixes` RENAME TO `blocked_prefixes`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `blocked_prefixes_prefix_idx` ON `blocked_prefixes` (`prefix`);--> statement-breakpoint
ALTER TABLE `spend_daily` ADD `capped_usd_micros` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `spend_daily` ADD `capped_sends` integer DEFAULT 0 NOT NULL;