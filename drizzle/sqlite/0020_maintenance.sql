CREATE TABLE `maintenance` (
	`name` text PRIMARY KEY NOT NULL,
	`owner` text,
	`lease_until` integer,
	`last_run` text,
	`state` text DEFAULT '{}' NOT NULL,
	`updated_at` integer NOT NULL
);
