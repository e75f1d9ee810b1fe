/**
 * @module control/ca/csr
 * Reads and verifies PKCS#10 certificate requests for the CA's hot path: the subject public key (its
 * SubjectPublicKeyInfo bytes, copied verbatim into the certificate), the SANs asked for, and the
 * signature, verified with WebCrypto. A P-256 key is imported from its raw point, which costs a third
 * of a SubjectPublicKeyInfo import in Node's WebCrypto. Keys accepted: ECDSA P-256 (weft's own), and
 * for Istio agents ECDSA P-384 and RSA of 2048 bits or more (pilot-agent's default is RSA 2048).
 */
import { children, DerError, oidText, pemToDer, readTlv, type Tlv } from "./der.ts";

export type CsrKey =
  | { kind: "ec"; curve: "P-256" | "P-384"; point: Uint8Array<ArrayBuffer> }
  | { kind: "rsa"; bits: number };

export interface CsrName {
  /** Same names as @peculiar/x509's GeneralName types. */
  type: "url" | "dns" | "ip" | "email" | "other";
  value: string;
}

export interface ParsedCsr {
  /** SubjectPublicKeyInfo DER. */
  spki: Uint8Array<ArrayBuffer>;
  key: CsrKey;
  /** Subject alternative names from the extensionRequest attribute. */
  names: CsrName[];
  /** Dotted OID of the signature algorithm. */
  signatureAlgorithm: string;
  /** The signed bytes (CertificationRequestInfo) and the signature (BIT STRING contents, unused-bits byte removed). */
  signed: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
}

export class CsrError extends Error {}

const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const OID_RSA = "1.2.840.113549.1.1.1";
const CURVES: Record<string, "P-256" | "P-384"> = { "1.2.840.10045.3.1.7": "P-256", "1.3.132.0.34": "P-384" };
const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const OID_SAN = "2.5.29.17";
const SIG_ALGS: Record<string, { family: "ecdsa" | "rsa"; hash: string }> = {
  "1.2.840.10045.4.3.2": { family: "ecdsa", hash: "SHA-256" },
  "1.2.840.10045.4.3.3": { family: "ecdsa", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { family: "ecdsa", hash: "SHA-512" },
  "1.2.840.113549.1.1.11": { family: "rsa", hash: "SHA-256" },
  "1.2.840.113549.1.1.12": { family: "rsa", hash: "SHA-384" },
  "1.2.840.113549.1.1.13": { family: "rsa", hash: "SHA-512" },
};

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new CsrError(`${what}: unexpected DER structure`);
  return t;
}

function bitString(buf: Uint8Array<ArrayBuffer>, t: Tlv, what: string): Uint8Array<ArrayBuffer> {
  expect(t, 0x03, what);
  if (t.end - t.valueStart < 1 || buf[t.valueStart] !== 0) throw new CsrError(`${what}: unexpected unused bits`);
  return buf.subarray(t.valueStart + 1, t.end);
}

function readKey(buf: Uint8Array<ArrayBuffer>, spki: Tlv): CsrKey {
  const [alg, bits] = children(buf, expect(spki, 0x30, "subjectPublicKeyInfo"));
  const algParts = children(buf, expect(alg, 0x30, "subjectPublicKeyInfo algorithm"));
  const algOid = oidText(buf, expect(algParts[0], 0x06, "key algorithm"));
  const key = bitString(buf, bits!, "subjectPublicKey");
  if (algOid === OID_EC_PUBLIC_KEY) {
    const curve = CURVES[algParts[1]?.tag === 0x06 ? oidText(buf, algParts[1]) : ""];
    if (!curve) throw new CsrError("the EC key's curve must be P-256 or P-384");
    return { kind: "ec", curve, point: key };
  }
  if (algOid === OID_RSA) {
    const rsa = readTlv(key, 0);
    const n = expect(children(key, expect(rsa, 0x30, "RSA public key"))[0], 0x02, "RSA modulus");
    let i = n.valueStart;
    while (i < n.end && key[i] === 0) i++;
    const top = key[i] ?? 0;
    return { kind: "rsa", bits: Math.max(0, (n.end - i - 1) * 8 + (top === 0 ? 0 : 32 - Math.clz32(top))) };
  }
  throw new CsrError(`unsupported key algorithm ${algOid} (ECDSA or RSA only)`);
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

function readNames(buf: Uint8Array, attributes: Tlv): CsrName[] {
  const names: CsrName[] = [];
  for (const attr of children(buf, attributes)) {
    const [type, values] = children(buf, expect(attr, 0x30, "attribute"));
    if (oidText(buf, expect(type, 0x06, "attribute type")) !== OID_EXTENSION_REQUEST) continue;
    for (const exts of children(buf, expect(values, 0x31, "extensionRequest"))) {
      for (const ext of children(buf, expect(exts, 0x30, "extensions"))) {
        const parts = children(buf, expect(ext, 0x30, "extension"));
        if (oidText(buf, expect(parts[0], 0x06, "extension id")) !== OID_SAN) continue;
        const value = expect(parts[parts.length - 1], 0x04, "extension value");
        const inner = buf.subarray(value.valueStart, value.end);
        for (const gn of children(inner, expect(readTlv(inner, 0), 0x30, "subjectAltName"))) {
          const bytes = inner.subarray(gn.valueStart, gn.end);
          if (gn.tag === 0x86) names.push({ type: "url", value: utf8.decode(bytes) });
          else if (gn.tag === 0x82) names.push({ type: "dns", value: utf8.decode(bytes) });
          else if (gn.tag === 0x81) names.push({ type: "email", value: utf8.decode(bytes) });
          else if (gn.tag === 0x87) names.push({ type: "ip", value: bytes.length === 4 ? bytes.join(".") : Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("") });
          else names.push({ type: "other", value: `[${gn.tag & 0x1f}]` });
        }
      }
    }
  }
  return names;
}

/** Parses a PEM (or DER) PKCS#10 request. Throws `CsrError` when it is not one. */
export function parseCsr(input: string | Uint8Array): ParsedCsr {
  try {
    const buf = typeof input === "string" ? pemToDer(input, "CERTIFICATE REQUEST") : new Uint8Array(input);
    const outer = expect(readTlv(buf, 0), 0x30, "CertificationRequest");
    if (outer.end !== buf.length) throw new CsrError("trailing bytes after the CertificationRequest");
    const [info, sigAlg, sig] = children(buf, outer);
    const infoParts = children(buf, expect(info, 0x30, "certificationRequestInfo"));
    const spkiTlv = infoParts[2]!;
    const key = readKey(buf, spkiTlv);
    const attrs = infoParts[3];
    const names = attrs && attrs.tag === 0xa0 ? readNames(buf, attrs) : [];
    const signatureAlgorithm = oidText(buf, expect(children(buf, expect(sigAlg, 0x30, "signatureAlgorithm"))[0], 0x06, "signature algorithm"));
    return {
      spki: buf.slice(spkiTlv.start, spkiTlv.end),
      key,
      names,
      signatureAlgorithm,
      signed: buf.subarray(info!.start, info!.end),
      signature: bitString(buf, sig!, "signature"),
    };
  } catch (err) {
    if (err instanceof CsrError) throw err;
    if (err instanceof DerError || err instanceof TypeError) throw new CsrError(err.message);
    throw err;
  }
}

/** ECDSA-Sig-Value (DER SEQUENCE of r, s) → r‖s, each `size` bytes, as WebCrypto wants it. */
function ecdsaRaw(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> | undefined {
  try {
    const [r, s] = children(der, readTlv(der, 0));
    const out = new Uint8Array(2 * size);
    for (const [i, t] of [r, s].entries()) {
      if (!t || t.tag !== 0x02) return undefined;
      let v = der.subarray(t.valueStart, t.end);
      while (v.length > size && v[0] === 0) v = v.subarray(1);
      if (v.length > size) return undefined;
      out.set(v, (i + 1) * size - v.length);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Describes the key for error messages: "ECDSA P-256", "RSA 2048". */
export function describeKey(key: CsrKey): string {
  return key.kind === "ec" ? `ECDSA ${key.curve}` : `RSA ${key.bits}`;
}

/** True when the request's signature verifies with its own public key. */
export async function verifyCsr(csr: ParsedCsr): Promise<boolean> {
  const alg = SIG_ALGS[csr.signatureAlgorithm];
  if (!alg) return false;
  const { key } = csr;
  try {
    if (key.kind === "ec") {
      if (alg.family !== "ecdsa") return false;
      const size = key.curve === "P-256" ? 32 : 48;
      const params = { name: "ECDSA", namedCurve: key.curve };
      const pub = key.point.length === 2 * size + 1 && key.point[0] === 4
        ? await crypto.subtle.importKey("raw", key.point, params, false, ["verify"])
        : await crypto.subtle.importKey("spki", csr.spki, params, false, ["verify"]);
      const raw = ecdsaRaw(csr.signature, size);
      return raw !== undefined && (await crypto.subtle.verify({ name: "ECDSA", hash: alg.hash }, pub, raw, csr.signed));
    }
    if (alg.family !== "rsa") return false;
    const pub = await crypto.subtle.importKey("spki", csr.spki, { name: "RSASSA-PKCS1-v1_5", hash: alg.hash }, false, ["verify"]);
    return await crypto.subtle.verify("RSASSA-PKCS1-v1_5", pub, csr.signature, csr.signed);
  } catch {
    return false;
  }
}
