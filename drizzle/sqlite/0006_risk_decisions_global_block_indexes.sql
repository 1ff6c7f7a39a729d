DROP INDEX `risk_decisions_stage_idx`;--> statement-breakpoint
DROP INDEX `risk_decisions_error_code_idx`;--> statement-breakpoint
CREATE INDEX `risk_decisions_stage_idx` ON `risk_decisions` (`stage`,`created_at`,`id`) WHERE stage is not null;--> statement-breakpoint
CREATE INDEX `risk_decisions_error_code_idx` ON `risk_decisions` (`error_code`,`created_at`,`id`) WHERE error_code is not null;