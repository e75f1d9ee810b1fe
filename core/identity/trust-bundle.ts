/**
 * @module core/identity/trust-bundle
 * Trust bundles: the X.509 roots weft trusts, several per trust domain, because CA rotation keeps the old and
 * the new root side by side until every leaf signed by the old one has expired. A {@link TrustBundleSet} is an
 * immutable snapshot: every change returns a new set and leaves the old one as it was, so a published set can
 * be shared by the proxy's TLS verifier, the CA and the xDS server without locks. It reads PEM (one or many
 * certificates per string) and the SPIFFE bundle JSON format (a JWK set whose `x509-svid` entries carry one
 * `x5c` certificate each, plus `spiffe_sequence` and `spiffe_refresh_hint`), and writes both.
 *
 * Contract: sets, their bundle lists and root objects are frozen. `der` (a `Uint8Array`), the `Date`s and the
 * parsed `certificate` cannot be frozen by JavaScript; treat them as read-only.
 */
import { formatPath, z } from "../schema/index.ts";
import { BasicConstraintsExtension, X509Certificate } from "./x509.ts";
import { sha256, toHex } from "./sha256.ts";
import { validateTrustDomain } from "./spiffe.ts";

/** A bad PEM string, SPIFFE bundle document or fingerprint. `path` names the field of a bundle document. */
export class TrustBundleError extends Error {
  readonly path: string | undefined;
  constructor(message: string, path?: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = "TrustBundleError";
    this.path = path;
  }
}

/** One trusted root certificate. */
export interface TrustRoot {
  readonly trustDomain: string;
  /** SHA-256 of the DER encoding, lowercase hex without separators. */
  readonly fingerprint: string;
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Basic constraints say CA. */
  readonly isCa: boolean;
  /** One certificate, PEM, ending in a newline. */
  readonly pem: string;
  readonly der: Uint8Array<ArrayBuffer>;
  readonly certificate: X509Certificate;
}

/** The roots of one trust domain, oldest first, with the SPIFFE bundle metadata. */
export interface TrustDomainBundle {
  readonly trustDomain: string;
  readonly roots: readonly TrustRoot[];
  /** SPIFFE `spiffe_sequence`: taken from an imported document, otherwise raised by one on every change. */
  readonly sequence: number;
  /** SPIFFE `spiffe_refresh_hint`, in seconds, when known. */
  readonly refreshHintSeconds?: number;
}

/** A SPIFFE bundle document (RFC 7517 JWK set with SPIFFE members). */
export interface SpiffeBundleDocument {
  keys: Record<string, unknown>[];
  spiffe_sequence?: number;
  spiffe_refresh_hint?: number;
}

/** An immutable set of trust bundles keyed by trust domain. Every method that changes it returns a new set. */
export interface TrustBundleSet {
  /** Trust domains with a bundle (possibly empty: an empty bundle means "trust nothing from it"), sorted. */
  readonly trustDomains: readonly string[];
  /** Adds every certificate in `pem` to `trustDomain`'s roots; roots already present are kept once. */
  add(trustDomain: string, pem: string): TrustBundleSet;
  /** Removes the root with this SHA-256 fingerprint (hex, any case, colons allowed) from every trust domain. */
  remove(fingerprint: string): TrustBundleSet;
  /** Removes a trust domain and its roots. */
  withoutTrustDomain(trustDomain: string): TrustBundleSet;
  /** Removes roots whose `notAfter` is before `at` (default: the injected clock's now). */
  dropExpired(at?: Date): TrustBundleSet;
  /** Sets the refresh hint published for `trustDomain`. */
  withRefreshHint(trustDomain: string, seconds: number): TrustBundleSet;
  /** Replaces `trustDomain`'s roots with the `x509-svid` entries of a SPIFFE bundle (object or JSON text). */
  withSpiffeBundle(trustDomain: string, document: unknown): TrustBundleSet;
  /** The roots of `trustDomain`, oldest first (`[]` when unknown). */
  rootsFor(trustDomain: string): readonly TrustRoot[];
  /** The roots of `trustDomain` as one PEM string (`""` when none). */
  pemFor(trustDomain: string): string;
  /** The bundle of `trustDomain`, or `undefined`. */
  bundleFor(trustDomain: string): TrustDomainBundle | undefined;
  /** Every bundle, sorted by trust domain. */
  list(): readonly TrustDomainBundle[];
  /** The root with this fingerprint, in whichever trust domain it is. */
  find(fingerprint: string): TrustRoot | undefined;
  /** The SPIFFE bundle document for `trustDomain` (async: key parameters come from WebCrypto). */
  toSpiffeBundle(trustDomain: string): Promise<SpiffeBundleDocument>;
}

export interface TrustBundleSetOptions {
  /** The clock `dropExpired()` uses when given no date. Default: `() => new Date()`. */
  now?: () => Date;
}

interface Entry {
  roots: readonly TrustRoot[];
  sequence: number;
  refreshHintSeconds?: number;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: string, what: string, path?: string): Uint8Array<ArrayBuffer> {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) throw new TrustBundleError(`${what} is not valid base64`, path);
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function encodeBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Splits PEM text into certificate DER blobs, with errors that say which block is wrong. */
export function decodeCertificatePem(pem: string): Uint8Array<ArrayBuffer>[] {
  if (typeof pem !== "string") throw new TrustBundleError(`expected PEM text, got ${typeof pem}`);
  const out: Uint8Array<ArrayBuffer>[] = [];
  let n = 0;
  for (const m of pem.matchAll(PEM_BLOCK)) {
    n++;
    const [, begin, body = "", end] = m;
    if (begin !== end) throw new TrustBundleError(`PEM block ${n} begins as "${begin}" but ends as "${end}"`);
    if (begin !== "CERTIFICATE") {
      const hint = begin?.includes("PRIVATE KEY") ? "; private keys never belong in a trust bundle" : "";
      throw new TrustBundleError(`PEM block ${n} is a "${begin}", expected a "CERTIFICATE"${hint}`);
    }
    out.push(decodeBase64(body.replace(/\s+/g, ""), `PEM block ${n}`));
  }
  const begins = pem.split("-----BEGIN ").length - 1;
  if (begins > n) throw new TrustBundleError(`PEM block ${n + 1} has no matching "-----END" line`);
  if (n === 0) throw new TrustBundleError(`no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")`);
  return out;
}

function toRoot(trustDomain: string, der: Uint8Array<ArrayBuffer>, where: string, path?: string): TrustRoot {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (e) {
    throw new TrustBundleError(`${where} is not a valid X.509 certificate (${e instanceof Error ? e.message : String(e)})`, path);
  }
  const copy = der.slice();
  return Object.freeze({
    trustDomain,
    fingerprint: toHex(sha256(copy)),
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCa: cert.getExtension(BasicConstraintsExtension)?.ca ?? false,
    pem: `${cert.toString("pem").trimEnd()}\n`,
    der: copy,
    certificate: cert,
  });
}

/** Normalizes a SHA-256 fingerprint: lowercase hex, colons and spaces removed. */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = String(fingerprint).replace(/[:\s]/g, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TrustBundleError(`${JSON.stringify(fingerprint)} is not a SHA-256 fingerprint (64 hex digits)`);
  return hex;
}

const jwkSetSchema = z.looseObject({
  keys: z.array(z.unknown()),
  spiffe_sequence: z.number().int().nonnegative().optional(),
  spiffe_refresh_hint: z.number().int().nonnegative().optional(),
});

function parseDocument(trustDomain: string, document: unknown): { roots: TrustRoot[]; sequence?: number; refreshHintSeconds?: number } {
  let doc = document;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch (e) {
      throw new TrustBundleError(`the SPIFFE bundle is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  const parsed = jwkSetSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue && issue.path.length > 0 ? formatPath(issue.path) : undefined;
    throw new TrustBundleError(`invalid SPIFFE bundle: ${issue?.message ?? "not a JWK set"}`, path);
  }
  const roots: TrustRoot[] = [];
  parsed.data.keys.forEach((key, i) => {
    if (typeof key !== "object" || key === null || Array.isArray(key)) throw new TrustBundleError("a JWK must be an object", `keys[${i}]`);
    const jwk = key as Record<string, unknown>;
    // The SPIFFE specs say: ignore entries of another use, without a key type, or without x5c.
    if (jwk.use !== "x509-svid" || typeof jwk.kty !== "string") return;
    if (!Array.isArray(jwk.x5c) || jwk.x5c.length === 0) return;
    const first: unknown = jwk.x5c[0];
    const path = `keys[${i}].x5c[0]`;
    if (typeof first !== "string") throw new TrustBundleError("expected a base64 DER certificate", path);
    const root = toRoot(trustDomain, decodeBase64(first, "the certificate", path), "the certificate", path);
    if (!roots.some((r) => r.fingerprint === root.fingerprint)) roots.push(root);
  });
  return { roots, sequence: parsed.data.spiffe_sequence, refreshHintSeconds: parsed.data.spiffe_refresh_hint };
}

const KEY_MEMBERS: Record<string, string[]> = { EC: ["crv", "x", "y"], RSA: ["n", "e"], OKP: ["crv", "x"] };

async function toJwk(root: TrustRoot): Promise<Record<string, unknown>> {
  let jwk: JsonWebKey;
  try {
    jwk = await crypto.subtle.exportKey("jwk", await root.certificate.publicKey.export());
  } catch (e) {
    throw new TrustBundleError(`cannot express the key of root ${root.fingerprint} (${root.subject}) as a JWK: ${e instanceof Error ? e.message : String(e)}`);
  }
  const kty = jwk.kty ?? "";
  const out: Record<string, unknown> = { use: "x509-svid", kty };
  const members = jwk as Record<string, unknown>;
  for (const m of KEY_MEMBERS[kty] ?? []) if (members[m] !== undefined) out[m] = members[m];
  out.x5c = [encodeBase64(root.der)];
  return out;
}

function freezeBundle(trustDomain: string, e: Entry): TrustDomainBundle {
  return Object.freeze({ trustDomain, roots: e.roots, sequence: e.sequence, ...(e.refreshHintSeconds === undefined ? {} : { refreshHintSeconds: e.refreshHintSeconds }) });
}

function makeSet(entries: ReadonlyMap<string, Entry>, now: () => Date): TrustBundleSet {
  const change = (mutate: (draft: Map<string, Entry>) => boolean): TrustBundleSet => {
    const draft = new Map(entries);
    return mutate(draft) ? makeSet(draft, now) : set;
  };
  const replaceRoots = (draft: Map<string, Entry>, td: string, roots: readonly TrustRoot[]): void => {
    const old = draft.get(td) ?? { roots: [], sequence: 0 };
    draft.set(td, { ...old, roots: Object.freeze([...roots]), sequence: old.sequence + 1 });
  };
  const set: TrustBundleSet = {
    trustDomains: Object.freeze([...entries.keys()].sort()),
    add(trustDomain, pem) {
      validateTrustDomain(trustDomain);
      const ders = decodeCertificatePem(pem);
      const roots = ders.map((der, i) => toRoot(trustDomain, der, `PEM block ${i + 1}`));
      return change((draft) => {
        const existing = draft.get(trustDomain)?.roots ?? [];
        const merged = [...existing];
        for (const r of roots) if (!merged.some((m) => m.fingerprint === r.fingerprint)) merged.push(r);
        if (merged.length === existing.length && draft.has(trustDomain)) return false;
        replaceRoots(draft, trustDomain, merged);
        return true;
      });
    },
    remove(fingerprint) {
      const fp = normalizeFingerprint(fingerprint);
      return change((draft) => {
        let changed = false;
        for (const [td, e] of draft) {
          const kept = e.roots.filter((r) => r.fingerprint !== fp);
          if (kept.length !== e.roots.length) {
            replaceRoots(draft, td, kept);
            changed = true;
          }
        }
        return changed;
      });
    },
    withoutTrustDomain(trustDomain) {
      return change((draft) => draft.delete(trustDomain));
    },
    dropExpired(at = now()) {
      const t = at.getTime();
      return change((draft) => {
        let changed = false;
        for (const [td, e] of draft) {
          const kept = e.roots.filter((r) => r.notAfter.getTime() >= t);
          if (kept.length !== e.roots.length) {
            replaceRoots(draft, td, kept);
            changed = true;
          }
        }
        return changed;
      });
    },
    withRefreshHint(trustDomain, seconds) {
      validateTrustDomain(trustDomain);
      if (!Number.isInteger(seconds) || seconds < 0) throw new TrustBundleError(`the refresh hint must be a whole number of seconds, got ${seconds}`);
      return change((draft) => {
        const old = draft.get(trustDomain) ?? { roots: Object.freeze([]), sequence: 0 };
        draft.set(trustDomain, { ...old, refreshHintSeconds: seconds });
        return true;
      });
    },
    withSpiffeBundle(trustDomain, document) {
      validateTrustDomain(trustDomain);
      const doc = parseDocument(trustDomain, document);
      return change((draft) => {
        const old = draft.get(trustDomain);
        const entry: Entry = { roots: Object.freeze(doc.roots), sequence: doc.sequence ?? (old?.sequence ?? 0) + 1 };
        const hint = doc.refreshHintSeconds ?? old?.refreshHintSeconds;
        if (hint !== undefined) entry.refreshHintSeconds = hint;
        draft.set(trustDomain, entry);
        return true;
      });
    },
    rootsFor(trustDomain) {
      return entries.get(trustDomain)?.roots ?? Object.freeze([]);
    },
    pemFor(trustDomain) {
      return set.rootsFor(trustDomain).map((r) => r.pem).join("");
    },
    bundleFor(trustDomain) {
      const e = entries.get(trustDomain);
      return e && freezeBundle(trustDomain, e);
    },
    list() {
      return Object.freeze(set.trustDomains.map((td) => freezeBundle(td, entries.get(td) as Entry)));
    },
    find(fingerprint) {
      const fp = normalizeFingerprint(fingerprint);
      for (const e of entries.values()) {
        const hit = e.roots.find((r) => r.fingerprint === fp);
        if (hit) return hit;
      }
      return undefined;
    },
    async toSpiffeBundle(trustDomain) {
      const e = entries.get(trustDomain);
      if (!e) throw new TrustBundleError(`no bundle for trust domain ${JSON.stringify(trustDomain)}`);
      const keys = await Promise.all(e.roots.map(toJwk));
      const doc: SpiffeBundleDocument = { keys, spiffe_sequence: e.sequence };
      if (e.refreshHintSeconds !== undefined) doc.spiffe_refresh_hint = e.refreshHintSeconds;
      return doc;
    },
  };
  return Object.freeze(set);
}

/**
 * Creates an empty trust bundle set.
 * @example
 * let bundles = createTrustBundleSet();
 * bundles = bundles.add("cluster.local", rootPem);     // a new set; the empty one is unchanged
 * bundles = bundles.add("cluster.local", nextRootPem); // rotation: both roots are trusted
 * bundles.pemFor("cluster.local");                     // both, oldest first
 */
export function createTrustBundleSet(options: TrustBundleSetOptions = {}): TrustBundleSet {
  return makeSet(new Map(), options.now ?? (() => new Date()));
}
