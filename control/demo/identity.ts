/**
 * @module control/demo/identity
 * The mTLS wiring of the demo: each sidecar obtains its SVID the way a workload does — the operator
 * mints a one-time join token for the sidecar's SPIFFE ID through the admin API, the sidecar makes a
 * P-256 key and a CSR, and trades token and CSR at `POST /v1/ca/svid` for its certificate chain and the
 * trust bundle — and writes them as the files its proxy config's `svid` secret names.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as x509 from "../../core/identity/x509.ts";
import { generateKeyPair, privateKeyToPem, SIGN_ALG } from "../ca/keys.ts";
import type { SecretFiles } from "./sidecar-config.ts";

export interface SidecarIdentity extends SecretFiles {
  spiffeId: string;
  serial: string;
  notAfter: number;
}

async function postJson(url: string, token: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${new URL(url).pathname} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Mints a join token for `spiffeId` (admin token), then gets an SVID for a fresh key (join token), and
 * writes `svid.crt` (leaf + intermediate), `svid.key` and `bundle.pem` under `dir`.
 */
export async function obtainSidecarIdentity(adminUrl: string, adminToken: string, spiffeId: string, dir: string): Promise<SidecarIdentity> {
  const minted = await postJson(`${adminUrl}/v1/ca/join-tokens`, adminToken, { spiffeId, ttlSeconds: 300 });
  const joinToken = minted.token;
  if (typeof joinToken !== "string") throw new Error(`the join-token answer has no token: ${JSON.stringify(minted).slice(0, 200)}`);
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: SIGN_ALG,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }])],
  });
  const svid = await postJson(`${adminUrl}/v1/ca/svid`, joinToken, { csr: csr.toString("pem") });
  const chain = svid.chain as string[];
  const bundle = svid.trustBundle as string[];
  await mkdir(dir, { recursive: true });
  const files: SecretFiles = {
    certificateChainFile: join(dir, "svid.crt"),
    privateKeyFile: join(dir, "svid.key"),
    trustedCaFile: join(dir, "bundle.pem"),
  };
  // The chain ends with the root, which peers already trust from the bundle; send leaf + intermediate.
  await writeFile(files.certificateChainFile, chain.slice(0, Math.max(1, chain.length - 1)).join(""));
  await writeFile(files.privateKeyFile, await privateKeyToPem(keys.privateKey), { mode: 0o600 });
  await writeFile(files.trustedCaFile, bundle.join(""));
  return { ...files, spiffeId, serial: String(svid.serial), notAfter: Number(svid.notAfter) };
}
