/**
 * @module control/ui/page
 * The control plane's web page: one HTML document and one small script, served by the admin app at
 * `/ui` and `/ui/app.js`. The page holds no data; its script reads the admin token from the URL
 * fragment (`/ui#token=...`, never sent to the server) or a form, keeps it in sessionStorage, and
 * polls the admin API every few seconds for services, endpoint health, connected proxies (acked
 * versions, NACKs, certificate expiry) and the mesh graph, which it draws as SVG. Every value from the
 * API goes into the page through `textContent`, never as markup.
 */
import { Hono } from "hono";
import { UI_SCRIPT } from "./script.ts";

export const UI_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>weft control plane</title>
<link rel="icon" href="data:,">
<style>
  :root { --fg: #1d2330; --muted: #667085; --line: #d0d5dd; --ok: #12805c; --bad: #c4320a; --warn: #b54708; --bg: #f8f9fb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 12px 20px; background: #101828; color: #fff; }
  header h1 { margin: 0; font-size: 18px; }
  header #status { color: #d0d5dd; font-size: 13px; }
  main { display: grid; grid-template-columns: minmax(380px, 1fr) minmax(380px, 1fr); gap: 16px; padding: 16px 20px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; overflow: auto; }
  section.wide { grid-column: 1 / -1; }
  h2 { margin: 0 0 8px; font-size: 15px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaecf0; vertical-align: top; }
  th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; }
  .empty { color: var(--muted); font-style: italic; }
  .badge { display: inline-block; white-space: nowrap; padding: 0 6px; border-radius: 9px; font-size: 12px; font-weight: 600; }
  .healthy, .ok { background: #d1fadf; color: var(--ok); }
  .unhealthy, .nack, .deny { background: #fee4e2; color: var(--bad); }
  .draining, .unknown, .expiring { background: #fef0c7; color: var(--warn); }
  code { font-size: 12px; }
  #login { grid-column: 1 / -1; }
  #login input { width: 28em; padding: 4px 6px; }
  svg text { font-size: 11px; fill: var(--fg); paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
  .legend span { margin-right: 12px; font-size: 12px; color: var(--muted); }
</style>
</head>
<body>
<header><h1>weft control plane</h1><span id="status">loading…</span></header>
<main>
  <section id="login" hidden>
    <h2>Admin token</h2>
    <form id="login-form"><input id="token" type="password" autocomplete="off" placeholder="paste the admin token"> <button type="submit">Show the mesh</button></form>
    <p class="empty">Open this page as <code>/ui#token=…</code> (the URL <code>weft control</code> prints) or paste the token.</p>
  </section>
  <section id="services-section"><h2>Services</h2><table><thead><tr><th>service</th><th>hosts</th><th>ports</th><th>endpoints</th></tr></thead><tbody id="services"></tbody></table></section>
  <section id="endpoints-section"><h2>Endpoints</h2><table><thead><tr><th>service</th><th>address</th><th>health</th></tr></thead><tbody id="endpoints"></tbody></table></section>
  <section id="proxies-section" class="wide"><h2>Connected proxies</h2><table><thead><tr><th>node</th><th>connected</th><th>acked versions</th><th>last NACK</th><th>certificate expires</th></tr></thead><tbody id="proxies"></tbody></table></section>
  <section id="graph-section" class="wide"><h2>Mesh</h2>
    <div class="legend"><span>● service</span><span>■ proxy</span><span style="color:#12805c">→ allowed</span><span style="color:#c4320a">→ denied</span><span style="color:#98a2b3">— serves</span></div>
    <svg id="graph" width="100%" height="460" viewBox="0 0 900 460" role="img" aria-label="mesh graph"></svg>
  </section>
</main>
<script src="/ui/app.js"></script>
</body>
</html>
`;

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** `/ui` (the page) and `/ui/app.js` (its script). Public: neither holds any mesh data. */
export function createUiRoutes(): Hono {
  const app = new Hono();
  app.get("/", (c) => c.html(UI_HTML, 200, SECURITY_HEADERS));
  app.get("/app.js", (c) => c.body(UI_SCRIPT, 200, { ...SECURITY_HEADERS, "content-type": "text/javascript; charset=utf-8" }));
  return app;
}
