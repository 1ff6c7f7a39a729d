import { DAY, HOUR, MINUTE, type Sim } from "./lib/sim.js";
import { botnetIp, legitTraffic, pumpOver } from "./traffic.js";

/** Legitimate users per day across the 30 countries (about $30 of SMS a day at the default prices). */
export const LEGIT_PER_DAY = 500;

/** One scripted scenario: its length and what it schedules (background users included). */
export interface Scenario {
  name: string;
  /** One line for the table's notes. */
  what: string;
  days: number;
  /** Whether it contains an attack (its pumped sends count towards the targets). */
  attack: boolean;
  script(sim: Sim, t0: number): void;
}

/**
 * The scenarios of issue 14. Each runs on a fresh server and service with default settings, on top
 * of two days of ordinary traffic (the service's history), and keeps the ordinary traffic going while
 * it runs, so every row also says whether a real user was refused. Attacks target destinations the
 * service's users never use (pumping favours expensive routes: UZ $0.30, TJ $0.35) except the IP
 * hammering, which aims at a country the service serves.
 */
export const SCENARIOS: Scenario[] = [
  {
    name: "legit-30",
    what: "ordinary traffic only: 500 users a day in 30 countries, 80–95 % of them type their code",
    days: 4,
    attack: false,
    script(sim, t0) {
      legitTraffic(sim, t0, t0 + 4 * DAY, LEGIT_PER_DAY);
    },
  },
  {
    name: "single-range burst",
    what: "3,000 sends to one Uzbek prefix (+998901…) over 2 hours from a botnet",
    days: 4,
    attack: true,
    script(sim, t0) {
      legitTraffic(sim, t0, t0 + 4 * DAY, LEGIT_PER_DAY);
      pumpOver(sim, 3000, t0 + 2 * DAY + 10 * HOUR, 2 * HOUR, (i) => ({ to: sim.numbers.under("UZ", "+998901"), ip: botnetIp(i) }));
    },
  },
  {
    name: "rotating ranges",
    what: "3,000 sends rotating over every Uzbek mobile prefix over 3 hours from a botnet",
    days: 4,
    attack: true,
    script(sim, t0) {
      legitTraffic(sim, t0, t0 + 4 * DAY, LEGIT_PER_DAY);
      // Ordered so that consecutive sends fall in different ranges: no range, let alone a prefix, stands out.
      const prefixes = sim.numbers.prefixes("UZ").sort((x, y) => x.slice(-1).localeCompare(y.slice(-1)) || x.localeCompare(y));
      pumpOver(sim, 3000, t0 + 2 * DAY + 14 * HOUR, 3 * HOUR, (i) => ({ to: sim.numbers.under("UZ", prefixes[i % prefixes.length]!), ip: botnetIp(i) }));
    },
  },
  {
    name: "slow drip",
    what: "one send every 8 minutes for 5 days, anywhere in Tajikistan, from a botnet",
    days: 7,
    attack: true,
    script(sim, t0) {
      legitTraffic(sim, t0, t0 + 7 * DAY, LEGIT_PER_DAY);
      const days = 5;
      pumpOver(sim, (days * DAY) / (8 * MINUTE), t0 + 2 * DAY, days * DAY, (i) => ({ to: sim.numbers.mobile("TJ"), ip: botnetIp(i) }));
    },
  },
  {
    name: "country launch",
    what: "Brazil's users ×20 for 8 hours (a launch): about 250 extra real users",
    days: 4,
    attack: false,
    script(sim, t0) {
      const from = t0 + 2 * DAY + 11 * HOUR;
      legitTraffic(sim, t0, t0 + 4 * DAY, LEGIT_PER_DAY, { country: "BR", factor: 20, from, until: from + 8 * HOUR });
    },
  },
  {
    name: "missed by the detectors",
    what: "the rotating attack, 5,000 sends in 3 hours, while the fraud stages run in shadow mode (what slips past them meets the budget)",
    days: 4,
    attack: true,
    script(sim, t0) {
      legitTraffic(sim, t0, t0 + 4 * DAY, LEGIT_PER_DAY);
      // A new integration tuning its thresholds: prefix guard and signals record, never block.
      sim.agenda.add(t0, async () => {
        await sim.server.admin(`mutation($s: ID!) { setShadowStages(serviceId: $s, stages: ["prefix-guard", "signals"]) { shadowStages } }`, { s: sim.serviceId });
      });
      const prefixes = sim.numbers.prefixes("UZ").sort((x, y) => x.slice(-1).localeCompare(y.slice(-1)) || x.localeCompare(y));
      pumpOver(sim, 5000, t0 + 2 * DAY + 14 * HOUR, 3 * HOUR, (i) => ({ to: sim.numbers.under("UZ", prefixes[i % prefixes.length]!), ip: botnetIp(i) }));
    },
  },
  {
    name: "IP hammering",
    what: "one IP asks for 3,000 codes to British numbers (many prefixes) over 6 hours",
    days: 4,
    attack: true,
    script(sim, t0) {
      legitTraffic(sim, t0, t0 + 4 * DAY, LEGIT_PER_DAY);
      pumpOver(sim, 3000, t0 + 2 * DAY + 9 * HOUR, 6 * HOUR, () => ({ to: sim.numbers.mobile("GB"), ip: "192.0.2.66" }));
    },
  },
];
