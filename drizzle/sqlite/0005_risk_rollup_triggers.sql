-- Keeps risk_rollups and risk_prefix_rollups (see src/store/sqlite/schema.ts) in step with the
-- decision log: every insert adds one decision to its HOUR, DAY and prefix-DAY buckets, and every
-- change of `converted` (store.markConverted) moves the conversion counters of the same buckets.
-- Triggers run inside the statement's own transaction, so the counters can never drift from the log.
-- "approvals" counts an approved verification once: on the first allowed START of that verification.
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
--> statement-breakpoint
-- Backfill from the decisions already recorded.
INSERT INTO risk_rollups (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
SELECT 'HOUR', d.created_at - d.created_at % 3600000, d.service_id, coalesce(d.country, ''), coalesce(d.channel, ''), coalesce(d.stage, ''), coalesce(d.error_code, 0), count(*), sum(d.outcome = 'ALLOWED'), sum(d.kind = 'START' AND d.outcome = 'ALLOWED'), sum(d.kind = 'CHECK'), sum(d.kind = 'START' AND d.outcome = 'BLOCKED' AND coalesce(d.error_code, 0) <> 60200), sum(d.converted), sum(d.converted AND d.kind = 'START' AND d.outcome = 'ALLOWED' AND (d.verification_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM risk_decisions e
      WHERE e.verification_id = d.verification_id AND e.kind = 'START' AND e.outcome = 'ALLOWED'
        AND (e.created_at < d.created_at OR (e.created_at = d.created_at AND e.id < d.id))))), sum(d.outcome = 'ALLOWED' AND d.shadow IS NOT NULL)
FROM risk_decisions d
GROUP BY 1, 2, 3, 4, 5, 6, 7;
--> statement-breakpoint
-- Backfill from the decisions already recorded.
INSERT INTO risk_rollups (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
SELECT 'DAY', d.created_at - d.created_at % 86400000, d.service_id, coalesce(d.country, ''), coalesce(d.channel, ''), coalesce(d.stage, ''), coalesce(d.error_code, 0), count(*), sum(d.outcome = 'ALLOWED'), sum(d.kind = 'START' AND d.outcome = 'ALLOWED'), sum(d.kind = 'CHECK'), sum(d.kind = 'START' AND d.outcome = 'BLOCKED' AND coalesce(d.error_code, 0) <> 60200), sum(d.converted), sum(d.converted AND d.kind = 'START' AND d.outcome = 'ALLOWED' AND (d.verification_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM risk_decisions e
      WHERE e.verification_id = d.verification_id AND e.kind = 'START' AND e.outcome = 'ALLOWED'
        AND (e.created_at < d.created_at OR (e.created_at = d.created_at AND e.id < d.id))))), sum(d.outcome = 'ALLOWED' AND d.shadow IS NOT NULL)
FROM risk_decisions d
GROUP BY 1, 2, 3, 4, 5, 6, 7;
--> statement-breakpoint
-- Backfill from the decisions already recorded.
INSERT INTO risk_prefix_rollups (day, service_id, prefix, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
SELECT d.created_at - d.created_at % 86400000, d.service_id, coalesce(d.prefix, ''), coalesce(d.country, ''), coalesce(d.channel, ''), coalesce(d.stage, ''), coalesce(d.error_code, 0), count(*), sum(d.outcome = 'ALLOWED'), sum(d.kind = 'START' AND d.outcome = 'ALLOWED'), sum(d.kind = 'CHECK'), sum(d.kind = 'START' AND d.outcome = 'BLOCKED' AND coalesce(d.error_code, 0) <> 60200), sum(d.converted), sum(d.converted AND d.kind = 'START' AND d.outcome = 'ALLOWED' AND (d.verification_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM risk_decisions e
      WHERE e.verification_id = d.verification_id AND e.kind = 'START' AND e.outcome = 'ALLOWED'
        AND (e.created_at < d.created_at OR (e.created_at = d.created_at AND e.id < d.id))))), sum(d.outcome = 'ALLOWED' AND d.shadow IS NOT NULL)
FROM risk_decisions d
GROUP BY 1, 2, 3, 4, 5, 6, 7;
