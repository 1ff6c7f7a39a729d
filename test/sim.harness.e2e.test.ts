import { afterEach, describe, expect, it } from "vitest";
import { DAY, HOUR, MINUTE, Sim } from "../sim/lib/sim.js";
import { botnetIp, pumpOver } from "../sim/traffic.js";

/**
 * The simulation harness of `npm run simulate` (sim/), on a small script: it must drive the real
 * server over HTTP with its manual clock and count what happened the way the server saw it.
 */
describe("simulation harness", () => {
  let sim: Sim | undefined;
  afterEach(async () => sim?.close());

  it("counts legitimate users, pumped sends and money the way the server decided them", async () => {
    const t0 = Date.UTC(2026, 2, 2);
    sim = await Sim.open(t0, 1);
    // 20 users who all finish, one every 3 minutes, and a 40-send burst to one prefix.
    for (let i = 0; i < 20; i++) sim.user(i % 2 ? "DE" : "GB", t0 + i * 3 * MINUTE, { conversion: 1, typo: 0, resend: 0 });
    pumpOver(sim, 40, t0 + 10 * MINUTE, 10 * MINUTE, (i) => ({ to: sim!.numbers.under("UZ", "+998901"), ip: botnetIp(i) }));
    await sim.run(t0 + 2 * HOUR);

    const t = sim.tally;
    expect(t).toMatchObject({ legitUsers: 20, legitRefused: 0, legitSends: 20, legitApproved: 20, pumpedAttempts: 40 });
    // The STANDARD detector lets 10 unchecked sends to one prefix through, then refuses with 60410.
    expect(t.pumpedSent).toBe(10);
    expect([...t.pumpedBlockedBy]).toEqual([["PREFIX_BLOCKED", 30]]);
    expect(t.pumpedUsd).toBeCloseTo(10 * sim.price("+998901234567"), 6);
    expect(t.savedUsd).toBeCloseTo(30 * sim.price("+998901234567"), 6);
    // The server's own spend ledger agrees with what the harness counted.
    const spend = await sim.server.admin<{ serviceSpend: { spentUsd: number; sends: number } }>(
      `query($s: ID!, $d: String) { serviceSpend(serviceId: $s, day: $d) { spentUsd sends } }`,
      { s: sim.serviceId, d: new Date(t0).toISOString().slice(0, 10) },
    );
    expect(spend.serviceSpend.sends).toBe(30);
    expect(spend.serviceSpend.spentUsd).toBeCloseTo(t.legitUsd + t.pumpedUsd, 4);
    expect(sim.server.clock.now()).toBeLessThan(t0 + DAY);
  });
});
