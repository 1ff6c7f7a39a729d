import type { PageSpec } from "./html.js";

/**
 * The admin dashboard (/admin, web/admin/main.ts): asks for an admin key, then draws what the existing
 * admin queries answer (fraudStats by hour, day, country and stage; top blocked prefixes with the
 * active blocks to lift; money saved) and a live feed from `verificationEvents`. The key stays in the
 * tab (sessionStorage) and goes out only as the Authorization header to this server.
 */
export function adminPage(): PageSpec {
  return {
    page: "admin",
    title: "verify-guard admin",
    config: {},
    body: `<header class="bar">
  <h1>verify-guard</h1>
  <form id="key-form" class="key-form">
    <label for="admin-key">Admin API key</label>
    <input id="admin-key" name="key" type="password" autocomplete="off" spellcheck="false" required placeholder="vg_admin_…">
    <button type="submit" name="connect">Open dashboard</button>
  </form>
  <div id="toolbar" class="toolbar" hidden>
    <label for="service">Service</label>
    <select id="service" name="service"><option value="">All services</option></select>
    <button type="button" name="refresh">Refresh</button>
    <button type="button" name="forget" class="secondary">Forget key</button>
  </div>
</header>
<p class="error" id="error" role="alert"></p>
<main id="dashboard" hidden>
  <section class="tiles" aria-label="Last 30 days">
    <div class="tile"><h2>Sends</h2><p id="t-sends">–</p></div>
    <div class="tile"><h2>Blocked</h2><p id="t-blocked">–</p></div>
    <div class="tile"><h2>Conversion</h2><p id="t-conversion">–</p></div>
    <div class="tile"><h2>Money saved</h2><p id="t-saved">–</p></div>
  </section>
  <section class="panel wide"><h2>Sends and blocks, last 48 hours (by hour)</h2><div class="chart" id="c-hour"></div></section>
  <section class="panel wide"><h2>Sends and blocks, last 30 days (by day)</h2><div class="chart" id="c-day"></div></section>
  <section class="panel"><h2>Blocks by country</h2><div class="chart" id="c-country"></div></section>
  <section class="panel"><h2>Blocks by stage</h2><div class="chart" id="c-stage"></div></section>
  <section class="panel"><h2>Conversion by country</h2><div class="chart" id="c-conversion"></div></section>
  <section class="panel"><h2>Top blocked prefixes</h2><table id="prefixes"><thead><tr><th scope="col">Prefix</th><th scope="col">Country</th><th scope="col">Blocked</th><th scope="col">Saved</th><th scope="col">Block</th></tr></thead><tbody></tbody></table></section>
  <section class="panel wide"><h2>Live feed</h2><p class="hint" id="feed-state">Connecting…</p><ol id="feed" class="feed"></ol></section>
</main>`,
  };
}
