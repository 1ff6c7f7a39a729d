DROP INDEX "risk_prefix_rollups_key_idx";--> statement-breakpoint
DROP INDEX "risk_rollups_key_idx";--> statement-breakpoint
ALTER TABLE "risk_prefix_rollups" ADD CONSTRAINT "risk_prefix_rollups_pk" PRIMARY KEY("service_id","day","prefix","country","channel","stage","error_code");--> statement-breakpoint
ALTER TABLE "risk_rollups" ADD CONSTRAINT "risk_rollups_pk" PRIMARY KEY("span","service_id","bucket","country","channel","stage","error_code");