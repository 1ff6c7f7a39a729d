CREATE TABLE "risk_prefix_rollups" (
	"day" bigint NOT NULL,
	"service_id" text NOT NULL,
	"prefix" text NOT NULL,
	"country" text NOT NULL,
	"channel" text NOT NULL,
	"stage" text NOT NULL,
	"error_code" integer NOT NULL,
	"decisions" integer DEFAULT 0 NOT NULL,
	"allowed" integer DEFAULT 0 NOT NULL,
	"sends" integer DEFAULT 0 NOT NULL,
	"checks" integer DEFAULT 0 NOT NULL,
	"prevented" integer DEFAULT 0 NOT NULL,
	"converted" integer DEFAULT 0 NOT NULL,
	"approvals" integer DEFAULT 0 NOT NULL,
	"shadowed" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "risk_rollups" (
	"span" text NOT NULL,
	"bucket" bigint NOT NULL,
	"service_id" text NOT NULL,
	"country" text NOT NULL,
	"channel" text NOT NULL,
	"stage" text NOT NULL,
	"error_code" integer NOT NULL,
	"decisions" integer DEFAULT 0 NOT NULL,
	"allowed" integer DEFAULT 0 NOT NULL,
	"sends" integer DEFAULT 0 NOT NULL,
	"checks" integer DEFAULT 0 NOT NULL,
	"prevented" integer DEFAULT 0 NOT NULL,
	"converted" integer DEFAULT 0 NOT NULL,
	"approvals" integer DEFAULT 0 NOT NULL,
	"shadowed" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
DROP INDEX "risk_decisions_created_idx";--> statement-breakpoint
DROP INDEX "risk_decisions_service_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "risk_prefix_rollups_key_idx" ON "risk_prefix_rollups" USING btree ("service_id","day","prefix","country","channel","stage","error_code");--> statement-breakpoint
CREATE INDEX "risk_prefix_rollups_day_idx" ON "risk_prefix_rollups" USING btree ("day");--> statement-breakpoint
CREATE INDEX "risk_prefix_rollups_blocked_idx" ON "risk_prefix_rollups" USING btree ("service_id","day") WHERE stage <> '';--> statement-breakpoint
CREATE UNIQUE INDEX "risk_rollups_key_idx" ON "risk_rollups" USING btree ("span","service_id","bucket","country","channel","stage","error_code");--> statement-breakpoint
CREATE INDEX "risk_rollups_bucket_idx" ON "risk_rollups" USING btree ("span","bucket");--> statement-breakpoint
CREATE INDEX "risk_decisions_to_idx" ON "risk_decisions" USING btree ("to_number","created_at","id");--> statement-breakpoint
CREATE INDEX "risk_decisions_outcome_idx" ON "risk_decisions" USING btree ("service_id","outcome","created_at","id");--> statement-breakpoint
CREATE INDEX "risk_decisions_country_idx" ON "risk_decisions" USING btree ("service_id","country","created_at","id");--> statement-breakpoint
CREATE INDEX "risk_decisions_stage_idx" ON "risk_decisions" USING btree ("stage","created_at","id") WHERE stage is not null;--> statement-breakpoint
CREATE INDEX "risk_decisions_error_code_idx" ON "risk_decisions" USING btree ("error_code","created_at","id") WHERE error_code is not null;--> statement-breakpoint
CREATE INDEX "risk_decisions_created_idx" ON "risk_decisions" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "risk_decisions_service_idx" ON "risk_decisions" USING btree ("service_id","created_at","id");