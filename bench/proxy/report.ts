/**
 * @module bench/proxy/report
 * Writes the "Proxy" section of docs/performance.md from one `bench:proxy` run: the full-speed table
 * (req/s, ratio to nginx, latency, CPU per 1,000 requests, idle and peak RSS), the fixed-rate table
 * (p50/p99, p99 added over direct, vCPU per 1,000 req/s) and the mTLS/plaintext CPU ratios.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { LoadSample } from "./load.ts";

export interface Row {
  name: string;
  rps: number;
  vsNginx: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPer1kRequests?: number;
  idleRssMb?: number;
  peakRssMb?: number;
  errors: number;
  fixed?: { body: string; rps: number; p50Ms: number; p99Ms: number; addedP99Ms?: number; vcpuPer1kRps?: number };
  rounds: LoadSample[];
  fixedRounds?: LoadSample[];
}

export interface RunInfo {
  date: string;
  nproc: number;
  cpu: string;
  node: string;
  loadavg: string;
  connections: number;
  rounds: number;
  seconds: number;
  rate: number;
  loadCore: string;
  proxyCore: string;
}

const dash = (v: number | undefined, digits: number) => (v === undefined ? "—" : v.toFixed(digits));

export function writeDocs(file: string, run: RunInfo, rows: Row[]): void {
  const max = rows.map((r) => `| ${r.name} | ${r.rps} | ${r.name === "direct" ? "—" : r.vsNginx.toFixed(2)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${dash(r.cpuMsPer1kRequests, 1)} | ${dash(r.idleRssMb, 1)} | ${dash(r.peakRssMb, 1)} |`);
  const fixed = rows.filter((r) => r.fixed).map((r) => {
    const f = r.fixed!;
    return `| ${r.name} | ${f.body} | ${f.rps} | ${f.p50Ms.toFixed(3)} | ${f.p99Ms.toFixed(3)} | ${r.name === "direct" ? "—" : dash(f.addedP99Ms, 3)} | ${dash(f.vcpuPer1kRps, 3)} |`;
  });
  const cpu = (n: string) => rows.find((r) => r.name === n)?.cpuMsPer1kRequests;
  const ratios = [["nginx", "nginx mTLS"], ["weft", "weft mTLS"]].flatMap(([plain, tls]) => {
    const a = cpu(plain!), b = cpu(tls!);
    return a && b ? [`${plain} ${(b / a).toFixed(2)}×`] : [];
  });
  const mtlsNote = ratios.length === 0 ? "" : `
mTLS rows: the sidecar's inbound leg (mTLS in with the client certificate verified against the trust
bundle, plaintext out), same SVIDs (weft's CA, P-256) for nginx and weft. wrk cannot present a client
certificate, so a front nginx on core ${run.loadCore} originates mTLS over kept-alive connections with session reuse;
the front's own time is not in the candidate's CPU, but it shares core ${run.loadCore} with wrk and the upstream and
limits these rows' req/s: compare their CPU. Their "× nginx" compares with plaintext nginx. CPU per
request at full speed, mTLS / plaintext (target ≤ 1.3×): ${ratios.join(", ")}.
`;
  const section = `## Proxy

HTTP/1.1, 12-byte body. Upstream nginx and wrk on core ${run.loadCore}, each proxy alone on core ${run.proxyCore}
(\`taskset\`); ${run.rounds} interleaved rounds of ${run.seconds} s per phase (medians; the ratio is the median of
per-round ratios to nginx). "weft" is \`bin/weft.js\` as shipped: the esbuild bundle of the CLI and the
raw-socket HTTP/1.1 listener (llhttp) and a 1 MB V8 nursery; the variants below it undo one change each:
the previous node:http listener (\`WEFT_HTTP1_SERVER=node\`), the TypeScript sources under tsx
(\`WEFT_NO_BUNDLE=1\`), V8's default nursery of up to 16 MB semi-spaces (\`WEFT_V8_DEFAULTS=1\`).
CPU is the proxy process's user+system time (\`/proc/<pid>/stat\`); idle RSS is VmRSS after start,
peak RSS is VmHWM after both phases. Run \`npm run bench:proxy\` (\`-- --quick\` for 2 rounds of 5 s);
raw numbers in \`bench/results/proxy-${run.date}.json\`.

Measured ${run.date} on ${run.nproc} × ${run.cpu}, Node ${run.node}, load average ${run.loadavg} at the end
(a shared machine, not quiet: compare the ratios, not the absolute numbers).

Full speed (\`wrk -t1 -c${run.connections}\`):

| candidate | req/s | × nginx | p50 ms | p99 ms | CPU ms / 1k req | idle RSS MB | peak RSS MB |
|---|---|---|---|---|---|---|---|
${max.join("\n")}

Fixed rate: ${run.rate} req/s from wrk held to a constant schedule (\`bench/proxy/load.ts\`: a Lua
\`delay()\` over 16 connections; wrk2 is not in Debian). "added p99" is the candidate's p99 minus direct's in
the same round (median over rounds); vCPU is the proxy's CPU seconds per second, scaled to 1,000 req/s.
The mTLS rows fetch 1 KB through the mTLS front, so their latency includes the front's hop.

| candidate | body | req/s | p50 ms | p99 ms | added p99 ms | vCPU per 1,000 req/s |
|---|---|---|---|---|---|---|
${fixed.join("\n")}
${mtlsNote}`;
  let doc = existsSync(file) ? readFileSync(file, "utf8") : "# Performance\n\nLatest benchmark results. Method and targets: see the design notes on performance.\n";
  const start = doc.indexOf("\n## Proxy\n");
  if (start !== -1) {
    const next = doc.indexOf("\n## ", start + 1);
    doc = doc.slice(0, start + 1) + section + (next === -1 ? "" : doc.slice(next));
  } else doc = doc.trimEnd() + "\n\n" + section;
  writeFileSync(file, doc);
  console.log(`updated ${file}`);
}
