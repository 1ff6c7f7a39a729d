import { query, run, type Db, type Step } from "./sql/query.js";

/** Bumps the configuration version (the row is created by the first bump). */
const bump = query("insert into config_version (id, version) values (1, 1) on conflict (id) do update set version = config_version.version + 1");
const read = query<object, { version: number }>("select version from config_version where id = 1");

export interface ConfigCacheOptions {
  /** How often the version row is read: a change made on another instance is seen within this. @default 250 */
  pollMs?: number;
  /** Entries kept before the cache starts over (bounds memory under many distinct keys). @default 10000 */
  maxEntries?: number;
}

/**
 * The in-process cache of configuration that changes rarely and is read on every request: services,
 * API keys, the safe list, geo permissions, blocked prefixes and prices. Counters and verifications
 * are never cached.
 *
 * Invalidation: every write to that configuration bumps a version row in the same transaction
 * ({@link ConfigCache.write}) and clears this instance's cache at once; every instance reads the row
 * every `pollMs` and starts over when it moved, so a change made anywhere is seen everywhere within
 * `pollMs` (250 ms by default, well within the 1 s promised; test/scaleout.two-instances.test.ts).
 */
export class ConfigCache {
  private entries = new Map<string, Promise<unknown>>();
  private version: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly pollMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly db: Db,
    opts: ConfigCacheOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 250;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Reads the version now and then every `pollMs`. */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll().catch(() => undefined), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * The cached value of `key`, loaded once per version. `keep` decides whether a loaded value is kept
   * (an unknown API key is not: a stranger's guesses must not fill the cache). Concurrent callers share
   * one load; a failed load is not kept.
   */
  get<T>(key: string, load: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) return hit as Promise<T>;
    if (this.entries.size >= this.maxEntries) this.entries = new Map();
    const entries = this.entries; // a load that outlives an invalidation fills the old map, not the new one
    const loading = load().then(
      (value) => {
        if (!keep(value)) entries.delete(key);
        return value;
      },
      (err: unknown) => {
        entries.delete(key);
        throw err;
      },
    );
    entries.set(key, loading);
    return loading;
  }

  /** Forgets everything (this instance changed the configuration). */
  invalidate(): void {
    this.entries = new Map();
  }


  private async poll(): Promise<void> {
    const row = await this.db.get(read, {});
    const version = row?.version ?? 0;
    if (this.version !== null && version !== this.version) this.invalidate();
    this.version = version;
  }
}

/** The version bump as a transaction step (a request's commit that puts a block). */
export function* bumpConfigVersion(): Generator<Step, void, unknown> {
  yield* run(bump, {});
}

/**
 * Runs a configuration write and the version bump in one transaction, then clears this instance's
 * cache: every write of cached configuration goes through here, so no instance keeps serving it.
 */
export async function writeConfig<T>(db: Db, cache: ConfigCache | undefined, body: () => Generator<Step, T, unknown>): Promise<T> {
  try {
    return await db.transaction(function* () {
      const result = yield* body();
      yield* run(bump, {});
      return result;
    });
  } finally {
    cache?.invalidate();
  }
}

/** A cached read when there is a cache, a plain one otherwise (stores built without one, in tests). */
export function cached<T>(cache: ConfigCache | undefined, key: string, load: () => Promise<T>, keep?: (value: T) => boolean): Promise<T> {
  return cache ? cache.get(key, load, keep) : load();
}
