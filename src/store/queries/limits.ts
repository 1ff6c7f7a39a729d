import type { LimitsStore, PriceOverrideRow, SpendRefusal, SpendRow } from "../limits.js";
import { selectList } from "../schema/define.js";
import { priceOverrides } from "../schema/tables.js";
import { cached, writeConfig, type ConfigCache } from "../config-cache.js";
import { get, query, run, type Db, type Step } from "../sql/query.js";
import { CommitRefused, type Channel, type RiskWrites } from "../types.js";

const P = selectList(priceOverrides);
const SPEND = `service_id as "serviceId", day, usd_micros as "usdMicros", sends, capped_usd_micros as "cappedUsdMicros", capped_sends as "cappedSends"`;

/** A send's spend as the upsert binds it: its price, and the same again (and one send) for the capped share when it draws on it. */
interface SpendParams {
  serviceId: string;
  day: string;
  usdMicros: number;
  cappedMicros: number;
  cappedSends: number;
  now: number;
}

/** The spend upsert; `guard` (the budget tests) is appended for a reservation. */
const addSpend = (guard: string) => `insert into spend_daily (service_id, day, usd_micros, sends, capped_usd_micros, capped_sends, updated_at)
  values (:serviceId, :day, :usdMicros, 1, :cappedMicros, :cappedSends, :now)
  on conflict (service_id, day) do update set usd_micros = spend_daily.usd_micros + excluded.usd_micros, sends = spend_daily.sends + 1,
    capped_usd_micros = spend_daily.capped_usd_micros + excluded.capped_usd_micros, capped_sends = spend_daily.capped_sends + excluded.capped_sends,
    updated_at = excluded.updated_at${guard}`;

/** No cap: a protected send is tested against the whole budget only. */
const NO_CAP = Number.MAX_SAFE_INTEGER;

const q = {
  listPrices: query<object, PriceOverrideRow>(`select ${P} from price_overrides order by country, channel`),
  price: query<{ country: string; channel: Channel }, PriceOverrideRow>(`select ${P} from price_overrides where country = :country and channel = :channel`),
  upsertPrice: query<PriceOverrideRow>(
    `insert into price_overrides (country, channel, usd_micros, updated_at) values (:country, :channel, :usdMicros, :updatedAt)
     on conflict (country, channel) do update set usd_micros = excluded.usd_micros, updated_at = excluded.updated_at`,
  ),
  deletePrice: query<{ country: string; channel: Channel }>("delete from price_overrides where country = :country and channel = :channel"),
  spend: query<{ serviceId: string; day: string }, SpendRow>(`select ${SPEND} from spend_daily where service_id = :serviceId and day = :day`),
  listSpend: query<{ serviceId: string | null; from: string; until: string }, SpendRow>(
    (d) => `select ${SPEND} from spend_daily where (${d.text(":serviceId")} is null or service_id = :serviceId) and day >= :from and day <= :until order by day, service_id`,
  ),
  /**
   * The gate: the budget test and the increment are one statement. SQLite runs it under its single
   * writer lock, PostgreSQL under the row lock of ON CONFLICT (re-testing the WHERE on the latest row),
   * so concurrent sends serialise here and the sum can never pass the budget.
   */
  reserve: query<SpendParams & { budgetMicros: number; capMicros: number }, { usdMicros: number; cappedUsdMicros: number }>(
    (d) =>
      `${addSpend(` where spend_daily.usd_micros + excluded.usd_micros <= ${d.int(":budgetMicros")}
        and spend_daily.capped_usd_micros + excluded.capped_usd_micros <= ${d.int(":capMicros")}`)}
      returning usd_micros as "usdMicros", capped_usd_micros as "cappedUsdMicros"`,
  ),
  add: query<SpendParams>(addSpend("")),
};

/** A charge as the upsert binds it: to the capped share too when `capped`. */
function charge(spend: { serviceId: string; day: string; usdMicros: number; capped?: boolean }, now: number): SpendParams {
  const { serviceId, day, usdMicros, capped } = spend;
  return { serviceId, day, usdMicros, cappedMicros: capped ? usdMicros : 0, cappedSends: capped ? 1 : 0, now };
}

/**
 * A request's spend as a transaction step (its commit, store/queries/store.ts): charged unconditionally,
 * or, with `within`, reserved: the budget tests and the increment are one statement ({@link q.reserve}),
 * and a send that does not fit throws {@link CommitRefused}, rolling the whole commit back.
 */
export function* chargeSpend(spend: NonNullable<RiskWrites["spend"]>, now: number): Generator<Step, void, unknown> {
  const { within } = spend;
  if (!within) {
    yield* run(q.add, charge(spend, now));
    return;
  }
  const capMicros = within.capMicros ?? NO_CAP;
  // The conflict clause's WHERE does not guard a day's first insert: a send dearer than the whole budget (or share) never fits.
  const fits = spend.usdMicros <= within.budgetMicros && spend.usdMicros <= capMicros;
  if (!fits || !(yield* get(q.reserve, { ...charge(spend, now), budgetMicros: within.budgetMicros, capMicros }))) {
    throw new CommitRefused("spend");
  }
}

/**
 * Prices and spend (the limits and spend stages' data). Money is integer micro-dollars. The SQL is
 * portable: INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING reads the same in both databases.
 */
export class SqlLimitsStore implements LimitsStore {
  /** `cache` serves price overrides (store/config-cache.ts). */
  constructor(
    private readonly db: Db,
    private readonly cache?: ConfigCache,
  ) {}

  listPriceOverrides(): Promise<PriceOverrideRow[]> {
    return this.db.all(q.listPrices, {});
  }

  async getPriceOverride(country: string, channel: Channel): Promise<PriceOverrideRow | null> {
    if (!this.cache) return (await this.db.get(q.price, { country, channel })) ?? null;
    const all = await cached(this.cache, "prices", async () => new Map((await this.listPriceOverrides()).map((p) => [`${p.country}:${p.channel}`, p])));
    return all.get(`${country}:${channel}`) ?? null;
  }

  async upsertPriceOverride(row: PriceOverrideRow): Promise<void> {
    await writeConfig(this.db, this.cache, () => run(q.upsertPrice, row));
  }

  async deletePriceOverride(country: string, channel: Channel): Promise<boolean> {
    return (await writeConfig(this.db, this.cache, () => run(q.deletePrice, { country, channel }))) > 0;
  }

  async getSpend(serviceId: string, day: string): Promise<SpendRow> {
    return (await this.db.get(q.spend, { serviceId, day })) ?? { serviceId, day, usdMicros: 0, sends: 0, cappedUsdMicros: 0, cappedSends: 0 };
  }

  listSpend(serviceId: string | null, fromDay: string, untilDay: string): Promise<SpendRow[]> {
    return this.db.all(q.listSpend, { serviceId, from: fromDay, until: untilDay });
  }

  async reserveSpend(input: { serviceId: string; day: string; usdMicros: number; budgetMicros: number; capMicros?: number | null; now: number }) {
    const { serviceId, day, usdMicros, budgetMicros, now } = input;
    const capped = input.capMicros != null;
    const capMicros = input.capMicros ?? NO_CAP;
    const refused = async (): Promise<{ reserved: false; spentMicros: number; cappedMicros: number; refusedBy: SpendRefusal }> => {
      const s = await this.getSpend(serviceId, day);
      const refusedBy: SpendRefusal = s.usdMicros + usdMicros > budgetMicros ? "BUDGET" : "CAPPED_SHARE";
      return { reserved: false, spentMicros: s.usdMicros, cappedMicros: s.cappedUsdMicros, refusedBy };
    };
    // A first send of the day inserts, and the conflict clause's WHERE does not guard an insert:
    // so a single send dearer than the whole budget (or the whole capped share) is refused before any write.
    if (usdMicros > budgetMicros || usdMicros > capMicros) return refused();
    const row = await this.db.get(q.reserve, { ...charge({ serviceId, day, usdMicros, capped }, now), budgetMicros, capMicros });
    if (row) return { reserved: true, spentMicros: row.usdMicros, cappedMicros: row.cappedUsdMicros, refusedBy: null };
    return refused();
  }

  async addSpend(input: { serviceId: string; day: string; usdMicros: number; capped?: boolean; now: number }): Promise<void> {
    await this.db.run(q.add, charge(input, input.now));
  }
}
