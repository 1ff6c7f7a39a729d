import { registerEnumType } from "type-graphql";

export enum ChannelEnum {
  SMS = "SMS",
  CALL = "CALL",
}
registerEnumType(ChannelEnum, { name: "Channel", description: "How the code is delivered." });

export enum VerificationStatusEnum {
  PENDING = "PENDING",
  APPROVED = "APPROVED",
  CANCELED = "CANCELED",
  MAX_ATTEMPTS_REACHED = "MAX_ATTEMPTS_REACHED",
  EXPIRED = "EXPIRED",
  FAILED = "FAILED",
}
registerEnumType(VerificationStatusEnum, {
  name: "VerificationStatus",
  description: "Lifecycle of a verification. Only PENDING moves; every other status is final.",
});

export enum RoleEnum {
  ADMIN = "ADMIN",
  CLIENT = "CLIENT",
}
registerEnumType(RoleEnum, { name: "Role", description: "ADMIN manages everything; CLIENT (publishable) may start, check and read verifications of one service." });

export enum RiskCheckEnum {
  ENABLE = "ENABLE",
  DISABLE = "DISABLE",
}
registerEnumType(RiskCheckEnum, { name: "RiskCheck", description: "DISABLE skips geo-permissions and the prefix guard for one start (admin keys only), as Twilio's RiskCheck does." });
