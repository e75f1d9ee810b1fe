/**
 * @module bench/control/ca-bench
 * SVID issuance rate of control/ca, in its own process (pinned by the parent): a fresh CA, a pool of
 * workload public keys made beforehand, then `issue` called with `CONCURRENCY` requests in flight for
 * a fixed time — once with a public key (the SDS path), once with a PKCS#10 CSR (Istio's
 * CreateCertificate path: the CSR's signature is verified too), then both again through the previous,
 * library-built issue path (ca-baseline.ts) for a before/after in the same run. Prints one JSON line:
 * issued, wall seconds and process CPU seconds (all threads) per mode.
 */
import * as x509 from "../../core/identity/x509.ts";
import { createCertificateAuthority, type IssueRequest } from "../../control/ca/authority.ts";
import { generateKeyPair, SIGN_ALG } from "../../control/ca/keys.ts";
import { createLibraryIssuer } from "./ca-baseline.ts";

const SECONDS = Number(process.argv[2] ?? 5);
const CONCURRENCY = 32;
const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
const keys = await Promise.all(Array.from({ length: 64 }, () => generateKeyPair()));
const csrs = await Promise.all(keys.map(async (k, i) => (await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=w${i}`, keys: k, signingAlgorithm: SIGN_ALG })).toString("pem")));

const library = await createLibraryIssuer(await ca.exportState());
type Issue = (req: IssueRequest) => Promise<string>;
const templated: Issue = async (req) => (await ca.issue(req)).certPem;

async function run(seconds: number, make: (i: number) => IssueRequest, issue: Issue = templated): Promise<{ issued: number; wallSec: number; cpuSec: number }> {
  let issued = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const until = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const certPem = await issue(make(issued));
      if (!certPem.startsWith("-----BEGIN CERTIFICATE-----")) throw new Error("bad certificate");
      issued++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const wallSec = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { issued, wallSec, cpuSec: (cpu.user + cpu.system) / 1e6 };
}

const id = (i: number) => `spiffe://cluster.local/ns/bench/sa/w${i % 1000}`;
await run(1, (i) => ({ spiffeId: id(i), publicKey: keys[i % keys.length]!.publicKey })); // warm-up (JIT)
const publicKey = await run(SECONDS, (i) => ({ spiffeId: id(i), publicKey: keys[i % keys.length]!.publicKey }));
const csr = await run(SECONDS, (i) => ({ spiffeId: id(i), csrPem: csrs[i % csrs.length]! }));
await run(1, (i) => ({ spiffeId: id(i), publicKey: keys[i % keys.length]!.publicKey }), library); // warm-up
const libraryPublicKey = await run(SECONDS, (i) => ({ spiffeId: id(i), publicKey: keys[i % keys.length]!.publicKey }), library);
const libraryCsr = await run(SECONDS, (i) => ({ spiffeId: id(i), csrPem: csrs[i % csrs.length]! }), library);
const m = /VmHWM:\s+(\d+) kB/.exec(await (await import("node:fs/promises")).readFile("/proc/self/status", "utf8"));
console.log(JSON.stringify({ publicKey, csr, libraryPublicKey, libraryCsr, concurrency: CONCURRENCY, peakRssMb: m ? Math.round(Number(m[1]) / 102.4) / 10 : 0 }));
