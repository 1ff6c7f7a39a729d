import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import type { EffectiveRetention } from "../../retention/admin.js";
import type { RetentionPolicy, StoreStatus as Status } from "../../retention/purger.js";
import type { PurgeReport } from "../../store/retention.js";
import { TableRows } from "./privacy.js";

const DAY = 86_400_000;

@ObjectType({ description: "One run of the retention's purger." })
export class PurgeRun {
  @Field(() => String, { description: "The instance that ran it (host:pid:random)." })
  owner!: string;
  @Field(() => Date)
  startedAt!: Date;
  @Field(() => Date)
  finishedAt!: Date;
  @Field(() => Int)
  durationMs!: number;
  @Field(() => [TableRows], { description: "Per table: rows deleted, rows anonymized." })
  tables!: TableRows[];
  @Field(() => Float, { description: "SQLite: bytes handed back to the file system (incremental_vacuum)." })
  vacuumedBytes!: number;
  @Field(() => Float, { description: "The database's size on disk after the run." })
  sizeBytes!: number;
  @Field(() => String, { nullable: true, description: "Why the run stopped early (the next one resumes); null when it finished." })
  error!: string | null;

  static from(r: PurgeReport): PurgeRun {
    const tables = Object.entries(r.tables).map(([table, c]) => Object.assign(new TableRows(), { table, ...c }));
    return Object.assign(new PurgeRun(), { ...r, startedAt: new Date(r.startedAt), finishedAt: new Date(r.finishedAt), durationMs: r.finishedAt - r.startedAt, tables });
  }
}

@ObjectType({ description: "The deployment's retention (docs/data-lifecycle.md)." })
export class RetentionSettings {
  @Field(() => Float, { description: "Numbers (and decisions' IPs and tags) are replaced by a keyed hash after this many days (RETENTION_NUMBERS)." })
  numbersDays!: number;
  @Field(() => Float, { description: "Raw decisions, verifications and send attempts are deleted after this many days (RETENTION_RAW)." })
  rawDays!: number;
  @Field(() => Float, { description: "Roll-ups are deleted after this many days (RETENTION_ROLLUPS)." })
  rollupsDays!: number;
  @Field(() => Float, { description: "Finished delivery jobs and webhook deliveries are deleted after this many hours (RETENTION_FINISHED_JOBS)." })
  finishedJobsHours!: number;
  @Field(() => Float, { description: "Consent records are deleted after this many days (CONSENT_RETENTION_DAYS)." })
  consentDays!: number;

  static from(p: RetentionPolicy): RetentionSettings {
    return Object.assign(new RetentionSettings(), {
      numbersDays: p.numbersMs / DAY,
      rawDays: p.rawMs / DAY,
      rollupsDays: p.rollupsMs / DAY,
      finishedJobsHours: p.finishedJobsMs / 3_600_000,
      consentDays: p.consentMs / DAY,
    });
  }
}

@ObjectType({ description: "The store's size and the retention's last purge." })
export class StoreStatus {
  @Field(() => String, { description: "sqlite or postgres." })
  dialect!: string;
  @Field(() => Float, { description: "The database's size on disk, bytes (SQLite: the file's pages; PostgreSQL: pg_database_size)." })
  bytes!: number;
  @Field(() => Float, { description: "Of those, free pages waiting for reuse or for the purger's incremental_vacuum (SQLite; 0 on PostgreSQL)." })
  freeBytes!: number;
  @Field(() => PurgeRun, { nullable: true, description: "The last finished purge (by any instance); null before the first." })
  lastPurge!: PurgeRun | null;
  @Field(() => String, { nullable: true, description: "The instance purging right now, if one is." })
  purgingOn!: string | null;
  @Field(() => RetentionSettings, { description: "The deployment's horizons (services may set their own numbers and raw horizons)." })
  retention!: RetentionSettings;

  static from(s: Status & { dialect: string }, policy: RetentionPolicy): StoreStatus {
    return Object.assign(new StoreStatus(), {
      dialect: s.dialect,
      bytes: s.bytes,
      freeBytes: s.freeBytes,
      lastPurge: s.lastRun ? PurgeRun.from(s.lastRun) : null,
      purgingOn: s.runningOn,
      retention: RetentionSettings.from(policy),
    });
  }
}

@ObjectType({ description: "A service's retention as it applies: its own horizons, or the deployment's." })
export class ServiceRetention {
  @Field(() => ID)
  serviceId!: string;
  @Field(() => Float, { description: "Days the service's verifications and decisions keep the number." })
  numbersDays!: number;
  @Field(() => Float, { description: "Days the service's raw decisions, verifications and send attempts are kept." })
  rawDays!: number;
  @Field(() => Boolean, { description: "Whether the service set either horizon itself." })
  own!: boolean;

  static from(r: EffectiveRetention): ServiceRetention {
    return Object.assign(new ServiceRetention(), r);
  }
}
