-- Fraud Guard v2 (issue 14): country blocks and the evidence of automatic blocks on blocked_prefixes
-- (the key gains the country, so +1's US and CA blocks are two rows), and the capped budget share's
-- spend on spend_daily. Edited by hand: drizzle-kit put the new key before the column it names.
ALTER TABLE "blocked_prefixes" ADD COLUMN "country" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "blocked_prefixes" ADD COLUMN "level" text;--> statement-breakpoint
ALTER TABLE "blocked_prefixes" ADD COLUMN "rule" text;--> statement-breakpoint
ALTER TABLE "blocked_prefixes" ADD COLUMN "figures" jsonb;--> statement-breakpoint
ALTER TABLE "blocked_prefixes" DROP CONSTRAINT "blocked_prefixes_scope_prefix_pk";--> statement-breakpoint
ALTER TABLE "blocked_prefixes" ADD CONSTRAINT "blocked_prefixes_scope_prefix_country_pk" PRIMARY KEY("scope","prefix","country");--> statement-breakpoint
ALTER TABLE "spend_daily" ADD COLUMN "capped_usd_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "spend_daily" ADD COLUMN "capped_sends" integer DEFAULT 0 NOT NULL;