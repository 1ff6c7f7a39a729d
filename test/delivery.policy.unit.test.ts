import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { DeliveryError } from "../src/delivery/channel.js";
import { backoffDelay, DEFAULT_RETRY } from "../src/delivery/retry.js";
import { openCode, sealCode } from "../src/delivery/seal.js";
import { toDeliveryError } from "../src/delivery/twilio-errors.js";
import { rewriteTwilioUrl } from "../src/delivery/twilio-http.js";

const SECRET = "unit-secret-0123456789abcdef0123456789abcdef";

/** Builds the SDK's own RestException from an HTTP answer, as `messages.create` rejects with it. */
const rest = (status: number, code?: number) => new twilio.RestException({ statusCode: status, body: code ? { code, message: "from Twilio", status } : null });

describe("Twilio errors: retry or give up", () => {
  it.each([
    [400, 21211],
    [400, 21614],
    [400, 21612],
    [400, 21408],
    [401, 20003],
    [404, 20404],
  ])("gives up on HTTP %i with Twilio code %i and keeps the code", (status, code) => {
    const e = toDeliveryError(rest(status, code));
    expect(e).toMatchObject({ retryable: false, errorCode: code, status });
  });

  it.each([429, 500, 502, 503, 504])("retries HTTP %i", (status) => {
    expect(toDeliveryError(rest(status, 20000 + status))).toMatchObject({ retryable: true, status });
  });

  it.each(["ECONNABORTED", "ETIMEDOUT", "ECONNRESET", "ECONNREFUSED"])("retries a request that got no answer (%s)", (code) => {
    const err = Object.assign(new Error("network"), { code });
    expect(toDeliveryError(err)).toMatchObject({ retryable: true, errorCode: null, status: null });
  });

  it("passes a DeliveryError through unchanged", () => {
    const own = new DeliveryError("no sender", false, 21603);
    expect(toDeliveryError(own)).toBe(own);
  });
});

describe("backoff", () => {
  it("doubles the ceiling per failure, caps it, and never waits less than half of it", () => {
    const low = () => 0;
    const high = () => 0.999999;
    expect([1, 2, 3, 4].map((n) => backoffDelay(DEFAULT_RETRY, n, low))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(DEFAULT_RETRY, n, high))).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(backoffDelay(DEFAULT_RETRY, 20, high)).toBe(DEFAULT_RETRY.maxDelayMs);
    expect(backoffDelay(DEFAULT_RETRY, 20, low)).toBe(DEFAULT_RETRY.maxDelayMs / 2);
  });
});

describe("sealed codes in delivery jobs", () => {
  it("opens what it sealed for the same job, and the sealed form does not contain the code", () => {
    const sealed = sealCode(SECRET, "DJ1", "407192");
    expect(sealed).not.toContain("407192");
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(openCode(SECRET, "DJ1", sealed)).toBe("407192");
  });

  it("seals the same code differently each time (fresh IV)", () => {
    expect(sealCode(SECRET, "DJ1", "407192")).not.toBe(sealCode(SECRET, "DJ1", "407192"));
  });

  it("refuses to open under another job id, another secret, or after tampering", () => {
    const sealed = sealCode(SECRET, "DJ1", "407192");
    expect(() => openCode(SECRET, "DJ2", sealed)).toThrow();
    expect(() => openCode(SECRET.replace("0", "1"), "DJ1", sealed)).toThrow();
    const [v, iv, tag, ct] = sealed.split(".");
    const flipped = ct![0] === "A" ? "B" + ct!.slice(1) : "A" + ct!.slice(1);
    expect(() => openCode(SECRET, "DJ1", [v, iv, tag, flipped].join("."))).toThrow();
  });
});

describe("TWILIO_API_BASE_URL routing", () => {
  it.each([
    ["https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json"],
    ["https://api.edge.us1.twilio.com/2010-04-01/Accounts/AC1/Calls.json", "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Calls.json"],
    ["https://verify.twilio.com:443/v2/Services", "http://127.0.0.1:9/v2/Services"],
    ["https://example.com/twilio.com/x", "https://example.com/twilio.com/x"],
    ["https://api.twilio.com.evil.test/x", "https://api.twilio.com.evil.test/x"],
  ])("rewrites %s to %s", (from, to) => {
    expect(rewriteTwilioUrl(from, "http://127.0.0.1:9/")).toBe(to);
  });

  it("keeps a path prefix of the base URL and leaves URLs alone without a base", () => {
    expect(rewriteTwilioUrl("https://api.twilio.com/2010-04-01/x", "https://staging.test/twilio")).toBe("https://staging.test/twilio/2010-04-01/x");
    expect(rewriteTwilioUrl("https://api.twilio.com/2010-04-01/x", null)).toBe("https://api.twilio.com/2010-04-01/x");
  });
});
