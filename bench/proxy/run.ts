/**
 * @module bench/proxy/run
 * `npm run bench:proxy`: HTTP/1.1 proxy throughput and cost, weft beside its peers in one run.
 * Upstream: nginx returning a fixed 12-byte body (1 worker, core 0). Candidates, each pinned to core 1:
 * direct (no proxy), nginx as a keep-alive reverse proxy (1 process), node-http-proxy, weft (quick
 * mode, run through bin/weft.js, and the same bundled into one file with esbuild). Load: wrk on core 0, 32 connections, bounded runs, loopback only. Rounds are interleaved
 * so machine noise hits every candidate alike.
 *
 * mTLS rows: the sidecar's inbound leg — mTLS in (client certificate verified against the trust
 * bundle), plaintext to the upstream — for nginx and weft with the same SVIDs from weft's CA. wrk cannot
 * present a client certificate, so a front nginx on core 0 originates mTLS (keep-alive, session reuse)
 * for wrk's plaintext requests. The mTLS/plaintext CPU ratio compares each proxy with itself.
 * Writes bench/results/proxy-<date>.json and the "Proxy" section of docs/performance.md.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { createCertificateAuthority } from "../../control/ca/authority.ts";
import { generateKeyPair, privateKeyToPem } from "../../control/ca/keys.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const LOAD_CORE = "0";
const PROXY_CORE = "1";
const PORTS = {
  upstream: 18181, nginx: 18182, nodeHttpProxy: 18183, weft: 18184, weftBundled: 18185,
  nginxMtls: 18186, weftMtls: 18187, weftBundledMtls: 18188,
  // Front (mTLS-originating) ports for wrk, one per mTLS candidate.
  frontNginx: 18196, frontWeft: 18197, frontWeftBundled: 18198,
};
const MTLS = process.env.BENCH_MTLS !== "0";
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

function ensureTools(): void {
  const missing = ["nginx", "wrk"].filter((t) => !which(t));
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(", ")} (Debian packages)...`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", ...missing], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

function which(cmd: string): string | undefined {
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"]) if (existsSync(join(dir, cmd))) return join(dir, cmd);
  return undefined;
}

function nginxConf(dir: string, name: string, server: string, master: boolean): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, `worker_processes 1;
master_process ${master ? "on" : "off"};
daemon off;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}.err`)} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  ${server}
}
`);
  return file;
}

/** SVIDs for the mTLS rows, from weft's own CA: the proxies' server SVID, the front's client SVID, the bundle. */
async function writeCerts(dir: string): Promise<{ cert: string; key: string; clientCert: string; clientKey: string; bundle: string }> {
  const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
  const files = { cert: join(dir, "svid.crt"), key: join(dir, "svid.key"), clientCert: join(dir, "client.crt"), clientKey: join(dir, "client.key"), bundle: join(dir, "bundle.pem") };
  for (const [id, c, k] of [["spiffe://cluster.local/ns/bench/sa/proxy", files.cert, files.key], ["spiffe://cluster.local/ns/bench/sa/client", files.clientCert, files.clientKey]] as const) {
    const keys = await generateKeyPair();
    const s = await ca.issue({ spiffeId: id, publicKey: keys.publicKey });
    writeFileSync(c, s.chainPem.slice(0, 2).join(""));
    writeFileSync(k, await privateKeyToPem(keys.privateKey));
  }
  writeFileSync(files.bundle, ca.trustBundle().join(""));
  return files;
}

function weftMtlsConfig(dir: string, name: string, port: number, certs: Awaited<ReturnType<typeof writeCerts>>): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `listeners:
  - name: inbound
    address: 127.0.0.1:${port}
    tls: { secret: svid, alpn: ["http/1.1"] }
    http:
      virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: app } }] }]
clusters:
  - name: app
    endpoints: [127.0.0.1:${PORTS.upstream}]
secrets:
  - name: svid
    tlsCertificate: { certificateChainFile: ${certs.cert}, privateKeyFile: ${certs.key} }
    validationContext: { trustedCaFile: ${certs.bundle} }
`);
  return file;
}

function start(core: string, cmd: string, args: string[]): ChildProcess {
  const child = spawn("taskset", ["-c", core, cmd, ...args], { stdio: ["ignore", "ignore", "pipe"], cwd: root });
  child.stderr!.on("data", () => undefined);
  return child;
}

async function waitPort(port: number, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection(port, "127.0.0.1");
      s.on("connect", () => { s.destroy(); resolve(true); });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open`);
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
}

function toMs(v: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(v);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

interface Sample { rps: number; p50Ms: number; p99Ms: number; requests: number; cpuSecPer1k?: number; errors: number }

function wrk(port: number, seconds: number): Sample {
  const out = execFileSync("taskset", ["-c", LOAD_CORE, "wrk", "-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", `http://127.0.0.1:${port}/`], { encoding: "utf8" });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? "";
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? "";
  const errs = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = (errs ? Number(errs[1]) : 0) + (sock ? sock.slice(1).reduce((s, x) => s + Number(x), 0) : 0);
  return { rps, p50Ms: toMs(p50), p99Ms: toMs(p99), requests, errors };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  ensureTools();
  const dir = mkdtempSync(join(tmpdir(), "weft-bench-proxy-"));
  const procs: ChildProcess[] = [];
  const cleanup = () => { for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM"); };
  process.on("exit", cleanup);
  process.on("SIGINT", () => { cleanup(); process.exit(130); });
  try {
    const up = start(LOAD_CORE, which("nginx")!, ["-c", nginxConf(dir, "upstream", `server { listen 127.0.0.1:${PORTS.upstream}; keepalive_requests 100000000; location / { return 200 "hello world\\n"; } }`, false), "-p", dir]);
    procs.push(up);
    await waitPort(PORTS.upstream);

    const candidates: { name: string; port: number; pid?: number }[] = [{ name: "direct", port: PORTS.upstream }];
    const nginx = start(PROXY_CORE, which("nginx")!, ["-c", nginxConf(dir, "proxy", `upstream up { server 127.0.0.1:${PORTS.upstream}; keepalive 64; }
  server { listen 127.0.0.1:${PORTS.nginx}; keepalive_requests 100000000;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } }`, false), "-p", dir]);
    procs.push(nginx);
    candidates.push({ name: "nginx", port: PORTS.nginx, pid: nginx.pid });
    const nhp = start(PROXY_CORE, process.execPath, [join(root, "bench/proxy/node-http-proxy.mjs"), String(PORTS.nodeHttpProxy), String(PORTS.upstream)]);
    procs.push(nhp);
    candidates.push({ name: "node-http-proxy", port: PORTS.nodeHttpProxy, pid: nhp.pid });
    const weft = start(PROXY_CORE, process.execPath, [join(root, "bin/weft.js"), "proxy", "--listen", `127.0.0.1:${PORTS.weft}`, "--upstream", `http://127.0.0.1:${PORTS.upstream}`]);
    procs.push(weft);
    candidates.push({ name: "weft", port: PORTS.weft, pid: weft.pid });
    // The same proxy bundled into one JavaScript file: what a production image runs (no tsx loader).
    const bundle = join(dir, "weft.mjs");
    await build({
      entryPoints: [join(root, "bench/proxy/weft-entry.ts")], bundle: true, platform: "node", format: "esm", target: "node20", outfile: bundle, logLevel: "error",
      banner: { js: "import { createRequire as __weftRequire } from 'node:module'; const require = __weftRequire(import.meta.url);" },
    });
    const weftBundled = start(PROXY_CORE, process.execPath, [bundle, `127.0.0.1:${PORTS.weftBundled}`, `http://127.0.0.1:${PORTS.upstream}`]);
    procs.push(weftBundled);
    candidates.push({ name: "weft (bundled)", port: PORTS.weftBundled, pid: weftBundled.pid });
    if (MTLS) {
      const certs = await writeCerts(dir);
      const nginxMtls = start(PROXY_CORE, which("nginx")!, ["-c", nginxConf(dir, "proxy-mtls", `upstream up { server 127.0.0.1:${PORTS.upstream}; keepalive 64; }
  server { listen 127.0.0.1:${PORTS.nginxMtls} ssl; keepalive_requests 100000000;
    ssl_certificate ${certs.cert}; ssl_certificate_key ${certs.key};
    ssl_client_certificate ${certs.bundle}; ssl_verify_client on; ssl_verify_depth 3;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } }`, false), "-p", dir]);
      procs.push(nginxMtls);
      const weftMtls = start(PROXY_CORE, process.execPath, [join(root, "bin/weft.js"), "proxy", "--config", weftMtlsConfig(dir, "weft-mtls", PORTS.weftMtls, certs)]);
      procs.push(weftMtls);
      const weftBundledMtls = start(PROXY_CORE, process.execPath, [bundle, "--config", weftMtlsConfig(dir, "weft-bundled-mtls", PORTS.weftBundledMtls, certs)]);
      procs.push(weftBundledMtls);
      // The front: plaintext from wrk, mTLS (client SVID, pooled connections) to each candidate.
      const fronts = ([[PORTS.frontNginx, PORTS.nginxMtls], [PORTS.frontWeft, PORTS.weftMtls], [PORTS.frontWeftBundled, PORTS.weftBundledMtls]] as const)
        .map(([front, target]) => `upstream t${target} { server 127.0.0.1:${target}; keepalive 64; }
  server { listen 127.0.0.1:${front}; keepalive_requests 100000000;
    location / { proxy_pass https://t${target}; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ssl_certificate ${certs.clientCert}; proxy_ssl_certificate_key ${certs.clientKey}; proxy_ssl_session_reuse on; proxy_ssl_verify off; } }`).join("\n  ");
      const front = start(LOAD_CORE, which("nginx")!, ["-c", nginxConf(dir, "front", fronts, false), "-p", dir]);
      procs.push(front);
      for (const p of [PORTS.nginxMtls, PORTS.weftMtls, PORTS.weftBundledMtls]) await waitPort(p);
      candidates.push({ name: "nginx mTLS", port: PORTS.frontNginx, pid: nginxMtls.pid });
      candidates.push({ name: "weft mTLS", port: PORTS.frontWeft, pid: weftMtls.pid });
      candidates.push({ name: "weft (bundled) mTLS", port: PORTS.frontWeftBundled, pid: weftBundledMtls.pid });
    }
    for (const c of candidates) await waitPort(c.port);

    // Warm up (JIT, pools), then interleaved rounds.
    for (const c of candidates) wrk(c.port, 2);
    const samples = new Map<string, Sample[]>(candidates.map((c) => [c.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of candidates) {
        const before = c.pid ? cpuTicks(c.pid) : 0;
        const s = wrk(c.port, DURATION_S);
        if (c.pid) s.cpuSecPer1k = ((cpuTicks(c.pid) - before) / CLK_TCK) / (s.requests / 1000);
        samples.get(c.name)!.push(s);
        console.log(`round ${r + 1} ${c.name.padEnd(16)} ${s.rps.toFixed(0).padStart(7)} req/s  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms${s.cpuSecPer1k !== undefined ? `  cpu ${(s.cpuSecPer1k * 1000).toFixed(1)} ms/1k` : ""}${s.errors ? `  errors ${s.errors}` : ""}`);
      }
    }
    const nginxRps = samples.get("nginx")!.map((s) => s.rps);
    const results = candidates.map((c) => {
      const ss = samples.get(c.name)!;
      const ratios = ss.map((s, i) => s.rps / nginxRps[i]!);
      return {
        name: c.name,
        rps: Math.round(median(ss.map((s) => s.rps))),
        vsNginx: Math.round(median(ratios) * 100) / 100,
        p50Ms: Math.round(median(ss.map((s) => s.p50Ms)) * 100) / 100,
        p99Ms: Math.round(median(ss.map((s) => s.p99Ms)) * 100) / 100,
        cpuMsPer1kRequests: c.pid ? Math.round(median(ss.map((s) => s.cpuSecPer1k!)) * 100000) / 100 : undefined,
        peakRssMb: c.pid ? peakRssMb(c.pid) : undefined,
        errors: ss.reduce((n, s) => n + s.errors, 0),
        rounds: ss,
      };
    });
    const date = new Date().toISOString().slice(0, 10);
    const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "unknown";
    const nproc = execFileSync("nproc").toString().trim();
    const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    const report = {
      benchmark: "proxy-http1-plaintext",
      date: new Date().toISOString(),
      machine: { nproc: Number(nproc), cpu: cpuModel, node: process.version, loadavg: load },
      load: { tool: "wrk", connections: CONNECTIONS, threads: 1, seconds: DURATION_S, rounds: ROUNDS, body: "12 bytes", pinning: { loadAndUpstream: LOAD_CORE, proxy: PROXY_CORE } },
      peer: "nginx (1 process, keep-alive upstream)",
      results,
    };
    mkdirSync(join(root, "bench/results"), { recursive: true });
    const out = join(root, `bench/results/proxy-${date}.json`);
    writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
    console.log(`\nwrote ${out}`);
    writeDocs(report.machine, date, load, results);
  } finally {
    cleanup();
  }
}

function writeDocs(machine: { nproc: number; cpu: string; node: string }, date: string, load: string, results: { name: string; rps: number; vsNginx: number; p50Ms: number; p99Ms: number; cpuMsPer1kRequests?: number; peakRssMb?: number }[]): void {
  const file = join(root, "docs/performance.md");
  const rows = results.map((r) => `| ${r.name} | ${r.rps} | ${r.name === "direct" ? "—" : r.vsNginx.toFixed(2)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.cpuMsPer1kRequests?.toFixed(1) ?? "—"} | ${r.peakRssMb ?? "—"} |`);
  const cpu = (n: string) => results.find((r) => r.name === n)?.cpuMsPer1kRequests;
  const ratios = [["nginx", "nginx mTLS"], ["weft", "weft mTLS"], ["weft (bundled)", "weft (bundled) mTLS"]].flatMap(([plain, tls]) => {
    const a = cpu(plain!), b = cpu(tls!);
    return a && b ? [`${plain} ${(b / a).toFixed(2)}×`] : [];
  });
  const mtlsNote = ratios.length === 0 ? "" : `
mTLS rows: the sidecar's inbound leg (mTLS in with the client certificate verified against the trust
bundle, plaintext out), same SVIDs (weft's CA, P-256) for nginx and weft. wrk cannot present a client
certificate, so a front nginx on core ${LOAD_CORE} originates mTLS over kept-alive connections; the front's
own time is not in the candidate's CPU, but it shares core ${LOAD_CORE} with wrk and the upstream and limits these
rows' req/s: compare their CPU. Their "× nginx" compares with plaintext nginx. CPU per request,
mTLS / plaintext (target ≤ 1.3×): ${ratios.join(", ")}.
`;
  const section = `## Proxy

HTTP/1.1 plaintext, 12-byte body, \`wrk -t1 -c${CONNECTIONS}\`, ${ROUNDS} interleaved rounds of ${DURATION_S} s (medians; the
ratio is the median of per-round ratios to nginx). Upstream nginx and wrk on core ${LOAD_CORE}, each proxy alone on core
${PROXY_CORE} (\`taskset\`). CPU is the proxy process's user+system time per 1,000 requests (from \`/proc/<pid>/stat\`);
RSS is its peak (VmHWM). Run \`npm run bench:proxy\`; raw numbers in \`bench/results/proxy-${date}.json\`.

Measured ${date} on ${machine.nproc} × ${machine.cpu}, Node ${machine.node}, load average ${load} (a shared machine:
compare the ratios, not the absolute numbers).

| candidate | req/s | × nginx | p50 ms | p99 ms | CPU ms / 1k req | peak RSS MB |
|---|---|---|---|---|---|---|
${rows.join("\n")}
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

await main();
