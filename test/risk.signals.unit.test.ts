import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RiskPipeline } from "../src/risk/pipeline.js";
import { SIGNALS, SignalRecorder, numberBlock, signalAt, type SignalId } from "../src/risk/signals.js";
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
    p = f.pipeline([signalsStage({ numberKey: f.numberKey })], [new SignalRecorder(f.counter, f.numberKey)]);
  });
  afterEach(async () => f.close());

  /** A start through the stage; an allowed one is reported as sent, as the lifecycle does. */
  async function start(to: string, over: Partial<RiskRequest> = {}): Promise<PipelineResult> {
    const r = await p.evaluate(startRequest(f.service, to, over));
    if (r.decision.action === "allow") await p.observe({ type: "sent", ctx: r.ctx, verificationId: `VE${++seq}` });
    return r;
  }
  /** A check through the stage, its counts committed as the lifecycle commits them. */
  async function check(to: string, over: Partial<RiskRequest> = {}): Promise<PipelineResult> {
    const r = await p.evaluate(checkRequest(f.service, to, over));
    await f.counter.incrMany(r.writes.counts, r.ctx.now);
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

  describe("unchecked-sends-prefix (records only)", () => {
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
        expect((await check(to, CLIENT)).decision.action).toBe("allow");
      }
      f.clock.advance(6 * MINUTE);
      expect((await start(numbers[0]!, CLIENT)).ctx.shadow).toEqual([]);
    });

  });

  describe("unchecked-sends-ip (blocks from STANDARD up)", () => {
    const numbers = US_AREAS.slice(0, 11).map((a) => `+1${a}5550123`);

    it("refuses a client IP whose sends of the last day were never checked, once they had time to be", async () => {
      for (const to of numbers.slice(0, 10)) expect((await start(to, CLIENT)).decision.action).toBe("allow");
      f.clock.advance(6 * MINUTE);
      const r = await start(numbers[10]!, CLIENT);
      expect(r.decision).toMatchObject({ action: "block", code: "PREFIX_BLOCKED", reason: "unchecked-sends-ip: 0 checks for 10 sends to this IP in 24 h" });
      // The day-long window outlasts the per-IP limit's hour: still refused 20 hours later.
      f.clock.advance(20 * 60 * MINUTE);
      expect((await start(numbers[10]!, CLIENT)).decision.action).toBe("block");
      // Other IPs are not affected.
      expect((await start(numbers[10]!, { ...CLIENT, ip: "198.51.100.99" })).decision.action).toBe("allow");
    });

    it("only records it at BASIC (and needs twice the sends)", async () => {
      await f.services.updateRiskSettings(f.service.id, { protectionLevel: "BASIC" });
      f.service = (await f.services.get(f.service.id))!;
      const many = [...US_AREAS, "213", "214", "215", "216", "217", "218", "219", "224", "225"].map((a) => `+1${a}5550123`);
      for (const to of many.slice(0, 19)) await start(to, { ...CLIENT, ip: "198.51.100.30" });
      f.clock.advance(6 * MINUTE);
      expect((await start(many[19]!, { ...CLIENT, ip: "198.51.100.30" })).ctx.shadow.map((x) => x.reason)).not.toContain(
        "unchecked-sends-ip (record-only): 0 checks for 19 sends to this IP in 24 h",
      );
      f.clock.advance(6 * MINUTE);
      const r = await start(many[20]!, { ...CLIENT, ip: "198.51.100.30" });
      expect(r.decision.action).toBe("allow");
      expect(r.ctx.shadow.map((x) => x.reason)).toContain("unchecked-sends-ip (record-only): 0 checks for 20 sends to this IP in 24 h");
    });

    it("lets an IP whose users check their codes keep going (a shared address)", async () => {
      for (const to of numbers) {
        expect((await start(to, CLIENT)).decision.action).toBe("allow");
        await check(to, CLIENT);
        f.clock.advance(MINUTE);
      }
      f.clock.advance(6 * MINUTE);
      expect((await start("+14155550123", CLIENT)).decision.action).toBe("allow");
    });
  });

  describe("protection levels scale the thresholds", () => {
    const run = Array.from({ length: 10 }, (_, i) => `+4474001234${String(i + 1).padStart(2, "0")}`);

    it.each([
      ["BASIC", 8],
      ["STANDARD", 4],
      ["MAX", 2],
    ] as const)("sequential-numbers at %s lets %i close unapproved numbers through, then refuses", async (level, allowed) => {
      await f.services.updateRiskSettings(f.service.id, { protectionLevel: level });
      f.service = (await f.services.get(f.service.id))!;
      expect(signalAt("sequentialNumbers", level).maxNeighbours).toBe(allowed);
      let sent = 0;
      for (const to of run) {
        if ((await start(to)).decision.action !== "allow") break;
        sent++;
      }
      expect(sent).toBe(allowed);
    });

    it.each([
      ["BASIC", 7],
      ["STANDARD", 5],
      ["MAX", 3],
    ] as const)("ip-countries at %s serves %i countries from one client IP", async (level, served) => {
      await f.services.updateRiskSettings(f.service.id, { protectionLevel: level });
      f.service = (await f.services.get(f.service.id))!;
      let sent = 0;
      for (const to of ONE_PER_COUNTRY) if ((await start(to, CLIENT)).decision.action === "allow") sent++;
      // BASIC would serve 10; the list has 7 countries.
      expect(sent).toBe(served);
      expect(signalAt("ipCountries", level).maxDistinct).toBe(level === "BASIC" ? 10 : served);
    });
  });

  it("describes every signal as data: a mode per level, a window, and whether it looks only at client keys", () => {
    const ids = Object.keys(SIGNALS) as SignalId[];
    expect(ids.map((id) => [SIGNALS[id].name, signalAt(id, "BASIC").mode, signalAt(id, "STANDARD").mode, signalAt(id, "MAX").mode, SIGNALS[id].clientOnly])).toEqual([
      ["ip-countries", "block", "block", "block", true],
      ["ip-prefixes", "record", "record", "record", true],
      ["sequential-numbers", "block", "block", "block", false],
      ["unchecked-sends-ip", "record", "block", "block", true],
      ["unchecked-sends-prefix", "record", "record", "record", false],
    ]);
  });

  it("skips trusted requests: nothing is counted for a start with riskCheck disabled", async () => {
    const run = ["+447400123401", "+447400123402", "+447400123403", "+447400123404"];
    for (const to of run) await start(to, { riskCheck: false });
    expect((await start("+447400123405")).decision.action).toBe("allow");
  });
});
