/**
 * @module bench/proxy/run
 * `npm run bench:proxy [-- --quick]`: HTTP/1.1 proxy throughput, added latency at a fixed rate, CPU and
 * memory, weft beside its peers in one run. Upstream: nginx returning a fixed 12-byte body (`/`) or 1 KB
 * (`/1k`), 1 worker, core 0. Candidates, each pinned to core 1: direct (no proxy), nginx as a keep-alive
 * reverse proxy (1 process), node-http-proxy, and weft through `bin/weft.js` (the esbuild bundle of the
 * CLI, raw-socket HTTP/1.1 listener), plus two weft variants that show what each change bought: the
 * node:http listener (`WEFT_HTTP1_SERVER=node`), the TypeScript sources under tsx (`WEFT_NO_BUNDLE=1`),
 * and V8's default young generation instead of the proxy's small one (`WEFT_V8_DEFAULTS=1`).
 * Load: wrk on core 0, loopback only. Rounds are interleaved so machine noise hits every candidate alike.
 *
 * Two phases: full speed (`wrk -c32`, req/s, CPU per 1,000 requests) and a constant 1,000 req/s
 * (`load.ts`: p50/p99, p99 added over direct, vCPU). mTLS rows: the sidecar's inbound leg — mTLS in
 * (client certificate verified against the trust bundle), plaintext to the upstream — for nginx and weft
 * with the same SVIDs from weft's CA. wrk cannot present a client certificate, so a front nginx on core 0
 * originates mTLS (keep-alive, session reuse) for wrk's plaintext requests; at the fixed rate the mTLS
 * rows fetch 1 KB. Writes bench/results/proxy-<date>.json and the "Proxy" section of docs/performance.md.
 */
import { type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createCertificateAuthority } from "../../control/ca/authority.ts";
import { generateKeyPair, privateKeyToPem } from "../../control/ca/keys.ts";
import { buildBundle } from "../../scripts/build-cli.mjs";
import { CLK_TCK, cpuTicks, ensureTools, median, nginxConf, peakRssMb, start, waitPort, which } from "./harness.ts";
import { rateScript, wrkMax, wrkRate, type LoadSample } from "./load.ts";
import { writeDocs, type Row } from "./report.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const QUICK = process.argv.includes("--quick");
const DURATION_S = Number(process.env.BENCH_SECONDS ?? (QUICK ? 5 : 10));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const LOAD_CORE = "0";
const PROXY_CORE = "1";
const PORTS = {
  upstream: 18181, nginx: 18182, nodeHttpProxy: 18183, weft: 18184, weftNodeHttp: 18185, weftTsx: 18189, weftV8: 18190,
  nginxMtls: 18186, weftMtls: 18187,
  // Front (mTLS-originating) ports for wrk, one per mTLS candidate.
  frontNginx: 18196, frontWeft: 18197,
};
const MTLS = process.env.BENCH_MTLS !== "0";
const ONE_KB = "x".repeat(1023) + "\n";

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

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
}

function weft(env: Record<string, string>, args: string[]): ChildProcess {
  const keep = { ...process.env };
  Object.assign(process.env, env);
  try {
    return start(PROXY_CORE, process.execPath, [join(root, "bin/weft.js"), "proxy", ...args]);
  } finally {
    for (const k of Object.keys(env)) {
      if (keep[k] === undefined) delete process.env[k];
      else process.env[k] = keep[k];
    }
  }
}

interface Candidate { name: string; port: number; pid?: number; rate?: "12B" | "1KB"; idleRssMb?: number }

async function main(): Promise<void> {
  ensureTools();
  // bin/weft.js runs the bundle only when it is fresh; build it now so no candidate falls back to tsx.
  if ((await buildBundle()) === undefined) throw new Error("could not bundle the CLI (scripts/build-cli.mjs); is esbuild installed?");
  const dir = mkdtempSync(join(tmpdir(), "weft-bench-proxy-"));
  const procs: ChildProcess[] = [];
  const cleanup = () => { for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM"); };
  process.on("exit", cleanup);
  process.on("SIGINT", () => { cleanup(); process.exit(130); });
  const nginx = which("nginx")!;
  const proxyTo = (port: number, ssl = "") => `upstream up { server 127.0.0.1:${PORTS.upstream}; keepalive 64; }
  server { listen 127.0.0.1:${port}${ssl ? " ssl" : ""}; keepalive_requests 100000000; ${ssl}
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } }`;
  try {
    procs.push(start(LOAD_CORE, nginx, ["-c", nginxConf(dir, "upstream", `server { listen 127.0.0.1:${PORTS.upstream}; keepalive_requests 100000000;
    location / { return 200 "hello world\\n"; } location /1k { return 200 "${ONE_KB.replace(/\n/, "\\n")}"; } }`, false), "-p", dir]));
    await waitPort(PORTS.upstream);

    const candidates: Candidate[] = [{ name: "direct", port: PORTS.upstream, rate: "12B" }];
    const add = (name: string, port: number, p: ChildProcess, rate?: Candidate["rate"]) => {
      procs.push(p);
      candidates.push({ name, port, pid: p.pid, ...(rate ? { rate } : {}) });
    };
    add("nginx", PORTS.nginx, start(PROXY_CORE, nginx, ["-c", nginxConf(dir, "proxy", proxyTo(PORTS.nginx), false), "-p", dir]), "12B");
    add("node-http-proxy", PORTS.nodeHttpProxy, start(PROXY_CORE, process.execPath, [join(root, "bench/proxy/node-http-proxy.mjs"), String(PORTS.nodeHttpProxy), String(PORTS.upstream)]), "12B");
    const quick = (port: number) => ["--listen", `127.0.0.1:${port}`, "--upstream", `http://127.0.0.1:${PORTS.upstream}`];
    add("weft", PORTS.weft, weft({}, quick(PORTS.weft)), "12B");
    add("weft, node:http listener", PORTS.weftNodeHttp, weft({ WEFT_HTTP1_SERVER: "node" }, quick(PORTS.weftNodeHttp)));
    add("weft, tsx (no bundle)", PORTS.weftTsx, weft({ WEFT_NO_BUNDLE: "1" }, quick(PORTS.weftTsx)));
    add("weft, V8 default nursery", PORTS.weftV8, weft({ WEFT_V8_DEFAULTS: "1" }, quick(PORTS.weftV8)));
    if (MTLS) {
      const certs = await writeCerts(dir);
      const nginxMtls = start(PROXY_CORE, nginx, ["-c", nginxConf(dir, "proxy-mtls", proxyTo(PORTS.nginxMtls, `ssl_certificate ${certs.cert}; ssl_certificate_key ${certs.key};
    ssl_client_certificate ${certs.bundle}; ssl_verify_client on; ssl_verify_depth 3;`), false), "-p", dir]);
      const weftMtls = weft({}, ["--config", weftMtlsConfig(dir, "weft-mtls", PORTS.weftMtls, certs)]);
      // The front: plaintext from wrk, mTLS (client SVID, pooled connections, session reuse) to each candidate.
      const fronts = ([[PORTS.frontNginx, PORTS.nginxMtls], [PORTS.frontWeft, PORTS.weftMtls]] as const)
        .map(([front, target]) => `upstream t${target} { server 127.0.0.1:${target}; keepalive 64; }
  server { listen 127.0.0.1:${front}; keepalive_requests 100000000;
    location / { proxy_pass https://t${target}; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ssl_certificate ${certs.clientCert}; proxy_ssl_certificate_key ${certs.clientKey}; proxy_ssl_session_reuse on; proxy_ssl_verify off; } }`).join("\n  ");
      procs.push(start(LOAD_CORE, nginx, ["-c", nginxConf(dir, "front", fronts, false), "-p", dir]));
      for (const p of [PORTS.nginxMtls, PORTS.weftMtls]) await waitPort(p);
      add("nginx mTLS", PORTS.frontNginx, nginxMtls, "1KB");
      add("weft mTLS", PORTS.frontWeft, weftMtls, "1KB");
    }
    for (const c of candidates) await waitPort(c.port);
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of candidates) if (c.pid) c.idleRssMb = rssMb(c.pid);

    const url = (c: Candidate, path = "/") => `http://127.0.0.1:${c.port}${path}`;
    // Warm up (JIT, pools), then interleaved rounds at full speed.
    for (const c of candidates) wrkMax(LOAD_CORE, url(c), 2, CONNECTIONS);
    const max = new Map<string, LoadSample[]>(candidates.map((c) => [c.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of candidates) {
        const before = c.pid ? cpuTicks(c.pid) : 0;
        const s = wrkMax(LOAD_CORE, url(c), DURATION_S, CONNECTIONS);
        if (c.pid) s.cpuSecPer1k = ((cpuTicks(c.pid) - before) / CLK_TCK) / (s.requests / 1000);
        max.get(c.name)!.push(s);
        console.log(`max  round ${r + 1} ${c.name.padEnd(26)} ${s.rps.toFixed(0).padStart(7)} req/s  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms${s.cpuSecPer1k !== undefined ? `  cpu ${(s.cpuSecPer1k * 1000).toFixed(1)} ms/1k` : ""}${s.errors ? `  errors ${s.errors}` : ""}  load ${loadavg()}`);
      }
    }
    // The same candidates held to RATE req/s.
    const script = rateScript(dir, RATE);
    const fixed = new Map<string, LoadSample[]>(candidates.filter((c) => c.rate).map((c) => [c.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of candidates) {
        if (!c.rate) continue;
        const before = c.pid ? cpuTicks(c.pid) : 0;
        const t0 = performance.now();
        const s = wrkRate(LOAD_CORE, url(c, c.rate === "1KB" ? "/1k" : "/"), DURATION_S, script);
        if (c.pid) s.vcpu = ((cpuTicks(c.pid) - before) / CLK_TCK) / ((performance.now() - t0) / 1000);
        fixed.get(c.name)!.push(s);
        console.log(`rate round ${r + 1} ${c.name.padEnd(26)} ${s.rps.toFixed(0).padStart(7)} req/s  p50 ${s.p50Ms.toFixed(3)} ms  p99 ${s.p99Ms.toFixed(3)} ms${s.vcpu !== undefined ? `  ${s.vcpu.toFixed(3)} vCPU` : ""}${s.errors ? `  errors ${s.errors}` : ""}`);
      }
    }

    const nginxRps = max.get("nginx")!.map((s) => s.rps);
    const direct = fixed.get("direct")!;
    const round2 = (x: number) => Math.round(x * 100) / 100;
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const rows: Row[] = candidates.map((c) => {
      const ss = max.get(c.name)!;
      const fs = fixed.get(c.name);
      return {
        name: c.name,
        rps: Math.round(median(ss.map((s) => s.rps))),
        vsNginx: round2(median(ss.map((s, i) => s.rps / nginxRps[i]!))),
        p50Ms: round2(median(ss.map((s) => s.p50Ms))),
        p99Ms: round2(median(ss.map((s) => s.p99Ms))),
        cpuMsPer1kRequests: c.pid ? round2(median(ss.map((s) => s.cpuSecPer1k!)) * 1000) : undefined,
        idleRssMb: c.idleRssMb,
        peakRssMb: c.pid ? peakRssMb(c.pid) : undefined,
        errors: [...ss, ...(fs ?? [])].reduce((n, s) => n + s.errors, 0),
        ...(fs ? {
          fixed: {
            body: c.rate!,
            rps: Math.round(median(fs.map((s) => s.rps))),
            p50Ms: round3(median(fs.map((s) => s.p50Ms))),
            p99Ms: round3(median(fs.map((s) => s.p99Ms))),
            // Added over direct, per round (same round, same machine state), then the median.
            addedP99Ms: c.rate === "12B" ? round3(median(fs.map((s, i) => s.p99Ms - direct[i]!.p99Ms))) : undefined,
            vcpuPer1kRps: c.pid ? round3(median(fs.map((s) => s.vcpu! * 1000 / s.rps))) : undefined,
          },
        } : {}),
        rounds: ss,
        fixedRounds: fs,
      };
    });
    const date = new Date().toISOString().slice(0, 10);
    const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "unknown";
    const machine = { nproc: cpus().length, cpu: cpuModel, node: process.version, loadavg: loadavg() };
    const report = {
      benchmark: "proxy-http1",
      date: new Date().toISOString(),
      machine,
      load: { tool: "wrk", connections: CONNECTIONS, threads: 1, seconds: DURATION_S, rounds: ROUNDS, fixedRate: RATE, body: "12 bytes (1 KB for mTLS at the fixed rate)", pinning: { loadAndUpstream: LOAD_CORE, proxy: PROXY_CORE } },
      peer: "nginx (1 process, keep-alive upstream)",
      results: rows,
    };
    mkdirSync(join(root, "bench/results"), { recursive: true });
    const out = join(root, `bench/results/proxy-${date}.json`);
    writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
    console.log(`\nwrote ${out}`);
    writeDocs(join(root, "docs/performance.md"), { ...machine, date, connections: CONNECTIONS, rounds: ROUNDS, seconds: DURATION_S, rate: RATE, loadCore: LOAD_CORE, proxyCore: PROXY_CORE }, rows);
  } finally {
    cleanup();
  }
}

function loadavg(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

await main();
