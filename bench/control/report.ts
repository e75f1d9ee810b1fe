/**
 * @module bench/control/report
 * Output of the control-plane benchmark: the plain-text table on stdout, the JSON file under
 * bench/results/, and the "## Control plane" section of docs/performance.md, replaced in place so
 * the other benchmarks' sections are left as they are.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Machine } from "../policy/report.ts";

interface IssueRun { issued: number; wallSec: number; cpuSec: number }

export interface ControlResult {
  date: string;
  machine: Machine;
  node: string;
  load: { before: number[]; after: number[] };
  load_: { services: number; endpoints: number; clients: number; deltaClients: number; warmup: number };
  convergence: {
    mode: "per-node" | "grouped"; clients: number; deltaClients: number; streamsAtServer: number; snapshots: number; changes: number;
    connectAllMs: number; convergeP50Ms: number; convergeP99Ms: number; convergeMaxMs: number;
    updateP50Ms: number; updateP99Ms: number; serverRssMb: number; serverPeakRssMb: number; serverCpuSec: number;
    clientResponses: number; clientMb: number; clientCpuSec: number; samplesMs: number[]; updateSamplesMs: number[];
    /** CPU per change (measured changes and warm-up, including the pauses between them). */
    serverCpuMsPerChange?: number; clientCpuMsPerChange?: number; serverHeapMb?: number;
  }[];
  /** `library*`: the previous issue path (bench/control/ca-baseline.ts), measured in the same run. */
  ca: { publicKey: IssueRun; csr: IssueRun; libraryPublicKey?: IssueRun; libraryCsr?: IssueRun; concurrency: number; peakRssMb: number };
  openssl: { signsPerSec: number; verifiesPerSec: number };
}

const int = (x: number): string => Math.round(x).toLocaleString("en-US");

function tables(r: ControlResult): string {
  const conv = [
    "| cache key | snapshots | changes | converge p50 ms | p99 ms | max ms | publish (update) p50 ms | p99 ms | control-plane CPU ms / change | clients' CPU ms / change | control-plane RSS MB (peak) |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...r.convergence.map((c) => `| ${c.mode === "per-node" ? "node id (default)" : "one key for all grpc nodes"} | ${c.snapshots} | ${c.changes} | ${c.convergeP50Ms} | ${c.convergeP99Ms} | ${c.convergeMaxMs} | ${c.updateP50Ms} | ${c.updateP99Ms} | ${c.serverCpuMsPerChange ?? "—"} | ${c.clientCpuMsPerChange ?? "—"} | ${c.serverRssMb} (${c.serverPeakRssMb}) |`),
  ];
  const rate = (x: IssueRun) => x.issued / x.wallSec;
  const perCpu = (x: IssueRun) => x.issued / x.cpuSec;
  const ca = [
    "| what | per second (wall, 1 core) | per CPU-second | × openssl sign |",
    "|---|---|---|---|",
    `| openssl speed ecdsap256, sign | ${int(r.openssl.signsPerSec)} | — | 1.00 |`,
    `| weft CA: SVID from a public key | ${int(rate(r.ca.publicKey))} | ${int(perCpu(r.ca.publicKey))} | ${(rate(r.ca.publicKey) / r.openssl.signsPerSec).toFixed(4)} |`,
    `| weft CA: SVID from a CSR (verified) | ${int(rate(r.ca.csr))} | ${int(perCpu(r.ca.csr))} | ${(rate(r.ca.csr) / r.openssl.signsPerSec).toFixed(4)} |`,
    ...(r.ca.libraryPublicKey && r.ca.libraryCsr ? [
      `| before (leaf built by @peculiar/x509): SVID from a public key | ${int(rate(r.ca.libraryPublicKey))} | ${int(perCpu(r.ca.libraryPublicKey))} | ${(rate(r.ca.libraryPublicKey) / r.openssl.signsPerSec).toFixed(4)} |`,
      `| before (leaf built by @peculiar/x509): SVID from a CSR | ${int(rate(r.ca.libraryCsr))} | ${int(perCpu(r.ca.libraryCsr))} | ${(rate(r.ca.libraryCsr) / r.openssl.signsPerSec).toFixed(4)} |`,
    ] : []),
  ];
  return `${conv.join("\n")}\n\n${ca.join("\n")}\n`;
}

function section(r: ControlResult, file: string): string {
  const l = r.load_;
  return `## Control plane

${int(l.services)} services, ${int(l.endpoints)} endpoints (one EDS cluster per service), ${l.clients} xDS clients as real gRPC
streams over HTTP/2 on loopback (${l.deltaClients} delta, the rest state of the world), each subscribed to CDS (wildcard) and to
the load assignment of every cluster, ACKing every response (a SotW ACK repeats all the names, as Envoy's and
gRPC's do). Control plane (publisher + xDS server, node profile \`grpc\`) alone in one process on core 1; the
clients in another process on core 0, speaking gRPC through \`bench/control/grpc-frames.ts\` (an ACK is a small
header plus the name list encoded once), so that the clients cost about what native ones would and the control
plane is what is measured. One change = one endpoint's port in one cluster; converge = from \`publisher.update\`
until the server has received every stream's ACK of the new EDS version (one clock, the server's); ${l.warmup}
warm-up changes dropped, 100 ms pause between changes. Cache key "node id" is the default (one cache entry per
node; nodes with the same profile share one snapshot object, "snapshots" counts distinct objects); "one key"
keys every \`grpc\` node to one entry (\`nodeHash\`). CPU per change = the process's CPU time over all changes
(pauses included) ÷ their number. RSS is the control-plane process after the changes (peak in brackets).
SVIDs: \`control/ca\` in its own process on core 1, 32 issues in flight, P-256 workload keys made
beforehand; \`openssl speed -seconds 3 ecdsap256\` on the same core in the same run. Run \`npm run bench:control\`;
raw numbers in \`${file}\`.

Measured ${r.date} on ${r.machine.nproc} × ${r.machine.cpuModel}, Node ${r.node}, load average ${r.load.before.join(" ")} (a shared
machine: compare ratios, not absolute numbers). Targets: converge p99 ≤ 100 ms; ≥ 2,000 SVIDs/s per core.

${tables(r)}
What makes an xDS change cheap (docs/control-plane.md, "How the xDS server pushes a change"): nodes with
the same profile share one snapshot, built once per update; each snapshot is derived from the previous one
and checked in proportion to the change; SotW responses for RDS, EDS and SDS carry only the resources whose
content changed for that stream; \`Any\`s are packed once per resource; SotW ACKs are read with
\`resource_names\` as bytes and their names decoded only when a subscription changes. Where the time goes
(CPU profile with \`BENCH_PROFILE=dir\`, 2026-11-22): about half is the ACKs — protobuf-es reading the
repeated 1,000-name lists, connect-es and HTTP/2 per message — and about a quarter GC; \`publisher.update\`
is ~8 ms.

SVIDs: leaf certificates are built from a DER template (\`control/ca/leaf-template.ts\`, byte-for-byte what
@peculiar/x509 builds, checked by its test) and CSRs read by \`control/ca/csr.ts\`; the "before" rows are the
previous path (@peculiar/x509 parses the CSR and builds and encodes the leaf; \`bench/control/ca-baseline.ts\`)
measured in the same run. What is left is WebCrypto itself: in a CPU profile of the CSR path, ECDSA sign and
verify take ~60 % and the P-256 key import ~10 %; weft's own DER work is under 5 %. CPU-seconds count all
threads (Node runs WebCrypto jobs on its thread pool), so "per CPU-second" is the per-core rate.
`;
}

export function writeReport(root: string, r: ControlResult): void {
  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const rel = `bench/results/control-${r.date}.json`;
  writeFileSync(join(root, rel), JSON.stringify(r, null, 2) + "\n");
  console.log(`\n${tables(r)}\nwrote ${rel}`);
  const doc = join(root, "docs", "performance.md");
  const text = existsSync(doc) ? readFileSync(doc, "utf8") : "# Performance\n";
  const body = section(r, rel);
  const start = text.indexOf("## Control plane");
  let next: string;
  if (start < 0) next = `${text.trimEnd()}\n\n${body}`;
  else {
    const after = text.indexOf("\n## ", start + 3);
    next = text.slice(0, start) + body + (after < 0 ? "" : `\n${text.slice(after + 1)}`);
  }
  writeFileSync(doc, next.endsWith("\n") ? next : `${next}\n`);
  console.log("updated docs/performance.md (## Control plane)");
}
