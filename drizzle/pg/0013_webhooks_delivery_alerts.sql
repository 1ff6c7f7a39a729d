CREATE TABLE "delivery_alerts" (
	"id" text PRIMARY KEY NOT NULL,
	"service_id" text NOT NULL,
	"country" text NOT NULL,
	"channel" text NOT NULL,
	"metric" text NOT NULL,
	"open_key" text,
	"raised_at" bigint NOT NULL,
	"resolved_at" bigint,
	"sends" integer NOT NULL,
	"rate" double precision NOT NULL,
	"baseline" double precision NOT NULL,
	"baseline_sends" integer NOT NULL,
	"recovered_rate" double precision,
	"recovered_sends" integer
);
--> statement-breakpoint
CREATE TABLE "service_webhooks" (
	"service_id" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"events" text NOT NULL,
	"sealed_secret" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"service_id" text NOT NULL,
	"order_key" text NOT NULL,
	"seq" bigint NOT NULL,
	"event_type" text NOT NULL,
	"payload" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"run_at" bigint NOT NULL,
	"lease_owner" text,
	"lease_until" bigint,
	"last_status" integer,
	"last_error" text,
	"request_id" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "delivery_alerts" ADD CONSTRAINT "delivery_alerts_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_webhooks" ADD CONSTRAINT "service_webhooks_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "delivery_alerts_open_idx" ON "delivery_alerts" USING btree ("open_key");--> statement-breakpoint
CREATE INDEX "delivery_alerts_service_idx" ON "delivery_alerts" USING btree ("service_id","raised_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("status","run_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_lease_idx" ON "webhook_deliveries" USING btree ("status","lease_until");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_order_idx" ON "webhook_deliveries" USING btree ("order_key","seq");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_service_idx" ON "webhook_deliveries" USING btree ("service_id","seq");