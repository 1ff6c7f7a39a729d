DROP INDEX `risk_prefix_rollups_day_idx`;--> statement-breakpoint
DROP INDEX `risk_rollups_bucket_idx`;