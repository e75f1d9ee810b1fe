/**
 * @module plugins/impersonation/dn
 * Distinguished names compared the way people write them: RFC 4514 (`CN=alice,O=Acme,C=US`, as Go and
 * Grey Matter print a certificate subject) or OpenSSL's slash form (`/C=US/O=Acme/CN=alice`), attribute
 * types case-insensitive, values case-insensitive with spaces around separators ignored, and either RDN
 * order. A SPIFFE ID (`spiffe://...`) is an identity too and is compared exactly.
 */

/** Splits on `sep` outside backslash escapes. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && i + 1 < s.length) {
      cur += c + s[i + 1]!;
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** The RDNs of a DN as `TYPE=value` strings in written order, or undefined when it is not a DN. */
export function parseDn(dn: string): string[] | undefined {
  const text = dn.trim();
  if (text === "") return undefined;
  const parts = text.startsWith("/") ? splitUnescaped(text.slice(1), "/") : splitUnescaped(text, ",").flatMap((p) => splitUnescaped(p, ";"));
  const rdns: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    const type = part.slice(0, eq).trim().toUpperCase();
    const value = part.slice(eq + 1).trim().replace(/\s+/g, " ").toLowerCase();
    if (!/^[A-Z][A-Z0-9-]*$|^\d+(\.\d+)*$/.test(type)) return undefined;
    rdns.push(`${type}=${value}`);
  }
  return rdns;
}

/** A key under which equal identities (DNs in either order, or the same SPIFFE ID) coincide. */
export function identityKey(identity: string): string | undefined {
  const t = identity.trim();
  if (t.startsWith("spiffe://")) return t;
  const rdns = parseDn(t);
  if (rdns === undefined) return undefined;
  const forward = rdns.join(",");
  const backward = [...rdns].reverse().join(",");
  return forward < backward ? forward : backward;
}

/** A set of identities (the whitelist), compiled once. */
export function createIdentitySet(identities: readonly string[]): { has(identity: string): boolean } {
  const keys = new Set(identities.map(identityKey).filter((k): k is string => k !== undefined));
  return { has: (identity) => { const k = identityKey(identity); return k !== undefined && keys.has(k); } };
}
