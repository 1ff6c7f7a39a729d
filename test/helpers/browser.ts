import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

/**
 * A real Chromium for the page tests: Debian's package (`apt-get install -y chromium`, which .ci/run
 * does when it is missing), driven by playwright-core. No browser is downloaded.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // Root in a container (no sandbox), no GPU, and none of the background traffic this machine's
    // closed network refuses.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"],
  });
}

/**
 * Saves a screenshot: into VG_SCREENSHOTS when set (`npm run screenshots` sets docs/img, the README's
 * pictures), else a temp folder, so a test run never changes the checkout.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = process.env.VG_SCREENSHOTS ?? join(tmpdir(), "vg-screenshots");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Collects the WebSocket traffic of a page: the sockets opened and every frame sent and received. */
export function recordSockets(page: Page): { urls: string[]; sent: string[]; received: string[] } {
  const log = { urls: [] as string[], sent: [] as string[], received: [] as string[] };
  page.on("websocket", (ws) => {
    log.urls.push(ws.url());
    ws.on("framesent", (f) => log.sent.push(String(f.payload)));
    ws.on("framereceived", (f) => log.received.push(String(f.payload)));
  });
  return log;
}

/** Fails the test on any uncaught page error or console error (a CSP violation shows up here too). */
export function failOnPageErrors(page: Page, allow: RegExp[] = []): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !allow.some((re) => re.test(m.text()))) errors.push(`console: ${m.text()}`);
  });
  return errors;
}
