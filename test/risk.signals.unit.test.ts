import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RiskPipeline } from "../src/risk/pipeline.js";
import { SIGNALS, SignalRecorder, numberBlock } from "../src/risk/signals.js";
import { signalsStage } from "../src/risk/stages/signals.js";
import type { PipelineResult, RiskRequest } from "../src/risk/types.js";
import { checkRequest, fraudFixture, numbersUnder, startRequest, type FraudFixture } from "./helpers/fraud-fixtures.js";

const MINUTE = 60_000;
const CLIENT = { role: "CLIENT" as const, ip: "198.51.100.20" };
const ONE_PER_COUNTRY = ["+447400123456", "+12025550123", "+33612345678", "+4915123456789", "+34612345678", "+5511912345678", "+919812345678"];
const US_AREAS = ["202", "212", "310", "415", "617", "646", "718", "305", "312", "404", "503", "206"];

describe("signals stage", () => {
  let f: FraudFixture;
  let p: RiskPipeline;
  let seq = 0;
  beforeEach(async () => {
    f = await fraudFixture();
    p = f.pipeline([signalsStage(f.counter)], [new SignalRecorder(f.counter)]);
  });
  afterEach(async () => f.close());

  /** A start through the stage; an allowed one is reported as sent, as the lifecycle does. */
  async function start(to: string, over: Partial<RiskRequest> = {}): Promise<PipelineResult> {
    const r = await p.evaluate(startRequest(f.service, to, over));
    if (r.decision.action === "allow") await p.observe({ type: "sent", ctx: r.ctx, verificationId: `VE${++seq}` });
    return r;
  }
  const approve = (to: string) => p.observe({ type: "approved", serviceId: f.service.id, verificationId: "VE", prefix: null, now: f.clock.now(), to });

  describe("ip-countries (blocks)", () => {
    it("refuses a sixth new country from one client IP within the hour with 60410, and still serves the five", async () => {
      for (const to of ONE_PER_COUNTRY.slice(0, 5)) expect((await start(to, CLIENT)).decision.action).toBe("allow");
      const sixth = await start(ONE_PER_COUNTRY[5]!, CLIENT);
      expect(sixth.decision).toMatchObject({ action: "block", code: "PREFIX_BLOCKED" });
      expect(sixth.decision.action === "block" && sixth.decision.reason).toBe("ip-countries: this IP already asked for 5 countries in 60 min; BR would be one more");
      expect(sixth.stage).toBe("signals");
      expect((await start("+447400654321", CLIENT)).decision.action).toBe("allow"); // GB again: not new
      f.clock.advance(61 * MINUTE);
      expect((await start(ONE_PER_COUNTRY[5]!, CLIENT)).decision.action).toBe("allow");
    });

    it("does not look at admin-key requests (a backend's IP speaks for all its users) or other IPs", async () => {
      for (const to of ONE_PER_COUNTRY) expect((await start(to, { role: "ADMIN", ip: CLIENT.ip })).decision.action).toBe("allow");
      for (const to of ONE_PER_COUNTRY.slice(0, 5)) await start(to, CLIENT);
      expect((await start(ONE_PER_COUNTRY[5]!, { ...CLIENT, ip: "198.51.100.21" })).decision.action).toBe("allow");
    });

    it("groups IPv6 clients by their /64", async () => {
      const v6 = (host: number) => ({ role: "CLIENT" as const, ip: `2001:db8:1:2::${host.toString(16)}` });
      for (let i = 0; i < 5; i++) await start(ONE_PER_COUNTRY[i]!, v6(i + 1));
      expect((await start(ONE_PER_COUNTRY[5]!, v6(99))).decision).toMatchObject({ code: "PREFIX_BLOCKED" });
    });
  });

  describe("ip-prefixes (records only)", () => {
    it("records an eleventh prefix from one client IP in the shadow findings and lets it through", async () => {
      const numbers = US_AREAS.map((a) => `+1${a}5550123`);
      for (const to of numbers.slice(0, 10)) expect((await start(to, CLIENT)).ctx.shadow).toEqual([]);
      const r = await start(numbers[10]!, CLIENT);
      expect(r.decision.action).toBe("allow");
      expect(r.ctx.shadow).toEqual([{ stage: "signals", code: "PREFIX_BLOCKED", reason: "ip-prefixes (record-only): this IP already asked for 10 prefixes in 60 min" }]);
    });
  });

  describe("sequential-numbers (blocks)", () => {
    const run = ["+447400123401", "+447400123402", "+447400123403", "+447400123404", "+447400123405"];

    it("refuses the fifth close, unapproved number within 15 minutes, from any caller", async () => {
      for (const to of run.slice(0, 4)) expect((await start(to)).decision.action).toBe("allow");
      const fifth = await start(run[4]!);
      expect(fifth.decision).toMatchObject({ action: "block", code: "PREFIX_BLOCKED", reason: "sequential-numbers: 4 unapproved numbers within 200 of this one in 15 min" });
      f.clock.advance(16 * MINUTE);
      expect((await start(run[4]!)).decision.action).toBe("allow");
    });

    it("does not count numbers whose users approved (an office onboarding consecutive lines)", async () => {
      for (const to of run.slice(0, 4)) {
        await start(to);
        await approve(to);
      }
      expect((await start(run[4]!)).decision.action).toBe("allow");
    });

    it("does not count resends of one number, nor numbers far apart under the same prefix", async () => {
      for (let i = 0; i < 6; i++) expect((await start(run[0]!)).decision.action).toBe("allow");
      for (const to of numbersUnder("+447400123456", 8, 5)) expect((await start(to)).decision.action).toBe("allow");
    });

    it("groups numbers by blocks of consecutive numbers", () => {
      expect(numberBlock("+447400123401")).toBe(numberBlock("+447400123499"));
      expect(numberBlock("+447400123501")).toBe(numberBlock("+447400123401") + 1);
    });
  });

  describe("unchecked sends (record only)", () => {
    it("records a prefix whose sends are never followed by a check, once they had time to be checked", async () => {
      const numbers = numbersUnder("+447400123456", 11, 5);
      for (const to of numbers.slice(0, 10)) await start(to);
      expect((await start(numbers[10]!)).ctx.shadow).toEqual([]); // the sends are too young to judge
      f.clock.advance(6 * MINUTE);
      const r = await start(numbers[0]!);
      expect(r.decision.action).toBe("allow");
      expect(r.ctx.shadow).toContainEqual({ stage: "signals", code: "PREFIX_BLOCKED", reason: "unchecked-sends-prefix (record-only): 0 checks for 11 sends to +44740 in 60 min" });
    });

    it("records nothing when the users check their codes", async () => {
      const numbers = numbersUnder("+447400123456", 10, 5);
      for (const to of numbers) {
        await start(to, CLIENT);
        expect((await p.evaluate(checkRequest(f.service, to, CLIENT))).decision.action).toBe("allow");
      }
      f.clock.advance(6 * MINUTE);
      expect((await start(numbers[0]!, CLIENT)).ctx.shadow).toEqual([]);
    });

    it("records a client IP whose sends are never checked", async () => {
      const numbers = US_AREAS.slice(0, 10).map((a) => `+1${a}5550123`);
      for (const to of numbers) await start(to, CLIENT);
      f.clock.advance(6 * MINUTE);
      const r = await start(numbers[0]!, CLIENT);
      expect(r.ctx.shadow.map((s) => s.reason)).toContain("unchecked-sends-ip (record-only): 0 checks for 10 sends to this IP in 60 min");
    });
  });

  it("describes every signal as data: a mode, a window, and whether it looks only at client keys", () => {
    expect(Object.values(SIGNALS).map((s) => [s.name, s.mode, s.clientOnly])).toEqual([
      ["ip-countries", "block", true],
      ["ip-prefixes", "record", true],
      ["sequential-numbers", "block", false],
      ["unchecked-sends-ip", "record", true],
      ["unchecked-sends-prefix", "record", false],
    ]);
  });

  it("skips trusted requests: nothing is counted for a start with riskCheck disabled", async () => {
    const run = ["+447400123401", "+447400123402", "+447400123403", "+447400123404"];
    for (const to of run) await start(to, { riskCheck: false });
    expect((await start("+447400123405")).decision.action).toBe("allow");
  });
});
