/**
 * @module proxy/node/headers
 * Header handling on the hot path: one pass over the downstream raw headers that finds the few headers
 * the proxy cares about and writes the upstream HTTP/1.1 request head (hop-by-hop headers removed,
 * `x-forwarded-for`, `x-forwarded-proto` and `x-request-id` added), plus the filters for response
 * headers in both directions. Names are compared by length first, so most headers cost one switch.
 */

/** Hop-by-hop response headers (RFC 9110 §7.6.1) that never cross the proxy. */
export function isHopByHop(lowerName: string): boolean {
  switch (lowerName.length) {
    case 2: return lowerName === "te";
    case 7: return lowerName === "upgrade" || lowerName === "trailer";
    case 10: return lowerName === "connection" || lowerName === "keep-alive";
    case 16: return lowerName === "proxy-connection";
    case 17: return lowerName === "transfer-encoding";
    default: return false;
  }
}

/** What the scan of the request headers found. */
export interface RequestHeadInfo {
  host: string | undefined;
  /** Extra hop-by-hop names listed in `Connection` (lower case), rare. */
  connectionTokens: string[] | undefined;
  requestId: string | undefined;
  forwardedFor: string | undefined;
  forwardedProto: boolean;
  chunked: boolean;
  /** A Transfer-Encoding whose last coding is not `chunked` (RFC 9112 §6.3: a request framing error). */
  badTransferEncoding: boolean;
  contentLength: boolean;
  teTrailers: boolean;
}

/** Scans raw headers `[name, value, ...]` once. */
export function scanRequestHeaders(raw: readonly string[], out: RequestHeadInfo): void {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    switch (name.length) {
      case 2:
        if (name.toLowerCase() === "te" && /(^|,)\s*trailers\s*(,|$)/i.test(raw[i + 1]!)) out.teTrailers = true;
        break;
      case 4:
        if (out.host === undefined && name.toLowerCase() === "host") out.host = raw[i + 1];
        break;
      case 10:
        if (name.toLowerCase() === "connection") {
          for (const t of raw[i + 1]!.split(",")) {
            const tok = t.trim().toLowerCase();
            if (tok !== "" && tok !== "keep-alive" && tok !== "close" && tok !== "upgrade") (out.connectionTokens ??= []).push(tok);
          }
        }
        break;
      case 12:
        if (name.toLowerCase() === "x-request-id") out.requestId = raw[i + 1];
        break;
      case 14:
        if (name.toLowerCase() === "content-length") out.contentLength = true;
        break;
      case 15:
        if (name.toLowerCase() === "x-forwarded-for") out.forwardedFor = out.forwardedFor === undefined ? raw[i + 1] : `${out.forwardedFor}, ${raw[i + 1]}`;
        break;
      case 17: {
        const lower = name.toLowerCase();
        if (lower === "transfer-encoding") {
          if (/(?:^|,)\s*chunked\s*$/i.test(raw[i + 1]!)) out.chunked = true;
          else out.badTransferEncoding = true;
        }
        else if (lower === "x-forwarded-proto") out.forwardedProto = true;
        break;
      }
    }
  }
}

/**
 * Writes the header lines of the upstream request (no request line, no final CRLF). Drops hop-by-hop
 * headers, `host` (the caller writes the authority), `expect` (the proxy answered 100-continue itself),
 * `x-forwarded-for` and `x-request-id` (rewritten by the caller), and any name in `skip`.
 */
export function upstreamHeaderLines(raw: readonly string[], skip: readonly string[] | undefined): string {
  let out = "";
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* : pseudo-header from HTTP/2 */) continue;
    switch (name.length) {
      case 2: case 4: case 6: case 7: case 10: case 12: case 15: case 16: case 17: {
        const lower = name.toLowerCase();
        if (isHopByHop(lower) || lower === "host" || lower === "expect" || lower === "x-forwarded-for" || lower === "x-request-id") continue;
        break;
      }
    }
    if (skip !== undefined && skip.includes(name.toLowerCase())) continue;
    out += `${name}: ${raw[i + 1]}\r\n`;
  }
  return out;
}

/** The same headers as an HTTP/2 header object (lower-case names, no pseudo-headers, no hop-by-hop). */
export function upstreamHeaderObject(raw: readonly string[], skip: readonly string[] | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower.charCodeAt(0) === 58 /* : */ || isHopByHop(lower) || lower === "host" || lower === "expect" || lower === "x-forwarded-for" || lower === "x-request-id") continue;
    if (skip !== undefined && skip.includes(lower)) continue;
    const prev = out[lower];
    const v = raw[i + 1]!;
    if (prev === undefined) out[lower] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[lower] = [prev, v];
  }
  return out;
}

/**
 * Response headers from an upstream (raw list) with hop-by-hop names removed; returns the same array
 * when nothing needs removing. `connection` tokens name further hop-by-hop headers.
 */
export function responseHeaders(raw: string[]): string[] {
  let extra: string[] | undefined;
  let dirty = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 2 || name.length === 7 || name.length === 10 || name.length === 16 || name.length === 17) {
      const lower = name.toLowerCase();
      if (isHopByHop(lower)) {
        dirty = true;
        if (lower === "connection") {
          for (const t of raw[i + 1]!.split(",")) {
            const tok = t.trim().toLowerCase();
            if (tok !== "" && tok !== "keep-alive" && tok !== "close") (extra ??= []).push(tok);
          }
        }
      }
    }
  }
  if (!dirty) return raw;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (isHopByHop(lower) || (extra !== undefined && extra.includes(lower))) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** A raw header list as an object for HTTP/2 responses (lower-case names; repeated names as arrays). */
export function headerObject(raw: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    const prev = out[lower];
    const v = raw[i + 1]!;
    if (prev === undefined) out[lower] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[lower] = [prev, v];
  }
  return out;
}
