/**
 * @module control/ca/der
 * The few DER primitives the CA's hot path needs — writing TLVs, lengths, positive INTEGERs and times,
 * and walking a TLV structure without building an object tree — so issuing an SVID and reading a CSR
 * cost microseconds instead of a general ASN.1 library's parse and serialize. Everything else
 * (CA certificates, anything a person reads) stays with @peculiar/x509.
 */

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** One TLV: `tag`, DER length, then the contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const body = contents.length === 1 ? contents[0]! : concat(contents);
  const len = lengthBytes(body.length);
  const out = new Uint8Array(1 + len.length + body.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(body, 1 + len.length);
  return out;
}

export const SEQUENCE = 0x30;
export const INTEGER = 0x02;
export const BIT_STRING = 0x03;
export const OCTET_STRING = 0x04;
export const OID = 0x06;
export const UTC_TIME = 0x17;
export const GENERALIZED_TIME = 0x18;

/**
 * An unsigned big-endian number as DER INTEGER contents: leading zero bytes dropped, one 0x00 put in
 * front when the top bit is set (what @peculiar/x509 does for serial numbers and ECDSA r/s).
 */
export function positiveInteger(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const rest = bytes.subarray(i);
  if (rest.length === 0) return new Uint8Array([0]);
  if (rest[0]! > 0x7f) return concat([new Uint8Array([0]), rest]);
  return rest;
}

const two = (n: number) => String(n).padStart(2, "0");

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, `Z`. */
export function time(ms: number): Uint8Array<ArrayBuffer> {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y <= 2049) return tlv(UTC_TIME, ascii(`${two(y % 100)}${rest}`));
  return tlv(GENERALIZED_TIME, ascii(`${String(y).padStart(4, "0")}${rest}`));
}

export function ascii(s: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Where one TLV sits in a buffer: tag, the start of its header, the start and end of its contents. */
export interface Tlv {
  tag: number;
  start: number;
  valueStart: number;
  end: number;
}

export class DerError extends Error {}

/** Reads the TLV at `offset` (definite lengths only, as DER requires), bounded by `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError("truncated DER");
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte DER tags are not supported");
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) {
      if (p >= limit) throw new DerError("truncated DER");
      len = len * 256 + buf[p++]!;
    }
  }
  const end = p + len;
  if (end > limit) throw new DerError("DER length runs past its container");
  return { tag, start: offset, valueStart: p, end };
}

/** The TLVs directly inside a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.valueStart; p < parent.end;) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER's contents. */
export function oidText(buf: Uint8Array, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.valueStart; i < t.end; i++) {
    v = v * 128 + (buf[i]! & 0x7f);
    if (!(buf[i]! & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...parts].join(".");
}

/** DER of an OBJECT IDENTIFIER given in dotted form. */
export function oid(dotted: string): Uint8Array<ArrayBuffer> {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const bytes: number[] = [];
  for (const n of [a! * 40 + b!, ...rest]) {
    const enc = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) enc.unshift(0x80 | (v & 0x7f));
    bytes.push(...enc);
  }
  return tlv(OID, new Uint8Array(bytes));
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** PEM block with 64-column base64 lines and a final newline (the layout @peculiar/x509 writes). */
export function pem(der: Uint8Array, label: string): string {
  let b64 = "";
  for (let i = 0; i < der.length; i += 3) {
    const n = (der[i]! << 16) | ((der[i + 1] ?? 0) << 8) | (der[i + 2] ?? 0);
    b64 += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (i + 1 < der.length ? B64[(n >> 6) & 63]! : "=") + (i + 2 < der.length ? B64[n & 63]! : "=");
  }
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + "\n";
  return `${out}-----END ${label}-----\n`;
}

/** The DER inside the first PEM block labelled `label`. */
export function pemToDer(text: string, label: string): Uint8Array<ArrayBuffer> {
  const begin = `-----BEGIN ${label}-----`;
  const s = text.indexOf(begin);
  const e = text.indexOf(`-----END ${label}-----`, s + begin.length);
  if (s < 0 || e < 0) throw new DerError(`no ${label} PEM block`);
  const body = text.slice(s + begin.length, e).replace(/\s+/g, "");
  let bin: string;
  try {
    bin = atob(body);
  } catch {
    throw new DerError(`${label} PEM block is not base64`);
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
