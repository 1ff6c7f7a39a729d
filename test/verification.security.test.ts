import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { maskPhone } from "../src/phone.js";
import {
  ADMIN_KEY,
  CHECK,
  createClientKey,
  createCoreService,
  freshMobile,
  latestCode,
  ok,
  startServer,
  startVerification,
  type TestServer,
} from "./helpers/harness.js";

/**
 * What an attacker with the database file, the logs or an API response must not learn: codes and
 * API keys are stored only as keyed/one-way hashes, the API never returns a code, and logs carry
 * masked numbers only.
 */
describe("verification security", () => {
  const logLines: string[] = [];
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ log: createLogger("debug", (line) => logLines.push(line)) });
  });
  afterAll(async () => s?.close());

  /** The raw bytes of the database: the main file plus its WAL and shared-memory files. */
  function rawDatabaseText(): string {
    return [s.dbFile, `${s.dbFile}-wal`, `${s.dbFile}-shm`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString("latin1"))
      .join("\n");
  }

  /** Every row of every table, read through a second connection, as JSON. */
  function allRowsText(): string {
    const db = new Database(s.dbFile, { readonly: true });
    try {
      const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["verifications", "send_attempts", "api_keys", "risk_decisions", "services"]));
      return tables.map((t) => JSON.stringify(db.prepare(`select * from "${t.name}"`).all())).join("\n");
    } finally {
      db.close();
    }
  }

  it("never holds a code in clear: not in any row of any table, nor anywhere in the raw file bytes", async () => {
    // Ten-digit codes: a chance match inside hex ids or hashes is ~1e-12, so a hit means a real leak.
    const generated = await createCoreService(s, { friendlyName: "Vault", codeLength: 10 });
    const custom = await createCoreService(s, { friendlyName: "Vault2", customCodeEnabled: true });
    const [to1, to2, to3] = [freshMobile(), freshMobile(), freshMobile()];
    await startVerification(s, { serviceId: generated, to: to1 });
    await startVerification(s, { serviceId: generated, to: to1 }); // a resend re-derives the code
    await startVerification(s, { serviceId: custom, to: to2, customCode: "5038172946" });
    await startVerification(s, { serviceId: generated, to: to3 });
    const code1 = await latestCode(s, to1);
    const code3 = await latestCode(s, to3);
    expect(code1).toMatch(/^\d{10}$/);
    // A wrong check and an approval: the code passes through the check path too.
    ok(await s.gql(CHECK, { input: { serviceId: generated, to: to3, code: code3.split("").reverse().join("") } }));
    ok(await s.gql(CHECK, { input: { serviceId: generated, to: to3, code: code3 } }));
    await s.app.dispatcher.idle();

    const rows = allRowsText();
    const raw = rawDatabaseText();
    // The scan can see: the numbers themselves are stored (in E.164) and are found.
    expect(rows).toContain(to1);
    expect(raw).toContain(to1);
    for (const code of [code1, "5038172946", code3]) {
      expect(rows).not.toContain(code);
      expect(raw).not.toContain(code);
    }
  });

  it("stores a keyed hash of the code (HMAC-SHA256, 64 hex) and the check still compares it", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Hash" });
    const to = freshMobile();
    const v = await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    const db = new Database(s.dbFile, { readonly: true });
    const row = db.prepare("select code_hash, code_seed from verifications where id = ?").get(v.id) as { code_hash: string; code_seed: string };
    db.close();
    expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
    // Not an unkeyed hash someone could brute-force from a dump: 10^6 SHA-256s would find those.
    expect(row.code_hash).not.toBe(createHash("sha256").update(code).digest("hex"));
    expect(row.code_hash).not.toBe(createHash("sha256").update(`${v.id}:${code}`).digest("hex"));
    expect(row.code_seed).toMatch(/^[0-9a-f]{32}$/);
  });

  it("stores API keys only as SHA-256 hashes: neither the admin key nor a client secret is in the file", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Keys" });
    const { id, secret } = await createClientKey(s, serviceId);
    const db = new Database(s.dbFile, { readonly: true });
    const row = db.prepare("select key_hash from api_keys where id = ?").get(id) as { key_hash: string };
    db.close();
    expect(row.key_hash).toBe(createHash("sha256").update(secret).digest("hex"));

    const raw = rawDatabaseText();
    const rows = allRowsText();
    for (const key of [secret, ADMIN_KEY, secret.slice("vg_pk_".length)]) {
      expect(raw).not.toContain(key);
      expect(rows).not.toContain(key);
    }
  });

  it("never returns a code: no field of Verification or VerificationCheck can carry one", async () => {
    const r = ok(
      await s.gql<{ v: { fields: { name: string }[] }; c: { fields: { name: string }[] } }>(
        `{ v: __type(name: "Verification") { fields { name } } c: __type(name: "VerificationCheck") { fields { name } } }`,
      ),
    );
    const names = [...r.v.fields, ...r.c.fields].map((f) => f.name.toLowerCase());
    expect(names).toContain("status");
    expect(names.filter((n) => n.includes("code") && n !== "sendcodeattempts")).toEqual([]);
  });

  it("logs numbers masked and never logs a code", async () => {
    const serviceId = await createCoreService(s, { friendlyName: "Logs" });
    const to = freshMobile();
    logLines.length = 0;
    await startVerification(s, { serviceId, to });
    const code = await latestCode(s, to);
    ok(await s.gql(CHECK, { input: { serviceId, to, code: "0000" } }));
    await s.app.dispatcher.idle();

    const logs = logLines.join("\n");
    expect(logs).toContain(maskPhone(to)); // the send was logged, with the number masked…
    expect(logs).not.toContain(to); // …and never in full
    expect(logs).not.toContain(to.slice(1));
    expect(logs).not.toContain(code);
  });
});
