import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { ADMIN_KEY, createCoreService, freshMobile, ok, startServer, startVerification, type TestServer } from "./helpers/harness.js";
import { TwilioStandin, twilioEnv } from "./helpers/twilio-standin.js";
import { WebhookReceiver } from "./helpers/webhook-receiver.js";
import { record, wsClient } from "./helpers/ws.js";

const SET = `mutation($s: ID!, $url: String!, $events: [WebhookEvent!]!) { setServiceWebhook(serviceId: $s, url: $url, events: $events) { secret } }`;
const ALERTS = `query($s: ID, $open: Boolean) { deliveryAlerts(serviceId: $s, open: $open) { id country channel metric open rate sends baseline baselineSends recoveredRate recoveredSends resolvedAt } }`;
const FEED = `subscription($s: ID!) { verificationEvents(serviceId: $s) { type country channel alert { alertId metric rate sends baseline } } }`;
const DAY = 86_400_000;

interface AlertView {
  id: string;
  country: string;
  channel: string;
  metric: string;
  open: boolean;
  rate: number;
  sends: number;
  baseline: number;
  baselineSends: number;
  recoveredRate: number | null;
  recoveredSends: number | null;
}

/**
 * Delivery-rate alerts: the Twilio stand-in's callbacks turn to `undelivered` for one country; the
 * delivered rate of that country falls under half its 7-day baseline and DELIVERY_DEGRADED is raised
 * (service feed, webhook, metric, admin query), once; when callbacks recover, DELIVERY_RECOVERED.
 */
describe("delivery-rate alerts", () => {
  const standin = new TwilioStandin();
  const receiver = new WebhookReceiver();
  const clock = new ManualClock(Date.now() - 3 * DAY);
  let s: TestServer;
  let serviceId: string;
  let fr = 0;

  /** One start to a number of `country`, and Twilio's callback with `status`. */
  const send = async (country: "GB" | "FR", status: "delivered" | "undelivered") => {
    const to = country === "GB" ? freshMobile() : `+3361${String(fr++).padStart(7, "0")}`;
    await startVerification(s, { serviceId, to });
    await s.app.dispatcher.idle();
    const resource = standin.created.find((r) => r.to === to)!;
    const res = await standin.statusCallback(s.url, resource, status === "delivered" ? { MessageStatus: "delivered" } : { MessageStatus: "undelivered", ErrorCode: "30003" });
    expect(res.status).toBe(204);
  };
  const sendMany = async (n: number, country: "GB" | "FR", status: "delivered" | "undelivered") => {
    for (let i = 0; i < n; i++) await send(country, status);
  };
  const alerts = async (open?: boolean) => ok(await s.gql<{ deliveryAlerts: AlertView[] }>(ALERTS, { s: serviceId, open })).deliveryAlerts;
  const openGauge = async (country: string) => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith("verify_guard_delivery_alerts_open{") && l.includes(`country="${country}"`) && l.includes(`service="${serviceId}"`));
    return line ? Number(line.split(" ").at(-1)) : 0;
  };

  beforeAll(async () => {
    await standin.start();
    await receiver.start();
    s = await startServer({ clock, env: twilioEnv(standin) });
    serviceId = await createCoreService(s);
    ok(await s.gql(SET, { s: serviceId, url: receiver.url, events: ["DELIVERY_ALERT"] }));
  });
  afterAll(async () => {
    await s?.close();
    await standin.close();
    await receiver.close();
  });

  it("raises DELIVERY_DEGRADED for the one country whose callbacks turned undelivered, and clears it on recovery", async () => {
    const c = wsClient(s, ADMIN_KEY);
    const feed = record<{ verificationEvents: { type: string; country: string | null; alert: { alertId: string; metric: string; rate: number; sends: number; baseline: number } | null } }>(c, FEED, { s: serviceId });
    await feed.waitFor(1);
    const alertEvents = () => feed.data().map((d) => d.verificationEvents).filter((e) => e.type.startsWith("DELIVERY_") && e.type !== "DELIVERY_STATUS");

    // The baseline: two days of healthy delivery to GB and FR.
    await sendMany(25, "GB", "delivered");
    await sendMany(25, "FR", "delivered");
    clock.advance(2 * DAY);
    expect((await s.app.alerts.evaluate()).raised).toEqual([]);

    // Now GB's callbacks say undelivered (30003); FR's stay delivered.
    await sendMany(22, "GB", "undelivered");
    await sendMany(22, "FR", "delivered");
    clock.advance(3 * 60_000); // past the settle time for callbacks
    const first = await s.app.alerts.evaluate();
    expect(first.raised.map((a) => [a.country, a.channel, a.metric])).toEqual([["GB", "SMS", "DELIVERED_RATE"]]);
    // A second evaluation (or another instance's) raises nothing new.
    expect((await s.app.alerts.evaluate()).raised).toEqual([]);

    const [open] = await alerts(true);
    expect(open).toMatchObject({ country: "GB", channel: "SMS", metric: "DELIVERED_RATE", open: true, rate: 0, sends: 22, baseline: 1, baselineSends: 25 });
    await expect.poll(() => alertEvents().map((e) => e.type)).toEqual(["DELIVERY_DEGRADED"]);
    expect(alertEvents()[0]).toMatchObject({ country: "GB", alert: { alertId: open!.id, metric: "DELIVERED_RATE", rate: 0, sends: 22, baseline: 1 } });
    expect(await openGauge("GB")).toBe(1);
    expect(await openGauge("FR")).toBe(0);
    await s.app.webhooks.idle();
    expect(receiver.types()).toEqual(["alert.delivery_degraded"]);

    // Recovery: the bad hour leaves the window, GB's callbacks are delivered again.
    clock.advance(2 * 3_600_000);
    await sendMany(21, "GB", "delivered");
    clock.advance(3 * 60_000);
    const second = await s.app.alerts.evaluate();
    expect(second.cleared.map((a) => a.id)).toEqual([open!.id]);
    expect(await alerts(true)).toEqual([]);
    const [past] = await alerts(false);
    expect(past).toMatchObject({ id: open!.id, open: false, rate: 0, baseline: 1, recoveredRate: 1, recoveredSends: 21 });
    await expect.poll(() => alertEvents().map((e) => e.type)).toEqual(["DELIVERY_DEGRADED", "DELIVERY_RECOVERED"]);
    expect(await openGauge("GB")).toBe(0);
    await s.app.webhooks.idle();
    expect(receiver.types()).toEqual(["alert.delivery_degraded", "alert.delivery_recovered"]);
    feed.unsubscribe();
    await c.dispose();
  }, 120_000);
});
