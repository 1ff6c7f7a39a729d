CREATE TABLE `delivery_alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`country` text NOT NULL,
	`channel` text NOT NULL,
	`metric` text NOT NULL,
	`open_key` text,
	`raised_at` integer NOT NULL,
	`resolved_at` integer,
	`sends` integer NOT NULL,
	`rate` real NOT NULL,
	`baseline` real NOT NULL,
	`baseline_sends` integer NOT NULL,
	`recovered_rate` real,
	`recovered_sends` integer,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `delivery_alerts_open_idx` ON `delivery_alerts` (`open_key`);--> statement-breakpoint
CREATE INDEX `delivery_alerts_service_idx` ON `delivery_alerts` (`service_id`,`raised_at`);--> statement-breakpoint
CREATE TABLE `service_webhooks` (
	`service_id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`sealed_secret` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`order_key` text NOT NULL,
	`seq` integer NOT NULL,
	`event_type` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`run_at` integer NOT NULL,
	`lease_owner` text,
	`lease_until` integer,
	`last_status` integer,
	`last_error` text,
	`request_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due_idx` ON `webhook_deliveries` (`status`,`run_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_lease_idx` ON `webhook_deliveries` (`status`,`lease_until`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_order_idx` ON `webhook_deliveries` (`order_key`,`seq`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_service_idx` ON `webhook_deliveries` (`service_id`,`seq`);