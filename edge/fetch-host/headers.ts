/**
 * @module edge/fetch-host/headers
 * Header handling for hosts that speak `Request`/`Response`: a filter `HeaderMap` over Web `Headers`,
 * the upstream request headers (hop-by-hop and `Connection`-named headers removed, `x-forwarded-for`,
 * `x-forwarded-proto` and `x-request-id` written as the Node host writes them) and response headers
 * with hop-by-hop names removed.
 */
import type { HeaderMap } from "../../proxy/filter.ts";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A case-insensitive, filter-facing view of Web `Headers`; `changed` says whether a filter wrote. */
export class FetchHeaderMap implements HeaderMap {
  changed = false;
  constructor(readonly headers: Headers) {}

  get(name: string): string | undefined {
    return this.headers.get(name) ?? undefined;
  }

  set(name: string, value: string): void {
    check(name, value);
    this.headers.set(name, value);
    this.changed = true;
  }

  add(name: string, value: string): void {
    check(name, value);
    this.headers.append(name, value);
    this.changed = true;
  }

  delete(name: string): void {
    if (!this.headers.has(name)) return;
    this.headers.delete(name);
    this.changed = true;
  }

  *entries(): Iterable<[string, string]> {
    // Web Headers already iterate lower-case names, each once, repeated values joined with ", ".
    for (const [k, v] of this.headers) if (k !== "set-cookie") yield [k, v];
    const cookies = this.headers.getSetCookie?.() ?? [];
    if (cookies.length > 0) yield ["set-cookie", cookies.join(", ")];
  }
}

function check(name: string, value: string): void {
  if (/[\r\n\0]/.test(value) || !TOKEN.test(name)) throw new Error(`invalid header ${JSON.stringify(name)}`);
}

/** Removes hop-by-hop headers and any header the `Connection` header names. */
export function stripHopByHop(headers: Headers): void {
  const connection = headers.get("connection");
  if (connection !== null) {
    for (const t of connection.split(",")) {
      const tok = t.trim().toLowerCase();
      if (tok !== "" && tok !== "close" && tok !== "keep-alive") headers.delete(tok);
    }
  }
  for (const h of HOP_BY_HOP) headers.delete(h);
}

export interface ForwardingFacts {
  /** The downstream peer address (`x-forwarded-for` gets it appended when `appendForwardedFor`). */
  peer: string;
  appendForwardedFor: boolean;
  scheme: string;
  requestId: string | undefined;
}

/**
 * The upstream request headers, built from the (possibly filter-mutated) request headers. Returns the
 * `x-forwarded-for` value written (for the access log).
 */
export function upstreamHeaders(from: Headers, facts: ForwardingFacts): { headers: Headers; forwardedFor: string | undefined } {
  const headers = new Headers(from);
  stripHopByHop(headers);
  headers.delete("host");
  headers.delete("expect");
  headers.delete("content-length"); // the runtime frames the body itself
  const xff = from.get("x-forwarded-for") ?? undefined;
  const forwardedFor = facts.appendForwardedFor ? (xff === undefined ? facts.peer : `${xff}, ${facts.peer}`) : xff;
  if (forwardedFor !== undefined) headers.set("x-forwarded-for", forwardedFor);
  if (!from.has("x-forwarded-proto")) headers.set("x-forwarded-proto", facts.scheme);
  if (facts.requestId !== undefined) headers.set("x-request-id", facts.requestId);
  return { headers, forwardedFor };
}

/** Response headers as sent downstream: a copy without hop-by-hop headers. */
export function downstreamResponseHeaders(from: Headers): Headers {
  const headers = new Headers(from);
  stripHopByHop(headers);
  return headers;
}

/** Bytes of a request head as the Node host counts them for `maxRequestHeadersBytes` (name, value, `: `, CRLF). */
export function headBytes(method: string, target: string, headers: Headers): number {
  let n = method.length + target.length + 12;
  for (const [k, v] of headers) n += k.length + v.length + 4;
  return n;
}
