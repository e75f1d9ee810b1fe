/**
 * @module control/ca/leaf-template
 * Builds SVID (leaf) certificates from a precomputed DER template and signs them with WebCrypto ECDSA
 * P-256. Why not @peculiar/x509 here, as for the CA certificates: building a leaf through it (asn1js
 * object trees, parse and re-serialize of every extension and of the public key) took ~3 ms of CPU per
 * SVID, about 30 times the ECDSA signature itself; the CA's target is thousands of SVIDs per second
 * per core. A weft leaf varies in only four places — serial, validity, subject public key and the SAN —
 * so the issuer name and the constant extensions (basic constraints, key usage, extended key usage,
 * authority key identifier) are encoded once, by @peculiar/x509 itself, when the signing chain is set
 * up, and each issue only concatenates bytes. `leaf-template.test.ts` checks that the result is
 * byte-for-byte the certificate @peculiar/x509 builds for the same inputs.
 */
import { ascii, BIT_STRING, concat, INTEGER, OCTET_STRING, oid, positiveInteger, SEQUENCE, time, tlv } from "./der.ts";

const OID_SAN = "2.5.29.17";
/** AlgorithmIdentifier ecdsa-with-SHA256 (no parameters, RFC 5758). */
const ECDSA_SHA256 = tlv(SEQUENCE, oid("1.2.840.10045.4.3.2"));
const VERSION_3 = tlv(0xa0, tlv(INTEGER, new Uint8Array([2])));
const EMPTY_NAME = tlv(SEQUENCE, new Uint8Array(0));
const CRITICAL = tlv(0x01, new Uint8Array([0xff]));
const SAN_OID = oid(OID_SAN);

export interface LeafTemplateParts {
  /** The issuer's subject Name, DER as it appears in the issuer certificate. */
  issuerName: Uint8Array;
  /** Extension DERs placed before the SAN, in order (basic constraints, key usage, EKU). */
  before: Uint8Array[];
  /** Extension DERs placed after the SAN (authority key identifier). */
  after: Uint8Array[];
  /** The issuer's signing key (ECDSA P-256). */
  signingKey: CryptoKey;
}

export interface LeafInput {
  /** Serial number as big-endian bytes (made positive and minimal as DER requires). */
  serial: Uint8Array;
  notBefore: number;
  notAfter: number;
  /** SubjectPublicKeyInfo DER of the workload key. */
  spki: Uint8Array;
  uris: string[];
  dnsNames?: string[];
}

/** The critical subjectAltName extension DER for URIs (then DNS names), as @peculiar/x509 encodes it. */
export function sanExtension(uris: readonly string[], dnsNames: readonly string[] = []): Uint8Array {
  const names = [...uris.map((u) => tlv(0x86, ascii(u))), ...dnsNames.map((d) => tlv(0x82, ascii(d)))];
  return tlv(SEQUENCE, SAN_OID, CRITICAL, tlv(OCTET_STRING, tlv(SEQUENCE, ...names)));
}

/** WebCrypto ECDSA r‖s (64 bytes for P-256) → DER ECDSA-Sig-Value. */
function ecdsaDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return tlv(SEQUENCE, tlv(INTEGER, positiveInteger(raw.subarray(0, half))), tlv(INTEGER, positiveInteger(raw.subarray(half))));
}

export interface LeafTemplate {
  /** The TBSCertificate DER for these inputs. */
  tbs(input: LeafInput): Uint8Array<ArrayBuffer>;
  /** The signed certificate DER. */
  build(input: LeafInput): Promise<Uint8Array<ArrayBuffer>>;
}

/**
 * @example
 * const template = createLeafTemplate({ issuerName, before, after, signingKey });
 * const der = await template.build({ serial, notBefore, notAfter, spki, uris: [spiffeId] });
 */
export function createLeafTemplate(parts: LeafTemplateParts): LeafTemplate {
  const before = concat(parts.before);
  const after = concat(parts.after);
  const tbs = (input: LeafInput): Uint8Array<ArrayBuffer> => {
    if (input.uris.some((u) => /[^\x20-\x7e]/.test(u)) || (input.dnsNames ?? []).some((d) => /[^\x20-\x7e]/.test(d))) {
      throw new TypeError("SAN values must be printable ASCII (IA5String)");
    }
    return tlv(SEQUENCE,
      VERSION_3,
      tlv(INTEGER, positiveInteger(input.serial)),
      ECDSA_SHA256,
      parts.issuerName,
      tlv(SEQUENCE, time(input.notBefore), time(input.notAfter)),
      EMPTY_NAME,
      input.spki,
      tlv(0xa3, tlv(SEQUENCE, before, sanExtension(input.uris, input.dnsNames), after)));
  };
  return {
    tbs,
    async build(input) {
      const body = tbs(input);
      const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, parts.signingKey, body));
      return tlv(SEQUENCE, body, ECDSA_SHA256, tlv(BIT_STRING, new Uint8Array([0]), ecdsaDer(sig)));
    },
  };
}
