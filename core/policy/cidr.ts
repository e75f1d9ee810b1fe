/**
 * @module core/policy/cidr
 * IPv4/IPv6 addresses and CIDR ranges for `ipBlocks`, `remoteIpBlocks`, `source.ip`, `remote.ip` and
 * `destination.ip`. Addresses are parsed once into fixed-width byte arrays so a match is a few byte
 * compares. Written here rather than taken from a library because the policy engine must run on every
 * runtime with no Node APIs, and the job is small (parse + prefix compare).
 */

/** A parsed CIDR range: 4 or 16 address bytes and a prefix length. */
export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
  text: string;
}

function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return null;
    if (p.length > 1 && p[0] === "0") return null; // no octal-looking forms, as Go's netip
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIPv6(input: string): Uint8Array | null {
  let s = input;
  const zone = s.indexOf("%");
  if (zone >= 0) return null; // zones are not valid in policies
  let tail: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".", lastColon)) {
    tail = parseIPv4(s.slice(lastColon + 1));
    if (!tail) return null;
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const dbl = s.indexOf("::");
  if (dbl !== s.lastIndexOf("::")) return null;
  const head = dbl >= 0 ? s.slice(0, dbl) : s;
  const rest = dbl >= 0 ? s.slice(dbl + 2) : "";
  const h = head === "" ? [] : head.split(":");
  const r = rest === "" ? [] : rest.split(":");
  const total = h.length + r.length;
  if (dbl < 0 && total !== 8) return null;
  if (dbl >= 0 && total > 7) return null;
  const groups: number[] = [];
  for (const g of [...h, ...Array(8 - total).fill("0"), ...r] as string[]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    groups.push(parseInt(g, 16));
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

/** Parses an IPv4 or IPv6 address; returns null when invalid. IPv4-mapped IPv6 stays 16 bytes. */
export function parseIp(s: string): Uint8Array | null {
  if (s.includes(":")) {
    const t = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
    return parseIPv6(t);
  }
  return parseIPv4(s);
}

/** Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). Returns null when invalid. */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf("/");
  const addr = slash >= 0 ? s.slice(0, slash) : s;
  const bytes = parseIp(addr);
  if (!bytes) return null;
  const max = bytes.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  return { bytes, prefix, text: s };
}

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as its 4 IPv4 bytes, else the input. */
function unmap(b: Uint8Array): Uint8Array {
  if (b.length !== 16) return b;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return b;
  if (b[10] !== 0xff || b[11] !== 0xff) return b;
  return b.subarray(12);
}

/** True when `ip` (parsed) lies in `cidr`. Families must agree (IPv4-mapped IPv6 counts as IPv4). */
export function cidrContains(cidr: Cidr, ip: Uint8Array): boolean {
  const a = unmap(ip);
  const c = cidr.bytes.length === 16 && cidr.prefix >= 96 ? unmap(cidr.bytes) : cidr.bytes;
  const prefix = c.length !== cidr.bytes.length ? cidr.prefix - 96 : cidr.prefix;
  if (a.length !== c.length) return false;
  const full = prefix >> 3;
  for (let i = 0; i < full; i++) if (a[i] !== c[i]) return false;
  const rem = prefix & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return ((a[full]! ^ c[full]!) & mask) === 0;
}
