CREATE TABLE "approval_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"alg" text NOT NULL,
	"public_jwk" text NOT NULL,
	"sealed_private_jwk" text NOT NULL,
	"activates_at" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "approval_redemptions" (
	"jti" text PRIMARY KEY NOT NULL,
	"service_id" text NOT NULL,
	"redeemed_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "delivery_jobs" ADD COLUMN "request_id" text;--> statement-breakpoint
CREATE INDEX "approval_keys_activates_idx" ON "approval_keys" USING btree ("activates_at");--> statement-breakpoint
CREATE INDEX "approval_redemptions_expires_idx" ON "approval_redemptions" USING btree ("expires_at");