import { Field, ID, ObjectType } from "type-graphql";
import { apiKeySid } from "../../auth/keys.js";
import type { ApiKeyRow } from "../../store/types.js";
import { RoleEnum } from "./enums.js";

@ObjectType({ description: "An API key (its secret is shown only once, at creation)." })
export class ApiKey {
  @Field(() => ID, { description: "VK + 32 hex." })
  id!: string;
  @Field(() => String, { description: "SK + the same 32 hex: the key's username on the Twilio-compatible REST API, twilio(sid, secret, { accountSid })." })
  sid!: string;
  @Field(() => RoleEnum, { description: "ADMIN or CLIENT." })
  role!: RoleEnum;
  @Field(() => ID, { nullable: true, description: "The one service a CLIENT key may use." })
  serviceId!: string | null;
  @Field(() => String, { nullable: true, description: "A label." })
  name!: string | null;
  @Field(() => Date, { description: "Created." })
  createdAt!: Date;
  @Field(() => Date, { nullable: true, description: "Revoked, if it was." })
  revokedAt!: Date | null;
  @Field(() => Date, { nullable: true, description: "Last successful use, to the minute (null if never used)." })
  lastUsedAt!: Date | null;
  @Field(() => Date, { nullable: true, description: "When the key stops working (null: never)." })
  expiresAt!: Date | null;
  @Field(() => Boolean, { description: "True for the key the ADMIN_API_KEY variable names: changing the variable revokes it at the next start." })
  fromEnvironment!: boolean;

  static from(r: ApiKeyRow): ApiKey {
    const date = (ms: number | null) => (ms === null ? null : new Date(ms));
    return Object.assign(new ApiKey(), {
      id: r.id,
      sid: apiKeySid(r.id),
      role: r.role as RoleEnum,
      serviceId: r.serviceId,
      name: r.name,
      createdAt: new Date(r.createdAt),
      revokedAt: date(r.revokedAt),
      lastUsedAt: date(r.lastUsedAt),
      expiresAt: date(r.expiresAt),
      fromEnvironment: r.origin === "ADMIN_API_KEY",
    });
  }
}

@ObjectType({ description: "The answer to revokeApiKey: the key as it is now, and whether it was revoked already." })
export class ApiKeyRevocation {
  @Field(() => ApiKey, { description: "The key, with its revokedAt (the first revocation's time when it was revoked already)." })
  apiKey!: ApiKey;
  @Field(() => Boolean, { description: "True when the key had been revoked before this call (nothing changed)." })
  alreadyRevoked!: boolean;
}

@ObjectType({ description: "A new key and its secret: store the secret now, it is not shown again." })
export class CreatedApiKey {
  @Field(() => ApiKey, { description: "The key's record." })
  apiKey!: ApiKey;
  @Field(() => String, { description: "The bearer secret." })
  secret!: string;
}

@ObjectType({ description: "A message the development outbox 'sent' (no real delivery)." })
export class OutboxMessage {
  @Field(() => ID, { description: "Outbox id." })
  id!: string;
  @Field(() => ID, { description: "The verification it belongs to." })
  verificationId!: string;
  @Field(() => ID, { description: "Its service." })
  serviceId!: string;
  @Field(() => String, { description: "Recipient (E.164)." })
  to!: string;
  @Field(() => String, { description: "SMS or CALL." })
  channel!: string;
  @Field(() => String, { description: "The full text, code included." })
  body!: string;
  @Field(() => Date, { description: "When it was sent." })
  at!: Date;
}
