/**
 * @module bench/consul/report
 * Output of `npm run bench:consul`: a plain-text table on stdout, bench/results/consul-<date>.json, and the
 * "## Consul bridge" section of docs/performance.md (replaced in place; other sections are left alone).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Machine } from "../policy/report.ts";

export interface Stat {
  name: string;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  /** The same change seen by Consul's own mechanism (blocking query, or Consul's proxy), same run. */
  peerP50?: number;
  peerP99?: number;
}

export interface ConsulResult {
  date: string;
  machine: Machine;
  loadBefore: number[];
  loadAfter: number[];
  node: string;
  services: number;
  watches: number;
  registerSeconds: number;
  initialSyncSeconds: number;
  rows: Stat[];
  /** Intention samples where Consul's built-in proxy had not followed within 30 s (left out of its column). */
  consulProxyMisses: number;
}

const ms = (x: number | undefined) => (x === undefined ? "—" : x < 10 ? x.toFixed(2) : x.toFixed(1));

function markdown(r: ConsulResult): string {
  const lines = [
    "| change | samples | weft p50 ms | weft p99 ms | max ms | Consul's own p50 ms | Consul's own p99 ms |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...r.rows.map((s) => `| ${s.name} | ${s.samples} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} | ${ms(s.peerP50)} | ${ms(s.peerP99)} |`),
  ];
  return lines.join("\n");
}

const intentionChanges = (r: ConsulResult) => r.rows.filter((x) => x.name.includes("intention")).reduce((n, x) => n + x.samples, 0);

function section(r: ConsulResult): string {
  return `## Consul bridge

A real \`consul agent -dev\` (1.22.7) holding ${r.services.toLocaleString("en-US")} registered services (one instance and a TTL
check each) plus the mesh fixture of \`interop-tests/consul/\` (\`web\` behind Consul's built-in proxy, \`weft-api\`
behind a weft proxy), the bridge syncing both ways with ${r.watches.toLocaleString("en-US")} blocking queries open; agent, bridge,
proxies and driver share the machine, unpinned; the agent runs with \`limits { http_max_conns_per_client = ${r.services + 500} }\`
(Consul's default of 200 answers most of the bridge's blocking queries with 429; see docs/consul.md). One change at a time: an instance registered in (or a TTL check
flipped on) one of the services, timed from the HTTP call until weft's registry holds it; in the same run, a plain
blocking query on that service started at its current index ("Consul's own": the notification latency any Consul
client gets, with no weft logic). "routes to it": from the registration until a request through a weft proxy
(config rebuilt from the registry and applied) lands on the new instance. Intentions: \`service-intentions\` entries
written with \`PUT /v1/config\` (deny both ways) or deleted, until weft's proxy answers \`web → weft-api\` with 403
(200) and, as Consul's own, until Consul's built-in proxy refuses (admits) \`weft-api → web\`, each probe a new
connection. Consul's side was measured for ${intentionChanges(r) - r.consulProxyMisses} of ${intentionChanges(r)} intention changes: after a deletion its built-in
proxy kept refusing for more than 30 s (once for more than 2 min, after which its side was no longer probed) although
\`/v1/connect/intentions/check\` already allowed — its agent's authorization answer stayed stale; weft's side followed every change.
Registering the ${r.services.toLocaleString("en-US")} services took ${r.registerSeconds.toFixed(1)} s; the registry held all of them
${r.initialSyncSeconds.toFixed(2)} s after the last one. Run \`npm run bench:consul\`; raw numbers in
\`bench/results/consul-${r.date}.json\`.

Measured ${r.date} on ${r.machine.nproc} × ${r.machine.cpuModel}, Node ${r.node}, load average ${r.loadBefore.join(" ")} before,
${r.loadAfter.join(" ")} after (a shared machine: compare weft with Consul's own column, not absolute numbers).

${markdown(r)}

Context only, not a like-for-like anchor: HashiCorp's scale benchmark reports Consul's servers pushing a change
to 172,000 service instances in under a second; here the question is what weft adds on top of Consul's own
notification for one bridged datacenter.
`;
}

export function writeConsulReport(root: string, r: ConsulResult): void {
  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `consul-${r.date}.json`), JSON.stringify(r, null, 2) + "\n");
  console.log(`\n${markdown(r)}\n`);
  const doc = join(root, "docs", "performance.md");
  const text = existsSync(doc) ? readFileSync(doc, "utf8") : "# Performance\n";
  const start = text.indexOf("\n## Consul bridge\n");
  let next: string;
  if (start >= 0) {
    const after = text.indexOf("\n## ", start + 1);
    next = text.slice(0, start + 1) + section(r) + (after >= 0 ? text.slice(after) : "");
  } else {
    next = text.replace(/\n*$/, "\n\n") + section(r);
  }
  writeFileSync(doc, next);
  console.log(`wrote bench/results/consul-${r.date}.json and the "## Consul bridge" section of docs/performance.md`);
}
