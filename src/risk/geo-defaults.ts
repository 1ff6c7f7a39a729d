import type { GeoPermission } from "../store/fraud.js";
import type { Channel } from "../store/types.js";

/**
 * The geo key of numbers that belong to no country: libphonenumber's region "001" (CLDR's code for
 * "World"). Geo permissions take it like an ISO country code.
 */
export const NON_GEOGRAPHIC_COUNTRY = "001";

/**
 * The geo permissions a service starts with, before an admin changes any.
 *
 * Where the list comes from (a curated list, not an official one: no standards body or carrier
 * publishes "the SMS-pumping countries", and Twilio keeps its Fraud Guard data private):
 *   - Braze, "SMS country blocklist" (braze-docs, `_docs/_hidden/other/sms_country_blocklist.md`,
 *     permalink /sms_country_blocklist/): countries Braze does not send SMS to by default because they
 *     are "known to be high risk for traffic pumping" or under US embargo (57 entries).
 *   - Magic (magic.link) FAQ on SMS login: calling codes it blocks "due to heavy spam traffic from the
 *     region" (+7, +45, +53, +62, +84, +92, +94, +98, +221, +225, +231, +234, +243, +244, +249, +263,
 *     +291, +370, +375, +591, +670, +855, +870, +880, +881, +882, +883, +962, +963, +964, +968, +994,
 *     +996), as quoted in public client code.
 *   - Twilio's Verify docs and its "State of SMS pumping fraud" report name the pattern (pumping is
 *     concentrated in a few regions, Africa and the Middle East first, plus satellite and
 *     international-network ranges that Twilio's Voice geo permissions class as high risk), without
 *     a country list.
 *
 * The rule we apply: a country is blocked by default when BOTH vendor lists block it (two independent
 * operators reached the same conclusion; Braze writes Zimbabwe as "ZB", read here as ZW), plus the non-geographic codes (+800 UIFN, +870 Inmarsat,
 * +881 satellite, +882/+883 international networks), a classic toll-fraud target with no legitimate
 * OTP audience. Countries on only one list (e.g. KE, MA, SA, UA, UZ, RU/KZ) start at MONITOR, where the
 * pumping detector watches them. An admin opens a blocked country with `setGeoPermissions`.
 *
 * Neither list blocks any country of the large markets (US, CA, GB, FR, DE, ES, IT, BR, IN, JP, AU…).
 */
export const DEFAULT_BLOCKED_COUNTRIES: Readonly<Record<string, string>> = {
  AO: "Angola",
  AZ: "Azerbaijan",
  BD: "Bangladesh",
  CU: "Cuba",
  ID: "Indonesia",
  IQ: "Iraq",
  IR: "Iran",
  KG: "Kyrgyzstan",
  KH: "Cambodia",
  LK: "Sri Lanka",
  NG: "Nigeria",
  OM: "Oman",
  PK: "Pakistan",
  SD: "Sudan",
  SN: "Senegal",
  SY: "Syria",
  TL: "Timor-Leste",
  VN: "Vietnam",
  ZW: "Zimbabwe",
  // NON_GEOGRAPHIC_COUNTRY
  "001": "Non-geographic numbers (+800, +870, +881, +882, +883)",
};

/** What a destination gets when neither the default list nor an admin says otherwise. */
export const DEFAULT_PERMISSION: GeoPermission = "MONITOR";

/** The default permission of a destination; the same for SMS and CALL (voice is the other toll-fraud route). */
export function defaultGeoPermission(country: string, _channel: Channel): GeoPermission {
  return Object.hasOwn(DEFAULT_BLOCKED_COUNTRIES, country) ? "BLOCK" : DEFAULT_PERMISSION;
}
