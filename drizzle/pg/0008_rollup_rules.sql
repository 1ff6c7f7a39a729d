-- Generated from src/store/rollups.ts (npm run db:rollups): the roll-up triggers, re-created from the rules.
CREATE OR REPLACE FUNCTION risk_decision_first_send(d risk_decisions) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT d.kind = 'START' and d.outcome = 'ALLOWED' and (d.verification_id is null or not exists (
    select 1 from risk_decisions e
    where e.verification_id = d.verification_id and e.kind = 'START' and e.outcome = 'ALLOWED'
      and (e.created_at < d.created_at or (e.created_at = d.created_at and e.id collate "C" < d.id collate "C"))))
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION risk_rollups_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  c_allowed integer := (NEW.outcome = 'ALLOWED')::integer;
  c_sends integer := (NEW.kind = 'START' and NEW.outcome = 'ALLOWED')::integer;
  c_checks integer := (NEW.kind = 'CHECK')::integer;
  c_prevented integer := (NEW.kind = 'START' and NEW.outcome = 'BLOCKED' and coalesce(NEW.error_code, 0) <> 60200)::integer;
  c_converted integer := (NEW.converted)::integer;
  c_approvals integer := (NEW.converted and risk_decision_first_send(NEW))::integer;
  c_shadowed integer := (NEW.outcome = 'ALLOWED' and NEW.shadow is not null)::integer;
BEGIN
  INSERT INTO risk_rollups AS r (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES ('HOUR', NEW.created_at - NEW.created_at % 3600000, NEW.service_id, coalesce(NEW.country, ''), coalesce(NEW.channel, ''), coalesce(NEW.stage, ''), coalesce(NEW.error_code, 0), 1, c_allowed, c_sends, c_checks, c_prevented, c_converted, c_approvals, c_shadowed)
  ON CONFLICT (span, service_id, bucket, country, channel, stage, error_code) DO UPDATE SET decisions = r.decisions + excluded.decisions, allowed = r.allowed + excluded.allowed, sends = r.sends + excluded.sends, checks = r.checks + excluded.checks, prevented = r.prevented + excluded.prevented, converted = r.converted + excluded.converted, approvals = r.approvals + excluded.approvals, shadowed = r.shadowed + excluded.shadowed;
  INSERT INTO risk_rollups AS r (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES ('DAY', NEW.created_at - NEW.created_at % 86400000, NEW.service_id, coalesce(NEW.country, ''), coalesce(NEW.channel, ''), coalesce(NEW.stage, ''), coalesce(NEW.error_code, 0), 1, c_allowed, c_sends, c_checks, c_prevented, c_converted, c_approvals, c_shadowed)
  ON CONFLICT (span, service_id, bucket, country, channel, stage, error_code) DO UPDATE SET decisions = r.decisions + excluded.decisions, allowed = r.allowed + excluded.allowed, sends = r.sends + excluded.sends, checks = r.checks + excluded.checks, prevented = r.prevented + excluded.prevented, converted = r.converted + excluded.converted, approvals = r.approvals + excluded.approvals, shadowed = r.shadowed + excluded.shadowed;
  INSERT INTO risk_prefix_rollups AS r (day, service_id, prefix, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES (NEW.created_at - NEW.created_at % 86400000, NEW.service_id, coalesce(NEW.prefix, ''), coalesce(NEW.country, ''), coalesce(NEW.channel, ''), coalesce(NEW.stage, ''), coalesce(NEW.error_code, 0), 1, c_allowed, c_sends, c_checks, c_prevented, c_converted, c_approvals, c_shadowed)
  ON CONFLICT (service_id, day, prefix, country, channel, stage, error_code) DO UPDATE SET decisions = r.decisions + excluded.decisions, allowed = r.allowed + excluded.allowed, sends = r.sends + excluded.sends, checks = r.checks + excluded.checks, prevented = r.prevented + excluded.prevented, converted = r.converted + excluded.converted, approvals = r.approvals + excluded.approvals, shadowed = r.shadowed + excluded.shadowed;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION risk_rollups_after_convert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d_converted integer := NEW.converted::integer - OLD.converted::integer;
  d_approvals integer := CASE WHEN risk_decision_first_send(NEW) THEN NEW.converted::integer - OLD.converted::integer ELSE 0 END;
BEGIN
  UPDATE risk_rollups SET converted = converted + d_converted, approvals = approvals + d_approvals
  WHERE span = 'HOUR' AND bucket = NEW.created_at - NEW.created_at % 3600000 AND service_id = NEW.service_id AND country = coalesce(NEW.country, '') AND channel = coalesce(NEW.channel, '') AND stage = coalesce(NEW.stage, '') AND error_code = coalesce(NEW.error_code, 0);
  UPDATE risk_rollups SET converted = converted + d_converted, approvals = approvals + d_approvals
  WHERE span = 'DAY' AND bucket = NEW.created_at - NEW.created_at % 86400000 AND service_id = NEW.service_id AND country = coalesce(NEW.country, '') AND channel = coalesce(NEW.channel, '') AND stage = coalesce(NEW.stage, '') AND error_code = coalesce(NEW.error_code, 0);
  UPDATE risk_prefix_rollups SET converted = converted + d_converted, approvals = approvals + d_approvals
  WHERE day = NEW.created_at - NEW.created_at % 86400000 AND service_id = NEW.service_id AND prefix = coalesce(NEW.prefix, '') AND country = coalesce(NEW.country, '') AND channel = coalesce(NEW.channel, '') AND stage = coalesce(NEW.stage, '') AND error_code = coalesce(NEW.error_code, 0);
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS risk_rollups_after_insert ON risk_decisions;
--> statement-breakpoint
CREATE TRIGGER risk_rollups_after_insert AFTER INSERT ON risk_decisions FOR EACH ROW EXECUTE FUNCTION risk_rollups_after_insert();
--> statement-breakpoint
DROP TRIGGER IF EXISTS risk_rollups_after_convert ON risk_decisions;
--> statement-breakpoint
CREATE TRIGGER risk_rollups_after_convert AFTER UPDATE OF converted ON risk_decisions
FOR EACH ROW WHEN (NEW.converted IS DISTINCT FROM OLD.converted) EXECUTE FUNCTION risk_rollups_after_convert();
