-- Generated from src/store/rollups.ts (npm run db:rollups): the roll-up triggers, re-created from the rules.
DROP TRIGGER IF EXISTS `risk_rollups_after_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `risk_rollups_after_convert`;
--> statement-breakpoint
CREATE TRIGGER `risk_rollups_after_insert` AFTER INSERT ON `risk_decisions`
BEGIN
  INSERT INTO risk_rollups (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES ('HOUR', NEW.created_at - NEW.created_at % 3600000, NEW.service_id, coalesce(NEW.country, ''), coalesce(NEW.channel, ''), coalesce(NEW.stage, ''), coalesce(NEW.error_code, 0), 1, NEW.outcome = 'ALLOWED', NEW.kind = 'START' and NEW.outcome = 'ALLOWED', NEW.kind = 'CHECK', NEW.kind = 'START' and NEW.outcome = 'BLOCKED' and coalesce(NEW.error_code, 0) <> 60200, NEW.converted, NEW.converted and NEW.kind = 'START' and NEW.outcome = 'ALLOWED' and (NEW.verification_id is null or not exists (
    select 1 from risk_decisions e
    where e.verification_id = NEW.verification_id and e.kind = 'START' and e.outcome = 'ALLOWED'
      and (e.created_at < NEW.created_at or (e.created_at = NEW.created_at and e.id < NEW.id)))), NEW.outcome = 'ALLOWED' and NEW.shadow is not null)
  ON CONFLICT (span, service_id, bucket, country, channel, stage, error_code) DO UPDATE SET decisions = decisions + excluded.decisions, allowed = allowed + excluded.allowed, sends = sends + excluded.sends, checks = checks + excluded.checks, prevented = prevented + excluded.prevented, converted = converted + excluded.converted, approvals = approvals + excluded.approvals, shadowed = shadowed + excluded.shadowed;
  INSERT INTO risk_rollups (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES ('DAY', NEW.created_at - NEW.created_at % 86400000, NEW.service_id, coalesce(NEW.country, ''), coalesce(NEW.channel, ''), coalesce(NEW.stage, ''), coalesce(NEW.error_code, 0), 1, NEW.outcome = 'ALLOWED', NEW.kind = 'START' and NEW.outcome = 'ALLOWED', NEW.kind = 'CHECK', NEW.kind = 'START' and NEW.outcome = 'BLOCKED' and coalesce(NEW.error_code, 0) <> 60200, NEW.converted, NEW.converted and NEW.kind = 'START' and NEW.outcome = 'ALLOWED' and (NEW.verification_id is null or not exists (
    select 1 from risk_decisions e
    where e.verification_id = NEW.verification_id and e.kind = 'START' and e.outcome = 'ALLOWED'
      and (e.created_at < NEW.created_at or (e.created_at = NEW.created_at and e.id < NEW.id)))), NEW.outcome = 'ALLOWED' and NEW.shadow is not null)
  ON CONFLICT (span, service_id, bucket, country, channel, stage, error_code) DO UPDATE SET decisions = decisions + excluded.decisions, allowed = allowed + excluded.allowed, sends = sends + excluded.sends, checks = checks + excluded.checks, prevented = prevented + excluded.prevented, converted = converted + excluded.converted, approvals = approvals + excluded.approvals, shadowed = shadowed + excluded.shadowed;
  INSERT INTO risk_prefix_rollups (day, service_id, prefix, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES (NEW.created_at - NEW.created_at % 86400000, NEW.service_id, coalesce(NEW.prefix, ''), coalesce(NEW.country, ''), coalesce(NEW.channel, ''), coalesce(NEW.stage, ''), coalesce(NEW.error_code, 0), 1, NEW.outcome = 'ALLOWED', NEW.kind = 'START' and NEW.outcome = 'ALLOWED', NEW.kind = 'CHECK', NEW.kind = 'START' and NEW.outcome = 'BLOCKED' and coalesce(NEW.error_code, 0) <> 60200, NEW.converted, NEW.converted and NEW.kind = 'START' and NEW.outcome = 'ALLOWED' and (NEW.verification_id is null or not exists (
    select 1 from risk_decisions e
    where e.verification_id = NEW.verification_id and e.kind = 'START' and e.outcome = 'ALLOWED'
      and (e.created_at < NEW.created_at or (e.created_at = NEW.created_at and e.id < NEW.id)))), NEW.outcome = 'ALLOWED' and NEW.shadow is not null)
  ON CONFLICT (service_id, day, prefix, country, channel, stage, error_code) DO UPDATE SET decisions = decisions + excluded.decisions, allowed = allowed + excluded.allowed, sends = sends + excluded.sends, checks = checks + excluded.checks, prevented = prevented + excluded.prevented, converted = converted + excluded.converted, approvals = approvals + excluded.approvals, shadowed = shadowed + excluded.shadowed;
END;
--> statement-breakpoint
CREATE TRIGGER `risk_rollups_after_convert` AFTER UPDATE OF `converted` ON `risk_decisions`
WHEN NEW.converted <> OLD.converted
BEGIN
  UPDATE risk_rollups SET converted = converted + (NEW.converted - OLD.converted),
    approvals = approvals + CASE WHEN NEW.kind = 'START' and NEW.outcome = 'ALLOWED' and (NEW.verification_id is null or not exists (
    select 1 from risk_decisions e
    where e.verification_id = NEW.verification_id and e.kind = 'START' and e.outcome = 'ALLOWED'
      and (e.created_at < NEW.created_at or (e.created_at = NEW.created_at and e.id < NEW.id)))) THEN NEW.converted - OLD.converted ELSE 0 END
  WHERE span = 'HOUR' AND bucket = NEW.created_at - NEW.created_at % 3600000 AND service_id = NEW.service_id AND country = coalesce(NEW.country, '') AND channel = coalesce(NEW.channel, '') AND stage = coalesce(NEW.stage, '') AND error_code = coalesce(NEW.error_code, 0);
  UPDATE risk_rollups SET converted = converted + (NEW.converted - OLD.converted),
    approvals = approvals + CASE WHEN NEW.kind = 'START' and NEW.outcome = 'ALLOWED' and (NEW.verification_id is null or not exists (
    select 1 from risk_decisions e
    where e.verification_id = NEW.verification_id and e.kind = 'START' and e.outcome = 'ALLOWED'
      and (e.created_at < NEW.created_at or (e.created_at = NEW.created_at and e.id < NEW.id)))) THEN NEW.converted - OLD.converted ELSE 0 END
  WHERE span = 'DAY' AND bucket = NEW.created_at - NEW.created_at % 86400000 AND service_id = NEW.service_id AND country = coalesce(NEW.country, '') AND channel = coalesce(NEW.channel, '') AND stage = coalesce(NEW.stage, '') AND error_code = coalesce(NEW.error_code, 0);
  UPDATE risk_prefix_rollups SET converted = converted + (NEW.converted - OLD.converted),
    approvals = approvals + CASE WHEN NEW.kind = 'START' and NEW.outcome = 'ALLOWED' and (NEW.verification_id is null or not exists (
    select 1 from risk_decisions e
    where e.verification_id = NEW.verification_id and e.kind = 'START' and e.outcome = 'ALLOWED'
      and (e.created_at < NEW.created_at or (e.created_at = NEW.created_at and e.id < NEW.id)))) THEN NEW.converted - OLD.converted ELSE 0 END
  WHERE day = NEW.created_at - NEW.created_at % 86400000 AND service_id = NEW.service_id AND prefix = coalesce(NEW.prefix, '') AND country = coalesce(NEW.country, '') AND channel = coalesce(NEW.channel, '') AND stage = coalesce(NEW.stage, '') AND error_code = coalesce(NEW.error_code, 0);
END;
