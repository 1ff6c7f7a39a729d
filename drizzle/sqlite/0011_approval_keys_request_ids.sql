CREATE TABLE `approval_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`alg` text NOT NULL,
	`public_jwk` text NOT NULL,
	`sealed_private_jwk` text NOT NULL,
	`activates_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `approval_keys_activates_idx` ON `approval_keys` (`activates_at`);--> statement-breakpoint
CREATE TABLE `approval_redemptions` (
	`jti` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`redeemed_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `approval_redemptions_expires_idx` ON `approval_redemptions` (`expires_at`);--> statement-breakpoint
ALTER TABLE `delivery_jobs` ADD `request_id` text;