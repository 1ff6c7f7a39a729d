-- Keeps risk_rollups and risk_prefix_rollups (src/store/pg/schema.ts) in step with the decision log,
-- counting exactly as the SQLite triggers do (drizzle/sqlite/*_risk_rollup_triggers.sql): every insert
-- adds one decision to its HOUR, DAY and prefix-DAY buckets; every change of `converted`
-- (store.markConverted) moves the conversion counters of the same buckets. Triggers run in the
-- statement's own transaction, so the counters never drift from the log; ON CONFLICT takes the roll-up
-- row's lock, so concurrent inserts from many instances add up exactly. The three roll-up rows are
-- always touched in the same order (HOUR, DAY, prefix-DAY), which keeps concurrent inserts deadlock-free.
-- "approvals" counts an approved verification once: at the first allowed START of that verification
-- (ids compared bytewise, as SQLite compares them).
CREATE FUNCTION risk_decision_first_send(d risk_decisions) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT d.kind = 'START' AND d.outcome = 'ALLOWED' AND (d.verification_id IS NULL OR NOT EXISTS (
    SELECT 1 FROM risk_decisions e
    WHERE e.verification_id = d.verification_id AND e.kind = 'START' AND e.outcome = 'ALLOWED'
      AND (e.created_at < d.created_at OR (e.created_at = d.created_at AND e.id COLLATE "C" < d.id COLLATE "C"))))
$$;
--> statement-breakpoint
CREATE FUNCTION risk_rollups_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  c_allowed integer := (NEW.outcome = 'ALLOWED')::integer;
  c_sends integer := (NEW.kind = 'START' AND NEW.outcome = 'ALLOWED')::integer;
  c_checks integer := (NEW.kind = 'CHECK')::integer;
  c_prevented integer := (NEW.kind = 'START' AND NEW.outcome = 'BLOCKED' AND coalesce(NEW.error_code, 0) <> 60200)::integer;
  c_converted integer := NEW.converted::integer;
  c_approvals integer := (NEW.converted AND risk_decision_first_send(NEW))::integer;
  c_shadowed integer := (NEW.outcome = 'ALLOWED' AND NEW.shadow IS NOT NULL)::integer;
  k_country text := coalesce(NEW.country, '');
  k_channel text := coalesce(NEW.channel, '');
  k_stage text := coalesce(NEW.stage, '');
  k_error integer := coalesce(NEW.error_code, 0);
BEGIN
  INSERT INTO risk_rollups AS r (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES ('HOUR', NEW.created_at - NEW.created_at % 3600000, NEW.service_id, k_country, k_channel, k_stage, k_error, 1, c_allowed, c_sends, c_checks, c_prevented, c_converted, c_approvals, c_shadowed)
  ON CONFLICT (span, service_id, bucket, country, channel, stage, error_code) DO UPDATE SET
    decisions = r.decisions + 1, allowed = r.allowed + c_allowed, sends = r.sends + c_sends, checks = r.checks + c_checks, prevented = r.prevented + c_prevented,
    converted = r.converted + c_converted, approvals = r.approvals + c_approvals, shadowed = r.shadowed + c_shadowed;
  INSERT INTO risk_rollups AS r (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES ('DAY', NEW.created_at - NEW.created_at % 86400000, NEW.service_id, k_country, k_channel, k_stage, k_error, 1, c_allowed, c_sends, c_checks, c_prevented, c_converted, c_approvals, c_shadowed)
  ON CONFLICT (span, service_id, bucket, country, channel, stage, error_code) DO UPDATE SET
    decisions = r.decisions + 1, allowed = r.allowed + c_allowed, sends = r.sends + c_sends, checks = r.checks + c_checks, prevented = r.prevented + c_prevented,
    converted = r.converted + c_converted, approvals = r.approvals + c_approvals, shadowed = r.shadowed + c_shadowed;
  INSERT INTO risk_prefix_rollups AS r (day, service_id, prefix, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
  VALUES (NEW.created_at - NEW.created_at % 86400000, NEW.service_id, coalesce(NEW.prefix, ''), k_country, k_channel, k_stage, k_error, 1, c_allowed, c_sends, c_checks, c_prevented, c_converted, c_approvals, c_shadowed)
  ON CONFLICT (service_id, day, prefix, country, channel, stage, error_code) DO UPDATE SET
    decisions = r.decisions + 1, allowed = r.allowed + c_allowed, sends = r.sends + c_sends, checks = r.checks + c_checks, prevented = r.prevented + c_prevented,
    converted = r.converted + c_converted, approvals = r.approvals + c_approvals, shadowed = r.shadowed + c_shadowed;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER risk_rollups_after_insert AFTER INSERT ON risk_decisions FOR EACH ROW EXECUTE FUNCTION risk_rollups_after_insert();
--> statement-breakpoint
CREATE FUNCTION risk_rollups_after_convert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d_converted integer := NEW.converted::integer - OLD.converted::integer;
  d_approvals integer := CASE WHEN risk_decision_first_send(NEW) THEN NEW.converted::integer - OLD.converted::integer ELSE 0 END;
  k_country text := coalesce(NEW.country, '');
  k_channel text := coalesce(NEW.channel, '');
  k_stage text := coalesce(NEW.stage, '');
  k_error integer := coalesce(NEW.error_code, 0);
BEGIN
  UPDATE risk_rollups SET converted = converted + d_converted, approvals = approvals + d_approvals
  WHERE span = 'HOUR' AND bucket = NEW.created_at - NEW.created_at % 3600000 AND service_id = NEW.service_id
    AND country = k_country AND channel = k_channel AND stage = k_stage AND error_code = k_error;
  UPDATE risk_rollups SET converted = converted + d_converted, approvals = approvals + d_approvals
  WHERE span = 'DAY' AND bucket = NEW.created_at - NEW.created_at % 86400000 AND service_id = NEW.service_id
    AND country = k_country AND channel = k_channel AND stage = k_stage AND error_code = k_error;
  UPDATE risk_prefix_rollups SET converted = converted + d_converted, approvals = approvals + d_approvals
  WHERE day = NEW.created_at - NEW.created_at % 86400000 AND service_id = NEW.service_id AND prefix = coalesce(NEW.prefix, '')
    AND country = k_country AND channel = k_channel AND stage = k_stage AND error_code = k_error;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER risk_rollups_after_convert AFTER UPDATE OF converted ON risk_decisions
FOR EACH ROW WHEN (NEW.converted IS DISTINCT FROM OLD.converted) EXECUTE FUNCTION risk_rollups_after_convert();
--> statement-breakpoint
-- Backfill from the decisions already recorded (an existing database that gains the roll-ups).
INSERT INTO risk_rollups (span, bucket, service_id, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
SELECT s.span, d.created_at - d.created_at % s.unit, d.service_id, coalesce(d.country, ''), coalesce(d.channel, ''), coalesce(d.stage, ''), coalesce(d.error_code, 0),
  count(*), sum((d.outcome = 'ALLOWED')::integer), sum((d.kind = 'START' AND d.outcome = 'ALLOWED')::integer), sum((d.kind = 'CHECK')::integer),
  sum((d.kind = 'START' AND d.outcome = 'BLOCKED' AND coalesce(d.error_code, 0) <> 60200)::integer), sum(d.converted::integer),
  sum((d.converted AND risk_decision_first_send(d))::integer), sum((d.outcome = 'ALLOWED' AND d.shadow IS NOT NULL)::integer)
FROM risk_decisions d CROSS JOIN (VALUES ('HOUR', 3600000), ('DAY', 86400000)) AS s(span, unit)
GROUP BY 1, 2, 3, 4, 5, 6, 7;
--> statement-breakpoint
INSERT INTO risk_prefix_rollups (day, service_id, prefix, country, channel, stage, error_code, decisions, allowed, sends, checks, prevented, converted, approvals, shadowed)
SELECT d.created_at - d.created_at % 86400000, d.service_id, coalesce(d.prefix, ''), coalesce(d.country, ''), coalesce(d.channel, ''), coalesce(d.stage, ''), coalesce(d.error_code, 0),
  count(*), sum((d.outcome = 'ALLOWED')::integer), sum((d.kind = 'START' AND d.outcome = 'ALLOWED')::integer), sum((d.kind = 'CHECK')::integer),
  sum((d.kind = 'START' AND d.outcome = 'BLOCKED' AND coalesce(d.error_code, 0) <> 60200)::integer), sum(d.converted::integer),
  sum((d.converted AND risk_decision_first_send(d))::integer), sum((d.outcome = 'ALLOWED' AND d.shadow IS NOT NULL)::integer)
FROM risk_decisions d
GROUP BY 1, 2, 3, 4, 5, 6, 7;
