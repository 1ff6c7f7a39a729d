import type { LimitsStore, PriceOverrideRow, SpendRow } from "../limits.js";
import { selectList } from "../schema/define.js";
import { priceOverrides } from "../schema/tables.js";
import { cached, writeConfig, type ConfigCache } from "../config-cache.js";
import { query, run, type Db, type Step } from "../sql/query.js";
import type { Channel } from "../types.js";

const P = selectList(priceOverrides);
const SPEND = `service_id as "serviceId", day, usd_micros as "usdMicros", sends`;

/** The spend upsert; `guard` (the budget test) is appended for a reservation. */
const addSpend = (guard: string) => `insert into spend_daily (service_id, day, usd_micros, sends, updated_at) values (:serviceId, :day, :usdMicros, 1, :now)
  on conflict (service_id, day) do update set usd_micros = spend_daily.usd_micros + excluded.usd_micros, sends = spend_daily.sends + 1, updated_at = excluded.updated_at${guard}`;

const q = {
  listPrices: query<object, PriceOverrideRow>(`select ${P} from price_overrides order by country, channel`),
  price: query<{ country: string; channel: Channel }, PriceOverrideRow>(`select ${P} from price_overrides where country = :country and channel = :channel`),
  upsertPrice: query<PriceOverrideRow>(
    `insert into price_overrides (country, channel, usd_micros, updated_at) values (:country, :channel, :usdMicros, :updatedAt)
     on conflict (country, channel) do update set usd_micros = excluded.usd_micros, updated_at = excluded.updated_at`,
  ),
  deletePrice: query<{ country: string; channel: Channel }>("delete from price_overrides where country = :country and channel = :channel"),
  spend: query<{ serviceId: string; day: string }, SpendRow>(`select ${SPEND} from spend_daily where service_id = :serviceId and day = :day`),
  /**
   * The gate: the budget test and the increment are one statement. SQLite runs it under its single
   * writer lock, PostgreSQL under the row lock of ON CONFLICT (re-testing the WHERE on the latest row),
   * so concurrent sends serialise here and the sum can never pass the budget.
   */
  reserve: query<{ serviceId: string; day: string; usdMicros: number; now: number; budgetMicros: number }, { usdMicros: number }>(
    (d) => `${addSpend(` where spend_daily.usd_micros + excluded.usd_micros <= ${d.int(":budgetMicros")}`)} returning usd_micros as "usdMicros"`,
  ),
  add: query<{ serviceId: string; day: string; usdMicros: number; now: number }>(addSpend("")),
};

/**
 * Prices and spend (the limits and spend stages' data). Money is integer micro-dollars. The SQL is
 * portable: INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING reads the same in both databases.
 */
/** The unconditional spend charge as a transaction step (a request's commit, store/queries/store.ts). */
export function* chargeSpend(spend: { serviceId: string; day: string; usdMicros: number }, now: number): Generator<Step, void, unknown> {
  yield* run(q.add, { ...spend, now });
}

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
    return (await this.db.get(q.spend, { serviceId, day })) ?? { serviceId, day, usdMicros: 0, sends: 0 };
  }

  async reserveSpend(input: { serviceId: string; day: string; usdMicros: number; budgetMicros: number; now: number }): Promise<{ reserved: boolean; spentMicros: number }> {
    const { serviceId, day, usdMicros, budgetMicros, now } = input;
    // A first send of the day inserts, and the conflict clause's WHERE does not guard an insert:
    // so a single send dearer than the whole budget is refused before any write.
    if (usdMicros > budgetMicros) return { reserved: false, spentMicros: (await this.getSpend(serviceId, day)).usdMicros };
    const row = await this.db.get(q.reserve, { serviceId, day, usdMicros, now, budgetMicros });
    if (row) return { reserved: true, spentMicros: row.usdMicros };
    return { reserved: false, spentMicros: (await this.getSpend(serviceId, day)).usdMicros };
  }

  async addSpend(input: { serviceId: string; day: string; usdMicros: number; now: number }): Promise<void> {
    await this.db.run(q.add, input);
  }
}
