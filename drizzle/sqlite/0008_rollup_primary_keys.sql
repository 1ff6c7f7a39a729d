PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_risk_prefix_rollups` (
	`day` integer NOT NULL,
	`service_id` text NOT NULL,
	`prefix` text NOT NULL,
	`country` text NOT NULL,
	`channel` text NOT NULL,
	`stage` text NOT NULL,
	`error_code` integer NOT NULL,
	`decisions` integer DEFAULT 0 NOT NULL,
	`allowed` integer DEFAULT 0 NOT NULL,
	`sends` integer DEFAULT 0 NOT NULL,
	`checks` integer DEFAULT 0 NOT NULL,
	`prevented` integer DEFAULT 0 NOT NULL,
	`converted` integer DEFAULT 0 NOT NULL,
	`approvals` integer DEFAULT 0 NOT NULL,
	`shadowed` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`service_id`, `day`, `prefix`, `country`, `channel`, `stage`, `error_code`)
);
--> statement-breakpoint
INSERT INTO `__new_risk_prefix_rollups`("day", "service_id", "prefix", "country", "channel", "stage", "error_code", "decisions", "allowed", "sends", "checks", "prevented", "converted", "approvals", "shadowed") SELECT "day", "service_id", "prefix", "country", "channel", "stage", "error_code", "decisions", "allowed", "sends", "checks", "prevented", "converted", "approvals", "shadowed" FROM `risk_prefix_rollups`;--> statement-breakpoint
DROP TABLE `risk_prefix_rollups`;--> statement-breakpoint
ALTER TABLE `__new_risk_prefix_rollups` RENAME TO `risk_prefix_rollups`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `risk_prefix_rollups_day_idx` ON `risk_prefix_rollups` (`day`);--> statement-breakpoint
CREATE INDEX `risk_prefix_rollups_blocked_idx` ON `risk_prefix_rollups` (`service_id`,`day`) WHERE stage <> '';--> statement-breakpoint
CREATE TABLE `__new_risk_rollups` (
	`span` text NOT NULL,
	`bucket` integer NOT NULL,
	`service_id` text NOT NULL,
	`country` text NOT NULL,
	`channel` text NOT NULL,
	`stage` text NOT NULL,
	`error_code` integer NOT NULL,
	`decisions` integer DEFAULT 0 NOT NULL,
	`allowed` integer DEFAULT 0 NOT NULL,
	`sends` integer DEFAULT 0 NOT NULL,
	`checks` integer DEFAULT 0 NOT NULL,
	`prevented` integer DEFAULT 0 NOT NULL,
	`converted` integer DEFAULT 0 NOT NULL,
	`approvals` integer DEFAULT 0 NOT NULL,
	`shadowed` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`span`, `service_id`, `bucket`, `country`, `channel`, `stage`, `error_code`)
);
--> statement-breakpoint
INSERT INTO `__new_risk_rollups`("span", "bucket", "service_id", "country", "channel", "stage", "error_code", "decisions", "allowed", "sends", "checks", "prevented", "converted", "approvals", "shadowed") SELECT "span", "bucket", "service_id", "country", "channel", "stage", "error_code", "decisions", "allowed", "sends", "checks", "prevented", "converted", "approvals", "shadowed" FROM `risk_rollups`;--> statement-breakpoint
DROP TABLE `risk_rollups`;--> statement-breakpoint
ALTER TABLE `__new_risk_rollups` RENAME TO `risk_rollups`;--> statement-breakpoint
CREATE INDEX `risk_rollups_bucket_idx` ON `risk_rollups` (`span`,`bucket`);