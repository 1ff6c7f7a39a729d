import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import type { ServiceRow } from "../../store/types.js";

@ObjectType({ description: "A verification service: one product or use case with its own settings." })
export class Service {
  @Field(() => ID, { description: "Twilio-shaped id: VA + 32 hex." })
  id!: string;
  @Field(() => String, { description: "Name shown in messages (e.g. 'Your Acme verification code is …')." })
  friendlyName!: string;
  @Field(() => Int, { description: "Digits in generated codes (4 to 10)." })
  codeLength!: number;
  @Field(() => Int, { description: "Seconds a code stays valid." })
  ttlSeconds!: number;
  @Field(() => Int, { description: "Wrong checks allowed per verification before MAX_ATTEMPTS_REACHED." })
  maxCheckAttempts!: number;
  @Field(() => Int, { description: "Sends (start + resends) allowed per verification." })
  maxSendAttempts!: number;
  @Field(() => Boolean, { description: "Whether startVerification may pass its own customCode." })
  customCodeEnabled!: boolean;
  @Field(() => Boolean, { description: "Refuse SMS to fixed lines (60205)." })
  skipSmsToLandlines!: boolean;
  @Field(() => Boolean, { description: "Whether the SMS channel is enabled." })
  smsEnabled!: boolean;
  @Field(() => Boolean, { description: "Whether the voice (CALL) channel is enabled." })
  callEnabled!: boolean;
  @Field(() => Boolean, { description: "Whether verifications show what is known of the number (lookup: country, line type)." })
  lookupEnabled!: boolean;
  @Field(() => Boolean, { description: "Whether starts may carry a PSD2 amount and payee (60200 otherwise)." })
  psd2Enabled!: boolean;
  @Field(() => Boolean, { description: "Whether SMS end with the localized 'do not share this code' warning." })
  doNotShareWarningEnabled!: boolean;
  @Field(() => String, { nullable: true, description: "Custom message template with {code}, {friendlyName}, {ttlMinutes}; null = built-in localized text." })
  smsTemplate!: string | null;
  @Field(() => Boolean, { description: "Starts must bring the user's consent (startVerification's `consent`), else CONSENT_REQUIRED." })
  requireConsent!: boolean;
  @Field(() => Date, { description: "When the service was created." })
  createdAt!: Date;
  @Field(() => Date, { description: "When the service was last changed." })
  updatedAt!: Date;

  /** The raw row, for field resolvers of later features (risk settings). */
  row!: ServiceRow;

  static from(row: ServiceRow): Service {
    return Object.assign(new Service(), {
      ...row,
      createdAt: new Date(row.createdAt),
      updatedAt: new Date(row.updatedAt),
      row,
    });
  }
}

@InputType({ description: "Settings of a new service; absent fields take Twilio's defaults." })
export class CreateServiceInput {
  @Field(() => String, { description: "1 to 30 characters, shown in messages." })
  friendlyName!: string;
  @Field(() => Int, { nullable: true, description: "4 to 10. Default 6." })
  codeLength?: number;
  @Field(() => Int, { nullable: true, description: "30 to 86400. Default 600." })
  ttlSeconds?: number;
  @Field(() => Int, { nullable: true, description: "Default 5." })
  maxCheckAttempts?: number;
  @Field(() => Int, { nullable: true, description: "Default 5." })
  maxSendAttempts?: number;
  @Field(() => Boolean, { nullable: true, description: "Default false." })
  customCodeEnabled?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Default false." })
  skipSmsToLandlines?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Default true." })
  smsEnabled?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Default true." })
  callEnabled?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Default true." })
  lookupEnabled?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Default false." })
  psd2Enabled?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Default true (Twilio's default is false)." })
  doNotShareWarningEnabled?: boolean;
  @Field(() => String, { nullable: true, description: "Must contain {code}." })
  smsTemplate?: string;
  @Field(() => Boolean, { nullable: true, description: "Refuse starts without consent evidence. Default false." })
  requireConsent?: boolean;
}

@InputType({ description: "Changes to a service; absent fields stay as they are." })
export class UpdateServiceInput {
  @Field(() => String, { nullable: true, description: "1 to 30 characters." })
  friendlyName?: string;
  @Field(() => Int, { nullable: true, description: "4 to 10." })
  codeLength?: number;
  @Field(() => Int, { nullable: true, description: "30 to 86400." })
  ttlSeconds?: number;
  @Field(() => Int, { nullable: true, description: "1 to 60." })
  maxCheckAttempts?: number;
  @Field(() => Int, { nullable: true, description: "1 to 60." })
  maxSendAttempts?: number;
  @Field(() => Boolean, { nullable: true, description: "Allow customCode at start." })
  customCodeEnabled?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Refuse SMS to fixed lines." })
  skipSmsToLandlines?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Enable the SMS channel." })
  smsEnabled?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Enable the CALL channel." })
  callEnabled?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Show what is known of the number on verifications." })
  lookupEnabled?: boolean;
  @Field(() => Boolean, { nullable: true, description: "Allow PSD2 amount and payee on starts." })
  psd2Enabled?: boolean;
  @Field(() => Boolean, { nullable: true, description: "End SMS with the do-not-share warning." })
  doNotShareWarningEnabled?: boolean;
  @Field(() => String, { nullable: true, description: "Must contain {code}." })
  smsTemplate?: string;
  @Field(() => Boolean, { nullable: true, description: "Refuse starts without consent evidence (CONSENT_REQUIRED)." })
  requireConsent?: boolean;
}
