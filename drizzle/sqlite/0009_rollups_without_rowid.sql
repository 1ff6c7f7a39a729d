-- Both roll-up tables become WITHOUT ROWID (drizzle-kit cannot say so): the table is then its primary
-- key's B-tree, so reading a range of buckets is one ordered pass that finds the counters in place,
-- instead of an index walk plus a lookup per row (2-4x faster on a million decisions; see README).
CREATE TABLE `risk_rollups_wr` (
	`span` text NOT NULL,
	`bucket` integer NOT NULL,
	`service_id` text NOT NULL,
	`country` text NOT NULL,
	`channel` text NOT NULL,
	`stage` text NOT NULL,
	`error_code` integer NOT NULL,
	`decisions` integer DEFAULT 0 NOT NULL,
	`allowed` integer DEFAULT 0 NOT NULL,
	`sends` integer DEFAULT 0 NOT NULL,
	`checks` integer DEFAULT 0 NOT NULL,
	`prevented` integer DEFAULT 0 NOT NULL,
	`converted` integer DEFAULT 0 NOT NULL,
	`approvals` integer DEFAULT 0 NOT NULL,
	`shadowed` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`span`, `service_id`, `bucket`, `country`, `channel`, `stage`, `error_code`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `risk_rollups_wr` (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed) SELECT span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed FROM `risk_rollups`;
--> statement-breakpoint
DROP TABLE `risk_rollups`;
--> statement-breakpoint
ALTER TABLE `risk_rollups_wr` RENAME TO `risk_rollups`;
--> statement-breakpoint
CREATE INDEX `risk_rollups_bucket_idx` ON `risk_rollups` (`span`,`bucket`);
--> statement-breakpoint
CREATE TABLE `risk_prefix_rollups_wr` (
	`day` integer NOT NULL,
	`service_id` text NOT NULL,
	`prefix` text NOT NULL,
	`country` text NOT NULL,
	`channel` text NOT NULL,
	`stage` text NOT NULL,
	`error_code` integer NOT NULL,
	`decisions` integer DEFAULT 0 NOT NULL,
	`allowed` integer DEFAULT 0 NOT NULL,
	`sends` integer DEFAULT 0 NOT NULL,
	`checks` integer DEFAULT 0 NOT NULL,
	`prevented` integer DEFAULT 0 NOT NULL,
	`converted` integer DEFAULT 0 NOT NULL,
	`approvals` integer DEFAULT 0 NOT NULL,
	`shadowed` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`service_id`, `day`, `prefix`, `country`, `channel`, `stage`, `error_code`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `risk_prefix_rollups_wr` (day, service_id, prefix, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed) SELECT day, service_id, prefix, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed FROM `risk_prefix_rollups`;
--> statement-breakpoint
DROP TABLE `risk_prefix_rollups`;
--> statement-breakpoint
ALTER TABLE `risk_prefix_rollups_wr` RENAME TO `risk_prefix_rollups`;
--> statement-breakpoint
CREATE INDEX `risk_prefix_rollups_day_idx` ON `risk_prefix_rollups` (`day`);
--> statement-breakpoint
CREATE INDEX `risk_prefix_rollups_blocked_idx` ON `risk_prefix_rollups` (`service_id`,`day`) WHERE stage <> '';
--> statement-breakpoint
-- The triggers of migration `risk_rollup_triggers`, unchanged, on the rebuilt tables.
CREATE TRIGGER `risk_rollups_after_insert` AFTER INSERT ON `risk_decisions`
BEGIN
  INSERT INTO risk_rollups (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES ('HOUR', NEW.created_at - NEW.created_at % 3600000, NEW.service_id, coalesce(NEW.country, ''), coalesce(NEW.channel, ''), coalesce(NEW.stage, ''), coalesce(NEW.error_code, 0), 1, NEW.outcome = 'ALLOWED', NEW.kind = 'START' AND NEW.outcome = 'ALLOWED', NEW.kind = 'CHECK', NEW.kind = 'START' AND NEW.outcome = 'BLOCKED' AND coalesce(NEW.error_code, 0) <> 60200, NEW.converted, NEW.converted AND NEW.kind = 'START' AND NEW.outcome = 'ALLOWED' AND (NEW.verification_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM risk_decisions e
      WHERE e.verification_id = NEW.verification_id AND e.kind = 'START' AND e.outcome = 'ALLOWED'
        AND (e.created_at < NEW.created_at OR (e.created_at = NEW.created_at AND e.id < NEW.id)))), NEW.outcome = 'ALLOWED' AND NEW.shadow IS NOT NULL)
  ON CONFLICT (span, service_id, bucket, country, channel, stage, error_code) DO UPDATE SET
    decisions = decisions + excluded.decisions, allowed = allowed + excluded.allowed, sends = sends + excluded.sends, checks = checks + excluded.checks, prevented = prevented + excluded.prevented, converted = converted + excluded.converted, approvals = approvals + excluded.approvals, shadowed = shadowed + excluded.shadowed;
  INSERT INTO risk_rollups (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES ('DAY', NEW.created_at - NEW.created_at % 86400000, NEW.service_id, coalesce(NEW.country, ''), coalesce(NEW.channel, ''), coalesce(NEW.stage, ''), coalesce(NEW.error_code, 0), 1, NEW.outcome = 'ALLOWED', NEW.kind = 'START' AND NEW.outcome = 'ALLOWED', NEW.kind = 'CHECK', NEW.kind = 'START' AND NEW.outcome = 'BLOCKED' AND coalesce(NEW.error_code, 0) <> 60200, NEW.converted, NEW.converted AND NEW.kind = 'START' AND NEW.outcome = 'ALLOWED' AND (NEW.verification_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM risk_decisions e
      WHERE e.verification_id = NEW.verification_id AND e.kind = 'START' AND e.outcome = 'ALLOWED'
        AND (e.created_at < NEW.created_at OR (e.created_at = NEW.created_at AND e.id < NEW.id)))), NEW.outcome = 'ALLOWED' AND NEW.shadow IS NOT NULL)
  ON CONFLICT (span, service_id, bucket, country, channel, stage, error_code) DO UPDATE SET
    decisions = decisions + excluded.decisions, allowed = allowed + excluded.allowed, sends = sends + excluded.sends, checks = checks + excluded.checks, prevented = prevented + excluded.prevented, converted = converted + excluded.converted, approvals = approvals + excluded.approvals, shadowed = shadowed + excluded.shadowed;
  INSERT INTO risk_prefix_rollups (day, service_id, prefix, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES (NEW.created_at - NEW.created_at % 86400000, NEW.service_id, coalesce(NEW.prefix, ''), coalesce(NEW.country, ''), coalesce(NEW.channel, ''), coalesce(NEW.stage, ''), coalesce(NEW.error_code, 0), 1, NEW.outcome = 'ALLOWED', NEW.kind = 'START' AND NEW.outcome = 'ALLOWED', NEW.kind = 'CHECK', NEW.kind = 'START' AND NEW.outcome = 'BLOCKED' AND coalesce(NEW.error_code, 0) <> 60200, NEW.converted, NEW.converted AND NEW.kind = 'START' AND NEW.outcome = 'ALLOWED' AND (NEW.verification_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM risk_decisions e
      WHERE e.verification_id = NEW.verification_id AND e.kind = 'START' AND e.outcome = 'ALLOWED'
        AND (e.created_at < NEW.created_at OR (e.created_at = NEW.created_at AND e.id < NEW.id)))), NEW.outcome = 'ALLOWED' AND NEW.shadow IS NOT NULL)
  ON CONFLICT (service_id, day, prefix, country, channel, stage, error_code) DO UPDATE SET
    decisions = decisions + excluded.decisions, allowed = allowed + excluded.allowed, sends = sends + excluded.sends, checks = checks + excluded.checks, prevented = prevented + excluded.prevented, converted = converted + excluded.converted, approvals = approvals + excluded.approvals, shadowed = shadowed + excluded.shadowed;
END;
--> statement-breakpoint
CREATE TRIGGER `risk_rollups_after_convert` AFTER UPDATE OF `converted` ON `risk_decisions`
WHEN NEW.converted <> OLD.converted
BEGIN
  UPDATE risk_rollups SET
    converted = converted + (NEW.converted - OLD.converted),
    approvals = approvals + CASE WHEN NEW.kind = 'START' AND NEW.outcome = 'ALLOWED' AND (NEW.verification_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM risk_decisions e
      WHERE e.verification_id = NEW.verification_id AND e.kind = 'START' AND e.outcome = 'ALLOWED'
        AND (e.created_at < NEW.created_at OR (e.created_at = NEW.created_at AND e.id < NEW.id)))) THEN NEW.converted - OLD.converted ELSE 0 END
  WHERE span = 'HOUR' AND bucket = NEW.created_at - NEW.created_at % 3600000 AND service_id = NEW.service_id AND country = coalesce(NEW.country, '') AND channel = coalesce(NEW.channel, '') AND stage = coalesce(NEW.stage, '') AND error_code = coalesce(NEW.error_code, 0);
  UPDATE risk_rollups SET
    converted = converted + (NEW.converted - OLD.converted),
    approvals = approvals + CASE WHEN NEW.kind = 'START' AND NEW.outcome = 'ALLOWED' AND (NEW.verification_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM risk_decisions e
      WHERE e.verification_id = NEW.verification_id AND e.kind = 'START' AND e.outcome = 'ALLOWED'
        AND (e.created_at < NEW.created_at OR (e.created_at = NEW.created_at AND e.id < NEW.id)))) THEN NEW.converted - OLD.converted ELSE 0 END
  WHERE span = 'DAY' AND bucket = NEW.created_at - NEW.created_at % 86400000 AND service_id = NEW.service_id AND country = coalesce(NEW.country, '') AND channel = coalesce(NEW.channel, '') AND stage = coalesce(NEW.stage, '') AND error_code = coalesce(NEW.error_code, 0);
  UPDATE risk_prefix_rollups SET
    converted = converted + (NEW.converted - OLD.converted),
    approvals = approvals + CASE WHEN NEW.kind = 'START' AND NEW.outcome = 'ALLOWED' AND (NEW.verification_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM risk_decisions e
      WHERE e.verification_id = NEW.verification_id AND e.kind = 'START' AND e.outcome = 'ALLOWED'
        AND (e.created_at < NEW.created_at OR (e.created_at = NEW.created_at AND e.id < NEW.id)))) THEN NEW.converted - OLD.converted ELSE 0 END
  WHERE day = NEW.created_at - NEW.created_at % 86400000 AND service_id = NEW.service_id AND prefix = coalesce(NEW.prefix, '') AND country = coalesce(NEW.country, '') AND channel = coalesce(NEW.channel, '') AND stage = coalesce(NEW.stage, '') AND error_code = coalesce(NEW.error_code, 0);
END;
