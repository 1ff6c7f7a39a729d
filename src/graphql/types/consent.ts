import { Field, ID, ObjectType } from "type-graphql";
import type { ConsentRecordRow } from "../../store/consent.js";

@ObjectType({ description: "Evidence of one consent event: what the user saw and agreed to, and what the server saw." })
export class ConsentRecord {
  @Field(() => ID, { description: "CR + 32 hex." })
  id!: string;
  @Field(() => ID, { description: "The service the start was for." })
  serviceId!: string;
  @Field(() => ID, { nullable: true, description: "The verification the start created or resent (null when the start then failed)." })
  verificationId!: string | null;
  @Field(() => String, { description: "The number, E.164." })
  to!: string;
  @Field(() => String, { description: "Which consent notice the user saw." })
  textVersion!: string;
  @Field(() => Date, { description: "When the user agreed (their clock)." })
  agreedAt!: Date;
  @Field(() => String, { nullable: true, description: "The user's browser, as their page reported it." })
  userAgent!: string | null;
  @Field(() => String, { nullable: true, description: "The end user's IP: the client IP the start came from, or the deviceIp a backend passed." })
  ip!: string | null;
  @Field(() => Date, { description: "When the server recorded it (time ranges and retention use this)." })
  recordedAt!: Date;

  static from(r: ConsentRecordRow): ConsentRecord {
    return Object.assign(new ConsentRecord(), { ...r, agreedAt: new Date(r.agreedAt), recordedAt: new Date(r.createdAt) });
  }
}

@ObjectType({ description: "A page of consent records, oldest first." })
export class ConsentRecordPage {
  @Field(() => [ConsentRecord], { description: "The records of this page." })
  records!: ConsentRecord[];
  @Field(() => String, { nullable: true, description: "Pass as `after` for the next page; null on the last one." })
  nextCursor!: string | null;
}
