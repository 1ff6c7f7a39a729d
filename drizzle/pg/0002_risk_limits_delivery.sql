CREATE TABLE "blocked_prefixes" (
	"scope" text NOT NULL,
	"service_id" text,
	"prefix" text NOT NULL,
	"source" text NOT NULL,
	"reason" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"expires_at" bigint,
	CONSTRAINT "blocked_prefixes_scope_prefix_pk" PRIMARY KEY("scope","prefix")
);
--> statement-breakpoint
CREATE TABLE "delivery_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"verification_id" text NOT NULL,
	"send_attempt_id" text NOT NULL,
	"channel" text NOT NULL,
	"status" text NOT NULL,
	"locale" text,
	"sealed_code" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"run_at" bigint NOT NULL,
	"lease_owner" text,
	"lease_until" bigint,
	"provider_sid" text,
	"error_code" integer,
	"last_error" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "geo_permissions" (
	"service_id" text NOT NULL,
	"country" text NOT NULL,
	"channel" text NOT NULL,
	"permission" text NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "geo_permissions_service_id_country_channel_pk" PRIMARY KEY("service_id","country","channel")
);
--> statement-breakpoint
CREATE TABLE "price_overrides" (
	"country" text NOT NULL,
	"channel" text NOT NULL,
	"usd_micros" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "price_overrides_country_channel_pk" PRIMARY KEY("country","channel")
);
--> statement-breakpoint
CREATE TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"points" integer DEFAULT 0 NOT NULL,
	"expire" bigint
);
--> statement-breakpoint
CREATE TABLE "risk_counters" (
	"key" text NOT NULL,
	"bucket" bigint NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "risk_counters_key_bucket_pk" PRIMARY KEY("key","bucket")
);
--> statement-breakpoint
CREATE TABLE "safe_numbers" (
	"number" text PRIMARY KEY NOT NULL,
	"note" text,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "spend_daily" (
	"service_id" text NOT NULL,
	"day" text NOT NULL,
	"usd_micros" bigint DEFAULT 0 NOT NULL,
	"sends" integer DEFAULT 0 NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "spend_daily_service_id_day_pk" PRIMARY KEY("service_id","day")
);
--> statement-breakpoint
ALTER TABLE "blocked_prefixes" ADD CONSTRAINT "blocked_prefixes_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "delivery_jobs" ADD CONSTRAINT "delivery_jobs_verification_id_verifications_id_fk" FOREIGN KEY ("verification_id") REFERENCES "public"."verifications"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "delivery_jobs" ADD CONSTRAINT "delivery_jobs_send_attempt_id_send_attempts_id_fk" FOREIGN KEY ("send_attempt_id") REFERENCES "public"."send_attempts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "geo_permissions" ADD CONSTRAINT "geo_permissions_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "blocked_prefixes_prefix_idx" ON "blocked_prefixes" USING btree ("prefix");--> statement-breakpoint
CREATE INDEX "delivery_jobs_due_idx" ON "delivery_jobs" USING btree ("status","run_at");--> statement-breakpoint
CREATE INDEX "delivery_jobs_lease_idx" ON "delivery_jobs" USING btree ("status","lease_until");--> statement-breakpoint
CREATE UNIQUE INDEX "delivery_jobs_attempt_idx" ON "delivery_jobs" USING btree ("send_attempt_id");--> statement-breakpoint
CREATE INDEX "delivery_jobs_verification_idx" ON "delivery_jobs" USING btree ("verification_id");--> statement-breakpoint
CREATE INDEX "rate_limits_expire_idx" ON "rate_limits" USING btree ("expire");--> statement-breakpoint
CREATE INDEX "risk_counters_bucket_idx" ON "risk_counters" USING btree ("bucket");