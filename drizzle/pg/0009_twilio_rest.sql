CREATE TABLE "instance_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "delivery_jobs" ADD COLUMN "friendly_name" text;--> statement-breakpoint
ALTER TABLE "risk_decisions" ADD COLUMN "attempt_id" text;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "lookup_enabled" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "psd2_enabled" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "do_not_share_warning_enabled" boolean DEFAULT true NOT NULL;--> statement-breakpoint
CREATE INDEX "risk_decisions_attempt_idx" ON "risk_decisions" USING btree ("attempt_id") WHERE attempt_id is not null;