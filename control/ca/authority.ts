/**
 * @module control/ca/authority
 * Weft's certificate authority: issues X.509 SVIDs for SPIFFE IDs — ECDSA P-256, URI SAN only (critical,
 * empty subject), key usage digitalSignature + keyEncipherment, EKU serverAuth + clientAuth, 24 h by
 * default — from an intermediate signed by a root (generated here or supplied). Root rotation keeps the
 * old root in the trust bundle for an overlap window. Runs on WebCrypto and @peculiar/x509 only, so the
 * same CA runs on Node, Deno and workerd. Time and randomness are injectable. CA certificates are built
 * with @peculiar/x509; SVIDs from a DER template (leaf-template.ts says why) and CSRs are read by
 * csr.ts, both on the hot path.
 *
 * Mutability contract: an authority holds its current signing chain and the bundle; `issue` is safe to
 * call concurrently; `rotateRoot` swaps the signing chain atomically (issues in flight finish with the
 * chain they started with).
 */
import * as x509 from "../../core/identity/x509.ts";
import { CsrError, describeKey, parseCsr, verifyCsr, type CsrKey } from "./csr.ts";
import { children, pem, readTlv } from "./der.ts";
import { generateKeyPair, privateKeyFromPem, privateKeyToPem, SIGN_ALG } from "./keys.ts";
import { createLeafTemplate, type LeafTemplate } from "./leaf-template.ts";

x509.cryptoProvider.set(crypto);

const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

export interface CaClock {
  now(): number;
}

export interface CaOptions {
  trustDomain: string;
  /** Default SVID lifetime (default 24 h). */
  svidTtlMs?: number;
  /** Root lifetime when generating (default 10 years); intermediate: 1 year. */
  rootTtlMs?: number;
  intermediateTtlMs?: number;
  /** Supplied root (PEM cert + PKCS#8 key); generated when absent. */
  root?: { certPem: string; keyPem: string };
  clock?: CaClock;
  /** 16 random bytes for serial numbers (injectable for tests). */
  random?: (n: number) => Uint8Array;
}

/** Serializable CA state for the durable store. */
export interface CaState {
  trustDomain: string;
  roots: { certPem: string; keyPem?: string; retireAt?: number }[];
  intermediate: { certPem: string; keyPem: string };
}

export interface IssuedSvid {
  spiffeId: string;
  certPem: string;
  /** Leaf first, root last (Istio's CreateCertificate order). */
  chainPem: string[];
  notBefore: number;
  notAfter: number;
  serial: string;
}

export interface IssueRequest {
  spiffeId: string;
  /** The workload's public key, or a PKCS#10 CSR (its signature is verified; its SANs are ignored). */
  publicKey?: CryptoKey;
  csrPem?: string;
  /**
   * Also accept CSR keys that Istio agents send: ECDSA P-384 and RSA of 2048 bits or more (pilot-agent's
   * default is RSA 2048). Without it a CSR key must be ECDSA P-256.
   */
  istioKeyTypes?: boolean;
  ttlMs?: number;
  /**
   * DNS names to add beside the SPIFFE ID. Only for serving certificates that runtimes verifying by host
   * name (Deno, workerd) must accept; mesh SVIDs stay URI-only.
   */
  dnsNames?: string[];
}

export class CaError extends Error {}

interface Chain {
  rootPem: string;
  intermediate: x509.X509Certificate;
  intermediatePem: string;
  intermediateKey: CryptoKey;
  leaves: LeafTemplate;
}

/** The Name DER of a certificate's subject, byte for byte as it is in the certificate. */
function subjectNameDer(certDer: Uint8Array): Uint8Array {
  const tbs = children(certDer, readTlv(certDer, 0))[0]!;
  const parts = children(certDer, tbs);
  const subject = parts[parts[0]!.tag === 0xa0 ? 5 : 4]!;
  return certDer.slice(subject.start, subject.end);
}

/** The extensions every SVID carries, encoded once per signing chain by @peculiar/x509 itself. */
export async function leafTemplateFor(intermediate: x509.X509Certificate, signingKey: CryptoKey): Promise<LeafTemplate> {
  const raw = (e: x509.Extension) => new Uint8Array(e.rawData);
  return createLeafTemplate({
    issuerName: subjectNameDer(new Uint8Array(intermediate.rawData)),
    before: [
      raw(new x509.BasicConstraintsExtension(false, undefined, true)),
      raw(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true)),
      raw(new x509.ExtendedKeyUsageExtension([OID_SERVER_AUTH, OID_CLIENT_AUTH])),
    ],
    after: [raw(await x509.AuthorityKeyIdentifierExtension.create(intermediate))],
    signingKey,
  });
}

function keyAllowed(key: CsrKey, istio: boolean): boolean {
  if (key.kind === "ec") return key.curve === "P-256" || istio;
  return istio && key.bits >= 2048;
}

function hex(bytes: Uint8Array): string {
  // Positive serial: clear the top bit.
  bytes[0] = bytes[0]! & 0x7f;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export interface CertificateAuthority {
  readonly trustDomain: string;
  issue(req: IssueRequest): Promise<IssuedSvid>;
  /** PEMs of every root currently trusted (new and retiring). */
  trustBundle(): string[];
  /** Generates a new root and intermediate; the old root stays trusted for `overlapMs`. */
  rotateRoot(overlapMs: number): Promise<void>;
  exportState(): Promise<CaState>;
}

/**
 * Creates (or restores, with `fromState`) a CA.
 * @example
 * const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
 * const svid = await ca.issue({ spiffeId: "spiffe://cluster.local/ns/default/sa/web", publicKey });
 */
export async function createCertificateAuthority(options: CaOptions, fromState?: CaState): Promise<CertificateAuthority> {
  const clock = options.clock ?? { now: () => Date.now() };
  const random = options.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const svidTtl = options.svidTtlMs ?? 24 * 3600_000;
  const rootTtl = options.rootTtlMs ?? 10 * 365 * 24 * 3600_000;
  const intTtl = options.intermediateTtlMs ?? 365 * 24 * 3600_000;
  const td = options.trustDomain;
  let roots: { certPem: string; keyPem?: string; retireAt?: number }[] = [];
  let chain: Chain;

  const newRoot = async (): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> => {
    const keys = await generateKeyPair();
    const now = clock.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: hex(random(16)),
      name: `O=weft, CN=weft root ${td}`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + rootTtl),
      signingAlgorithm: SIGN_ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: `spiffe://${td}` }]),
      ],
    });
    return { cert, keys };
  };

  const newIntermediate = async (rootCert: x509.X509Certificate, rootKey: CryptoKey): Promise<Chain> => {
    const keys = await generateKeyPair();
    const now = clock.now();
    const notAfter = Math.min(now + intTtl, rootCert.notAfter.getTime());
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: hex(random(16)),
      subject: `O=weft, CN=weft intermediate ${td}`,
      issuer: rootCert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(notAfter),
      signingAlgorithm: SIGN_ALG,
      publicKey: keys.publicKey,
      signingKey: rootKey,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(rootCert),
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: `spiffe://${td}` }]),
      ],
    });
    return { rootPem: rootCert.toString("pem") + "\n", intermediate: cert, intermediatePem: cert.toString("pem") + "\n", intermediateKey: keys.privateKey, leaves: await leafTemplateFor(cert, keys.privateKey) };
  };

  if (fromState) {
    if (fromState.trustDomain !== td) throw new CaError(`CA state is for trust domain ${fromState.trustDomain}, not ${td}`);
    roots = fromState.roots;
    const active = new x509.X509Certificate(fromState.intermediate.certPem);
    const issuerRoot = roots.find((r) => new x509.X509Certificate(r.certPem).subject === active.issuer);
    if (!issuerRoot) throw new CaError("CA state: no root issued the intermediate");
    const intermediateKey = await privateKeyFromPem(fromState.intermediate.keyPem);
    chain = { rootPem: issuerRoot.certPem, intermediate: active, intermediatePem: fromState.intermediate.certPem, intermediateKey, leaves: await leafTemplateFor(active, intermediateKey) };
  } else if (options.root) {
    const rootCert = new x509.X509Certificate(options.root.certPem);
    const bc = rootCert.getExtension(x509.BasicConstraintsExtension);
    if (!bc?.ca) throw new CaError("supplied root certificate is not a CA (basicConstraints cA is false)");
    const rootKey = await privateKeyFromPem(options.root.keyPem);
    chain = await newIntermediate(rootCert, rootKey);
    roots = [{ certPem: chain.rootPem, keyPem: options.root.keyPem }];
  } else {
    const r = await newRoot();
    chain = await newIntermediate(r.cert, r.keys.privateKey);
    roots = [{ certPem: chain.rootPem, keyPem: await privateKeyToPem(r.keys.privateKey) }];
  }

  const prune = () => {
    const now = clock.now();
    roots = roots.filter((r) => r.retireAt === undefined || r.retireAt > now);
  };

  return {
    trustDomain: td,
    async issue(req) {
      let uri: URL;
      try {
        uri = new URL(req.spiffeId);
      } catch {
        throw new CaError(`not a SPIFFE ID: ${req.spiffeId}`);
      }
      if (uri.protocol !== "spiffe:" || uri.host !== td) {
        throw new CaError(`SPIFFE ID ${req.spiffeId} is not in trust domain ${td}`);
      }
      let spki: Uint8Array;
      if (req.csrPem) {
        let csr;
        try {
          csr = parseCsr(req.csrPem);
        } catch (err) {
          if (!(err instanceof CsrError)) throw err;
          throw new CaError(`malformed CSR: ${err.message}`);
        }
        if (!keyAllowed(csr.key, req.istioKeyTypes === true)) {
          throw new CaError(`CSR key must be ECDSA P-256${req.istioKeyTypes ? ", ECDSA P-384 or RSA of at least 2048 bits" : ""}, got ${describeKey(csr.key)}`);
        }
        if (!(await verifyCsr(csr))) throw new CaError("CSR signature does not verify");
        spki = csr.spki;
      } else if (req.publicKey) {
        spki = new Uint8Array(await crypto.subtle.exportKey("spki", req.publicKey));
      } else {
        throw new CaError("a public key or a CSR is required");
      }
      const c = chain;
      const now = clock.now();
      const ttl = Math.min(req.ttlMs ?? svidTtl, c.intermediate.notAfter.getTime() - now);
      if (ttl <= 0) throw new CaError("the intermediate certificate has expired");
      const notBefore = now - 60_000; // tolerate clock skew between workloads
      const serialBytes = random(16);
      const serial = hex(serialBytes);
      let der: Uint8Array;
      try {
        der = await c.leaves.build({ serial: serialBytes, notBefore, notAfter: now + ttl, spki, uris: [req.spiffeId], ...(req.dnsNames ? { dnsNames: req.dnsNames } : {}) });
      } catch (err) {
        if (err instanceof TypeError) throw new CaError(err.message);
        throw err;
      }
      const certPem = pem(der, "CERTIFICATE");
      return { spiffeId: req.spiffeId, certPem, chainPem: [certPem, c.intermediatePem, c.rootPem], notBefore, notAfter: now + ttl, serial };
    },
    trustBundle() {
      prune();
      return roots.map((r) => r.certPem);
    },
    async rotateRoot(overlapMs) {
      const r = await newRoot();
      const next = await newIntermediate(r.cert, r.keys.privateKey);
      const retireAt = clock.now() + overlapMs;
      roots = [{ certPem: next.rootPem, keyPem: await privateKeyToPem(r.keys.privateKey) }, ...roots.map((x) => ({ ...x, retireAt: x.retireAt ?? retireAt }))];
      chain = next;
      prune();
    },
    async exportState() {
      return { trustDomain: td, roots, intermediate: { certPem: chain.intermediatePem, keyPem: await privateKeyToPem(chain.intermediateKey) } };
    },
  };
}

/**
 * When a workload should renew: at half of its SVID's life, with jitter of ±`jitterFraction` of the
 * lifetime (default 1 %) so a fleet issued together does not renew together.
 */
export function renewalTime(notBefore: number, notAfter: number, rand: () => number = Math.random, jitterFraction = 0.01): number {
  const life = notAfter - notBefore;
  return notBefore + life / 2 + (rand() * 2 - 1) * jitterFraction * life;
}
