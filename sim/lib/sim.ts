import type { CountryCode } from "libphonenumber-js/max";
import { parsePhone } from "../../src/phone.js";
import { Agenda } from "./queue.js";
import { Numbers } from "./numbers.js";
import { Random } from "./random.js";
import type { GqlReply } from "./server.js";
import { SimServer } from "./server.js";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const START = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { id } }`;
const CHECK = `mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { valid } }`;

/** What one scenario's traffic did: the row of the results table. */
export interface Tally {
  legitUsers: number;
  /** Legitimate users who got any refusal (a start or a check), counted once each. */
  legitRefused: number;
  legitRefusedBy: Map<string, number>;
  legitSends: number;
  legitApproved: number;
  legitUsd: number;
  pumpedAttempts: number;
  pumpedSent: number;
  pumpedBlockedBy: Map<string, number>;
  pumpedUsd: number;
  /** What the refused pumped attempts would have cost. */
  savedUsd: number;
}

/** A legitimate user's habits: how often they finish, fumble, or ask for a new code. */
export interface UserHabits {
  /** Probability the user types the code at all (the rest abandon). */
  conversion: number;
  /** Of those who finish: a wrong code first. @default 0.05 */
  typo?: number;
  /** Of those who finish: ask for the code again before typing it. @default 0.06 */
  resend?: number;
}

/**
 * One scenario's world: the real server, a simulated clock, an agenda of actions, and the tally.
 * Users and attackers are scheduled as actions; {@link run} performs them in time order, setting the
 * server's clock to each action's time before it talks to the server over HTTP.
 */
export class Sim {
  readonly rand: Random;
  readonly numbers: Numbers;
  readonly agenda = new Agenda();
  readonly tally: Tally = {
    legitUsers: 0, legitRefused: 0, legitRefusedBy: new Map(), legitSends: 0, legitApproved: 0, legitUsd: 0,
    pumpedAttempts: 0, pumpedSent: 0, pumpedBlockedBy: new Map(), pumpedUsd: 0, savedUsd: 0,
  };
  private ipSeq = 0;
  private prices = new Map<string, number>();

  private constructor(
    readonly server: SimServer,
    readonly serviceId: string,
    private readonly clientKey: string,
    seed: number,
  ) {
    this.rand = new Random(seed);
    this.numbers = new Numbers(new Random(seed ^ 0x5eed));
  }

  /** A fresh server with one service (custom codes on, so simulated users know their code) and a CLIENT key. */
  static async open(startAt: number, seed: number, env: Record<string, string> = {}): Promise<Sim> {
    const server = await SimServer.start(startAt, env);
    const { createService } = await server.admin<{ createService: { id: string } }>(
      `mutation { createService(input: { friendlyName: "Simulated shop", customCodeEnabled: true }) { id } }`,
    );
    const { createApiKey } = await server.admin<{ createApiKey: { secret: string } }>(
      `mutation($s: ID!) { createApiKey(role: CLIENT, serviceId: $s, name: "web") { secret } }`,
      { s: createService.id },
    );
    const sim = new Sim(server, createService.id, createApiKey.secret, seed);
    const { prices } = await server.admin<{ prices: { country: string; channel: string; usd: number }[] }>(`{ prices { country channel usd } }`);
    for (const p of prices) if (p.channel === "SMS") sim.prices.set(p.country, p.usd);
    return sim;
  }

  /** The price table's SMS price for a number (what the server charges the budget). */
  price(e164: string): number {
    const p = parsePhone(e164);
    return (p.ok && p.phone.country && this.prices.get(p.phone.country)) || this.prices.get("*")!;
  }

  /** Performs every action due up to `until`, in time order. */
  async run(until: number): Promise<void> {
    for (;;) {
      const next = this.agenda.take();
      if (!next) return;
      if (next.at > until) {
        this.agenda.add(next.at, next.run);
        return;
      }
      if (next.at > this.server.clock.now()) this.server.clock.set(next.at);
      await next.run();
    }
  }

  /** A fresh client address (legitimate users each have their own). */
  nextIp(): string {
    const i = ++this.ipSeq;
    return `198.18.${(i >> 8) & 255}.${i & 255}`;
  }

  async start(to: string, ip: string, customCode?: string): Promise<GqlReply<unknown>> {
    return this.server.gql(START, { input: { serviceId: this.serviceId, to, channel: "SMS", ...(customCode ? { customCode } : {}) } }, { key: this.clientKey, ip });
  }

  async check(to: string, code: string, ip: string): Promise<GqlReply<{ checkVerification: { valid: boolean } }>> {
    return this.server.gql(CHECK, { input: { serviceId: this.serviceId, to, code } }, { key: this.clientKey, ip });
  }

  /** A legitimate user of `country` arriving at `at`: start, then (maybe) resend, typo, check. */
  user(country: CountryCode, at: number, habits: UserHabits): void {
    const to = this.numbers.mobile(country);
    const ip = this.nextIp();
    const code = this.rand.digits(6);
    const r = this.rand;
    const finishes = r.chance(habits.conversion);
    const typo = finishes && r.chance(habits.typo ?? 0.05);
    const resend = finishes && r.chance(habits.resend ?? 0.06);
    this.tally.legitUsers++;
    let refused = false;
    const refuse = (reply: GqlReply<unknown>): boolean => {
      const e = reply.errors?.[0];
      if (!e) return false;
      if (!refused) {
        refused = true;
        this.tally.legitRefused++;
        const c = e.extensions.code;
        this.tally.legitRefusedBy.set(c, (this.tally.legitRefusedBy.get(c) ?? 0) + 1);
      }
      return true;
    };
    const send = async (): Promise<boolean> => {
      if (refuse(await this.start(to, ip, code))) return false;
      this.tally.legitSends++;
      this.tally.legitUsd += this.price(to);
      return true;
    };
    const checkRight = async (): Promise<void> => {
      const reply = await this.check(to, code, ip);
      if (!refuse(reply) && reply.data?.checkVerification.valid) this.tally.legitApproved++;
    };
    this.agenda.add(at, async () => {
      if (!(await send()) || !finishes) return;
      const t = at + r.int(20, 120) * 1000;
      if (resend) {
        this.agenda.add(t, async () => {
          if (await send()) this.agenda.add(this.server.clock.now() + r.int(15, 60) * 1000, checkRight);
        });
        return;
      }
      if (typo) {
        const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
        this.agenda.add(t, async () => {
          if (refuse(await this.check(to, wrong, ip))) return;
          this.agenda.add(this.server.clock.now() + r.int(10, 40) * 1000, checkRight);
        });
        return;
      }
      this.agenda.add(t, checkRight);
    });
  }

  /** One pumped send attempt to `to` from `ip` at `at` (nobody ever checks it). */
  pump(to: string, ip: string, at: number): void {
    this.agenda.add(at, async () => {
      this.tally.pumpedAttempts++;
      const reply = await this.start(to, ip);
      const e = reply.errors?.[0];
      if (!e) {
        this.tally.pumpedSent++;
        this.tally.pumpedUsd += this.price(to);
      } else {
        const c = e.extensions.code;
        this.tally.pumpedBlockedBy.set(c, (this.tally.pumpedBlockedBy.get(c) ?? 0) + 1);
        this.tally.savedUsd += this.price(to);
      }
    });
  }

  async close(): Promise<void> {
    await this.server.close();
  }
}
