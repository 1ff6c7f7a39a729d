CREATE TABLE "erasures" (
	"id" text PRIMARY KEY NOT NULL,
	"at" bigint NOT NULL,
	"actor_key_id" text NOT NULL,
	"request_id" text,
	"counts" jsonb NOT NULL
);
--> statement-breakpoint
CREATE INDEX "erasures_at_idx" ON "erasures" USING btree ("at");