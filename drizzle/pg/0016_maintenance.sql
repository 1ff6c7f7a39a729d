CREATE TABLE "maintenance" (
	"name" text PRIMARY KEY NOT NULL,
	"owner" text,
	"lease_until" bigint,
	"last_run" jsonb,
	"state" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" bigint NOT NULL
);
