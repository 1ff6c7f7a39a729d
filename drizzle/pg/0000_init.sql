CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"key_hash" text NOT NULL,
	"role" text NOT NULL,
	"service_id" text,
	"name" text,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint
);
--> statement-breakpoint
CREATE TABLE "risk_decisions" (
	"id" text PRIMARY KEY NOT NULL,
	"service_id" text NOT NULL,
	"verification_id" text,
	"kind" text NOT NULL,
	"outcome" text NOT NULL,
	"stage" text,
	"code" text,
	"error_code" integer,
	"reason" text,
	"shadow" text,
	"to_number" text,
	"country" text,
	"prefix" text,
	"line_type" text,
	"ip" text,
	"channel" text,
	"tags" text,
	"converted" boolean DEFAULT false NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "send_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"verification_id" text NOT NULL,
	"channel" text NOT NULL,
	"at" bigint NOT NULL,
	"delivery_status" text DEFAULT 'queued' NOT NULL,
	"provider_sid" text,
	"price" text,
	"price_unit" text,
	"error_code" integer
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" text PRIMARY KEY NOT NULL,
	"friendly_name" text NOT NULL,
	"code_length" integer NOT NULL,
	"ttl_seconds" integer NOT NULL,
	"max_check_attempts" integer NOT NULL,
	"max_send_attempts" integer NOT NULL,
	"custom_code_enabled" boolean NOT NULL,
	"skip_sms_to_landlines" boolean NOT NULL,
	"sms_enabled" boolean DEFAULT true NOT NULL,
	"call_enabled" boolean DEFAULT true NOT NULL,
	"sms_template" text,
	"risk_settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "verifications" (
	"id" text PRIMARY KEY NOT NULL,
	"service_id" text NOT NULL,
	"to_number" text NOT NULL,
	"channel" text NOT NULL,
	"status" text NOT NULL,
	"code_hash" text NOT NULL,
	"code_seed" text,
	"locale" text,
	"amount" text,
	"payee" text,
	"country_code" text,
	"line_type" text,
	"check_attempts" integer DEFAULT 0 NOT NULL,
	"send_attempts" integer DEFAULT 1 NOT NULL,
	"expires_at" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "send_attempts" ADD CONSTRAINT "send_attempts_verification_id_verifications_id_fk" FOREIGN KEY ("verification_id") REFERENCES "public"."verifications"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verifications" ADD CONSTRAINT "verifications_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_idx" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "risk_decisions_created_idx" ON "risk_decisions" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "risk_decisions_service_idx" ON "risk_decisions" USING btree ("service_id","created_at");--> statement-breakpoint
CREATE INDEX "risk_decisions_verification_idx" ON "risk_decisions" USING btree ("verification_id");--> statement-breakpoint
CREATE INDEX "send_attempts_verification_idx" ON "send_attempts" USING btree ("verification_id");--> statement-breakpoint
CREATE INDEX "send_attempts_provider_idx" ON "send_attempts" USING btree ("provider_sid");--> statement-breakpoint
CREATE UNIQUE INDEX "verifications_pending_idx" ON "verifications" USING btree ("service_id","to_number") WHERE status = 'PENDING';--> statement-breakpoint
CREATE INDEX "verifications_expiry_idx" ON "verifications" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "verifications_to_idx" ON "verifications" USING btree ("service_id","to_number","created_at");