import { ErrorCatalog, type ErrorCode } from "../errors.js";
import { newSid } from "../ids.js";
import type { PipelineResult } from "../risk/types.js";
import type { RiskDecisionRow } from "../store/types.js";

/** A block to record: the stage (or "verification" for the lifecycle's own rules), its code and why. */
export interface BlockRecord {
  stage: string;
  code: ErrorCode;
  reason: string;
}

/**
 * The decision-log row of one request that went through the risk pipeline: allowed, or blocked with
 * the stage, code and reason. Fraud statistics are queries over these rows, so every start and check
 * writes exactly one, whatever its outcome.
 */
export function decisionRow(risk: Pick<PipelineResult, "ctx">, kind: "START" | "CHECK", opts: { verificationId: string | null; attemptId?: string | null; block?: BlockRecord }): RiskDecisionRow {
  const { ctx } = risk;
  return {
    id: newSid("VD"),
    serviceId: ctx.service.id,
    verificationId: opts.verificationId,
    kind,
    outcome: opts.block ? "BLOCKED" : "ALLOWED",
    stage: opts.block?.stage ?? null,
    code: opts.block?.code ?? null,
    errorCode: opts.block ? ErrorCatalog[opts.block.code].errorCode : null,
    reason: opts.block?.reason ?? null,
    shadow: ctx.shadow.length ? ctx.shadow.map((s) => `${s.stage}:${s.code}:${s.reason}`).join("; ") : null,
    to: ctx.phone?.e164 ?? null,
    country: ctx.phone?.country ?? null,
    prefix: ctx.phone?.prefix ?? null,
    lineType: ctx.phone?.lineType ?? null,
    ip: ctx.ip,
    channel: ctx.channel,
    tags: Object.keys(ctx.tags).length ? JSON.stringify(ctx.tags) : null,
    converted: false,
    attemptId: opts.attemptId ?? null,
    createdAt: ctx.now,
  };
}
