import { Field, ID, Int, ObjectType } from "type-graphql";
import type { ErasureRow } from "../../store/privacy.js";

@ObjectType({ description: "Rows of one table deleted, and rows kept with the personal data taken out (an erasure, a purge)." })
export class TableRows {
  @Field(() => String, { description: "The table (or `redis`, `outbox`: counters and messages kept outside the database)." })
  table!: string;
  @Field(() => Int, { description: "Rows deleted." })
  deleted!: number;
  @Field(() => Int, { description: "Rows kept without the number, IP and tags (risk decisions: the statistics count them)." })
  anonymized!: number;
}

@ObjectType({ description: "The audit of one erasure: who erased, when, how many rows; never the number." })
export class Erasure {
  @Field(() => ID, { description: "ER + 32 hex." })
  id!: string;
  @Field(() => Date, { description: "When it ran." })
  at!: Date;
  @Field(() => ID, { description: "The admin API key that asked." })
  actorKeyId!: string;
  @Field(() => String, { nullable: true, description: "The request that asked (X-Request-Id), to find its log lines." })
  requestId!: string | null;
  @Field(() => [TableRows], { description: "Per table, what was erased." })
  tables!: TableRows[];

  static from(r: ErasureRow): Erasure {
    const tables = Object.entries(r.counts).map(([table, c]) => Object.assign(new TableRows(), { table, ...c }));
    return Object.assign(new Erasure(), { id: r.id, at: new Date(r.at), actorKeyId: r.actorKeyId, requestId: r.requestId, tables });
  }
}
