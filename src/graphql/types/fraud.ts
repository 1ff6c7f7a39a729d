import { Field, ID, InputType, ObjectType, registerEnumType } from "type-graphql";
import type { FraudSettingsView, GeoPermissionView } from "../../risk/fraud-admin.js";
import type { BlockedPrefixRow, SafeNumberRow } from "../../store/fraud.js";
import { ChannelEnum } from "./enums.js";
import { AutoBlockLevelEnum, DetectorFigure } from "./events.js";

export enum GeoPermissionEnum {
  BLOCK = "BLOCK",
  MONITOR = "MONITOR",
  ALLOW = "ALLOW",
}
registerEnumType(GeoPermissionEnum, {
  name: "GeoPermission",
  description: "BLOCK refuses with 60605; MONITOR sends and lets the prefix guard watch; ALLOW sends and is trusted (never auto-blocked).",
});

export enum GeoPermissionSourceEnum {
  DEFAULT = "DEFAULT",
  ADMIN = "ADMIN",
}
registerEnumType(GeoPermissionSourceEnum, { name: "GeoPermissionSource", description: "DEFAULT: the shipped high-risk list; ADMIN: set with setGeoPermissions." });

export enum ProtectionLevelEnum {
  BASIC = "BASIC",
  STANDARD = "STANDARD",
  MAX = "MAX",
}
registerEnumType(ProtectionLevelEnum, {
  name: "ProtectionLevel",
  description: "How eagerly the SMS-pumping detector blocks a prefix: BASIC (fewest false positives), STANDARD (default), MAX (most protection).",
});

export enum PrefixBlockSourceEnum {
  MANUAL = "MANUAL",
  AUTO = "AUTO",
}
registerEnumType(PrefixBlockSourceEnum, { name: "PrefixBlockSource", description: "MANUAL: set by an admin; AUTO: set by the SMS-pumping detector." });

@ObjectType({ description: "A number, or a range of 1,000 numbers, the fraud stages trust (it still passes the rate limits)." })
export class SafeNumber {
  @Field(() => String, { description: "E.164, or a 1,000-number range with its last three digits xxx (+14155552xxx)." })
  number!: string;
  @Field(() => String, { nullable: true, description: "Why it is trusted." })
  note!: string | null;
  @Field(() => Date, { description: "When it was added." })
  createdAt!: Date;

  static from(r: SafeNumberRow): SafeNumber {
    return Object.assign(new SafeNumber(), { ...r, createdAt: new Date(r.createdAt) });
  }
}

@ObjectType({ description: "A service's permission for one destination country and channel." })
export class GeoPermissionEntry {
  @Field(() => String, { description: "ISO 3166-1 alpha-2, or 001 for non-geographic numbers (+800, +870, +881-883)." })
  country!: string;
  @Field(() => ChannelEnum, { description: "SMS or CALL." })
  channel!: ChannelEnum;
  @Field(() => GeoPermissionEnum, { description: "BLOCK, MONITOR or ALLOW." })
  permission!: GeoPermissionEnum;
  @Field(() => GeoPermissionSourceEnum, { description: "Whether the shipped default or an admin decided it." })
  source!: GeoPermissionSourceEnum;
  @Field(() => Date, { nullable: true, description: "When an admin set it (null for defaults)." })
  updatedAt!: Date | null;

  static from(v: GeoPermissionView): GeoPermissionEntry {
    return Object.assign(new GeoPermissionEntry(), {
      ...v,
      channel: v.channel as ChannelEnum,
      permission: v.permission as GeoPermissionEnum,
      source: v.source as GeoPermissionSourceEnum,
      updatedAt: v.updatedAt === null ? null : new Date(v.updatedAt),
    });
  }
}

@InputType({ description: "One geo permission to set." })
export class GeoPermissionInput {
  @Field(() => String, { description: "ISO 3166-1 alpha-2 (e.g. NG), or 001 for non-geographic numbers." })
  country!: string;
  @Field(() => ChannelEnum, { description: "SMS or CALL." })
  channel!: ChannelEnum;
  @Field(() => GeoPermissionEnum, { description: "BLOCK, MONITOR or ALLOW." })
  permission!: GeoPermissionEnum;
}

@ObjectType({
  description:
    "A blocked number prefix: sends to numbers starting with it are refused with 60410. An automatic block of a whole country (level COUNTRY) holds the country's calling code and applies to that country's numbers only.",
})
export class BlockedPrefix {
  @Field(() => String, { description: "+ and digits, e.g. +2217; for a country's block, its calling code." })
  prefix!: string;
  @Field(() => String, { nullable: true, description: "A country's block: the country (ISO alpha-2). Null: every number under the prefix." })
  country!: string | null;
  @Field(() => ID, { nullable: true, description: "The service it applies to; null = every service." })
  serviceId!: string | null;
  @Field(() => PrefixBlockSourceEnum, { description: "MANUAL (admin) or AUTO (the SMS-pumping detector)." })
  source!: PrefixBlockSourceEnum;
  @Field(() => String, { description: "Why (for AUTO: the detector's figures)." })
  reason!: string;
  @Field(() => AutoBlockLevelEnum, { nullable: true, description: "AUTO: what the detector blocked, a PREFIX, a RANGE or a COUNTRY. Null for MANUAL blocks." })
  level!: AutoBlockLevelEnum | null;
  @Field(() => String, { nullable: true, description: "AUTO: the rule that fired (burst, sustained, range burst, country surge, …)." })
  rule!: string | null;
  @Field(() => [DetectorFigure], { nullable: true, description: "AUTO: the figures the rule judged on (its evidence)." })
  figures!: DetectorFigure[] | null;
  @Field(() => Date, { description: "When it was first set." })
  createdAt!: Date;
  @Field(() => Date, { description: "When it was last set or renewed." })
  updatedAt!: Date;
  @Field(() => Date, { nullable: true, description: "When it lapses; null = until lifted." })
  expiresAt!: Date | null;

  static from(r: BlockedPrefixRow): BlockedPrefix {
    return Object.assign(new BlockedPrefix(), {
      ...r,
      source: r.source as PrefixBlockSourceEnum,
      level: r.level as AutoBlockLevelEnum | null,
      figures: r.figures ? DetectorFigure.list(r.figures) : null,
      createdAt: new Date(r.createdAt),
      updatedAt: new Date(r.updatedAt),
      expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt),
    });
  }
}

@ObjectType({ description: "A service's fraud-guard settings." })
export class FraudSettings {
  @Field(() => ID, { description: "The service." })
  serviceId!: string;
  @Field(() => ProtectionLevelEnum, { description: "The SMS-pumping detector's protection level." })
  protectionLevel!: ProtectionLevelEnum;
  @Field(() => [String], { description: "Stages in shadow mode: they record what they would block (decision rows' shadow column) and let the request through." })
  shadowStages!: string[];
  @Field(() => [String], { description: "Stage names setShadowStages accepts." })
  shadowableStages!: string[];

  static from(v: FraudSettingsView): FraudSettings {
    return Object.assign(new FraudSettings(), { ...v, protectionLevel: v.protectionLevel as ProtectionLevelEnum });
  }
}
