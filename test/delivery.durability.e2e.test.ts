import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { CHECK, CREATE_SERVICE, START, createCoreService, freshMobile, ok, queryDb, startServer, startVerification, type TestServer } from "./helpers/harness.js";
import { ensureBuilt, PROCESS_SECRET, spawnServer } from "./helpers/processes.js";
import { TwilioStandin, twilioEnv } from "./helpers/twilio-standin.js";

/**
 * The transactional outbox under crashes: a job committed with its verification is sent by whichever
 * process runs next, a send cut short by a killed process is taken over once its lease expires (with
 * the same idempotency token, so Twilio creates one message), and two workers never share a job.
 */
describe("durable delivery across crashes and instances", () => {
  const standin = new TwilioStandin();
  let dir: string;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    await standin.start();
    dir = mkdtempSync(join(tmpdir(), "vg-durable-"));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await standin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const boot = async (dbFile: string, opts: { worker?: boolean; clock?: ManualClock } = {}) => {
    const s = await startServer({ dbFile, clock: opts.clock, deliveryWorker: opts.worker, env: twilioEnv(standin, { CODE_SECRET: PROCESS_SECRET }) });
    servers.push(s);
    return s;
  };
  const jobsOf = (s: TestServer, verificationId: string) =>
    queryDb<{ status: string; attempts: number }>(s, "select status, attempts from delivery_jobs where verification_id = ?", verificationId);

  it("sends a job committed just before the process stopped, once, from the next start", async () => {
    const dbFile = join(dir, "commit-then-crash.db");
    const first = await boot(dbFile, { worker: false });
    const serviceId = await createCoreService(first);
    const to = freshMobile();
    const v = await startVerification(first, { serviceId, to });
    // Committed with the verification, not sent: this process "dies" before its worker ran.
    expect(jobsOf(first, v.id)).toEqual([{ status: "pending", attempts: 0 }]);
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    const before = standin.requests.length;

    const second = await boot(dbFile);
    await second.app.dispatcher.idle();
    expect(standin.requests.length - before).toBe(1);
    expect(standin.requests.at(-1)!.form.To).toBe(to);
    expect(jobsOf(second, v.id)).toEqual([{ status: "sent", attempts: 1 }]);
    await second.close();
    servers.splice(servers.indexOf(second), 1);

    // A third start finds nothing left to send.
    const third = await boot(dbFile);
    await third.app.dispatcher.idle();
    expect(standin.requests.length - before).toBe(1);
  });

  it("takes over a send whose process was killed mid-request, after its lease, and Twilio creates one message", async () => {
    ensureBuilt();
    const dbFile = join(dir, "killed-mid-send.db");
    standin.fail({ hang: true }); // Twilio receives the request; the answer never reaches the process
    const before = standin.requests.length;
    const createdBefore = standin.created.length;
    const proc = await spawnServer({ DATABASE_URL: `file:${dbFile}`, ...twilioEnv(standin) });
    const serviceId = ok(await proc.gql<{ createService: { id: string } }>(CREATE_SERVICE, { input: { friendlyName: "Acme" } })).createService.id;
    const to = freshMobile();
    const started = ok(await proc.gql<{ startVerification: { id: string } }>(START, { input: { serviceId, to, channel: "SMS", riskCheck: "DISABLE" } })).startVerification;
    await standin.waitForRequests(before + 1);

    // SIGKILL the server itself (the child of `timeout`): no shutdown hook, no last write.
    const nodePid = Number(execFileSync("pgrep", ["-P", String(proc.child.pid)], { encoding: "utf8" }).trim().split("\n")[0]);
    process.kill(nodePid, "SIGKILL");
    await proc.exited;

    // The dead worker's claim holds until its lease (30 s) runs out; the next instance waits for it.
    const clock = new ManualClock(Date.now());
    const next = await boot(dbFile, { clock });
    await next.app.dispatcher.idle();
    expect(standin.requests.length - before).toBe(1);
    clock.advance(31_000);
    await next.app.dispatcher.idle();

    const tries = standin.requests.slice(before);
    expect(tries).toHaveLength(2);
    expect(tries[1]!.idempotencyToken).toBe(tries[0]!.idempotencyToken);
    expect(standin.created.length - createdBefore).toBe(1);
    const message = standin.created.at(-1)!;
    expect(jobsOf(next, started.id)).toEqual([{ status: "sent", attempts: 2 }]);
    const [attempt] = await next.app.services.store.listSendAttempts(started.id);
    expect(attempt!.providerSid).toBe(message.sid);
    // And the one message carries the code the verification accepts.
    const code = /(\d{6})/.exec(message.body!)![1];
    const checked = ok(await next.gql<{ checkVerification: { status: string } }>(CHECK, { input: { serviceId, to, code } })).checkVerification;
    expect(checked.status).toBe("APPROVED");
  });

  it("never lets two instances on one database send the same job", async () => {
    const dbFile = join(dir, "two-workers.db");
    const writer = await boot(dbFile, { worker: false });
    const serviceId = await createCoreService(writer);
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push((await startVerification(writer, { serviceId, to: freshMobile() })).id);
    const before = standin.requests.length;
    const createdBefore = standin.created.length;

    // Two instances start together and race for the same 24 due jobs.
    const [a, b] = await Promise.all([boot(dbFile), boot(dbFile)]);
    await Promise.all([a.app.dispatcher.idle(), b.app.dispatcher.idle()]);

    const tries = standin.requests.slice(before);
    expect(tries).toHaveLength(24);
    expect(new Set(tries.map((r) => r.idempotencyToken)).size).toBe(24);
    expect(standin.created.length - createdBefore).toBe(24);
    const rows = queryDb<{ status: string; attempts: number }>(a, `select status, attempts from delivery_jobs where verification_id in (${ids.map(() => "?").join(",")})`, ...ids);
    expect(rows).toHaveLength(24);
    expect(rows.every((r) => r.status === "sent" && r.attempts === 1)).toBe(true);
  });
});
