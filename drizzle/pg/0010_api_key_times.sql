ALTER TABLE "api_keys" ADD COLUMN "last_used_at" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "expires_at" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "origin" text;--> statement-breakpoint
-- The row ADMIN_API_KEY created was named after it: tie it to the variable, so a changed key revokes it.
UPDATE "api_keys" SET "origin" = 'ADMIN_API_KEY' WHERE "name" = 'ADMIN_API_KEY' AND "role" = 'ADMIN';
