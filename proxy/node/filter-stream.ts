/**
 * @module proxy/node/filter-stream
 * Runs a listener's HTTP filters (`proxy/filter.ts`) for one request on the Node host: a `FilterStream`
 * over the downstream request, headers as a case-insensitive map that is written back into the
 * upstream request when a filter changed it, and response hooks applied to the upstream response head.
 * Only chains with filters besides the router pay for any of this.
 */
import type { FilterResponse, FilterStream, FilterVerdict, HeaderMap, HttpFilter, LocalReply } from "../filter.ts";
import type { Exchange } from "./exchange.ts";

/** A header map over a raw `[name, value, ...]` list. */
export class RawHeaderMap implements HeaderMap {
  changed = false;
  constructor(public raw: string[]) {}

  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    let out: string | undefined;
    for (let i = 0; i < this.raw.length; i += 2) {
      if (this.raw[i]!.toLowerCase() === lower) out = out === undefined ? this.raw[i + 1] : `${out}, ${this.raw[i + 1]}`;
    }
    return out;
  }

  set(name: string, value: string): void {
    this.delete(name);
    this.add(name, value);
  }

  add(name: string, value: string): void {
    if (/[\r\n\0]/.test(value) || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new Error(`invalid header ${JSON.stringify(name)}`);
    this.copy();
    this.raw.push(name.toLowerCase(), value);
  }

  delete(name: string): void {
    const lower = name.toLowerCase();
    if (!this.raw.some((v, i) => i % 2 === 0 && v.toLowerCase() === lower)) return;
    this.copy();
    const next: string[] = [];
    for (let i = 0; i < this.raw.length; i += 2) if (this.raw[i]!.toLowerCase() !== lower) next.push(this.raw[i]!, this.raw[i + 1]!);
    this.raw = next;
  }

  *entries(): Iterable<[string, string]> {
    const seen = new Set<string>();
    for (let i = 0; i < this.raw.length; i += 2) {
      const lower = this.raw[i]!.toLowerCase();
      if (lower.startsWith(":") || seen.has(lower)) continue;
      seen.add(lower);
      yield [lower, this.get(lower)!];
    }
  }

  private copy(): void {
    if (!this.changed) {
      this.raw = [...this.raw];
      this.changed = true;
    }
  }
}

class NodeFilterStream implements FilterStream {
  readonly method: string;
  path: string;
  readonly authority: string;
  readonly scheme: string;
  readonly headers: RawHeaderMap;
  readonly connection: FilterStream["connection"];
  readonly routeName: string | undefined;
  readonly metadata = new Map<string, unknown>();
  private readonly ex: Exchange;

  constructor(ex: Exchange) {
    this.ex = ex;
    this.method = ex.method;
    this.path = ex.target;
    this.authority = ex.authority;
    this.scheme = ex.scheme;
    this.headers = new RawHeaderMap(ex.rawHeaders);
    const c = ex.conn;
    const socket = ex.req.socket;
    const local = { localAddress: socket.localAddress, localPort: socket.localPort };
    this.connection = c === undefined
      ? { remoteAddress: socket.remoteAddress ?? "", ...local }
      : { remoteAddress: socket.remoteAddress ?? "", principal: c.principal, peerSubject: c.peerSubject, sni: c.sni, ...local };
    this.routeName = ex.route?.name;
  }

  addResponseFlag(flag: string): void {
    this.ex.addFlag(flag);
  }
}

/** Runs `onRequest` of each filter in order; resolves to a local reply or `undefined` (continue). */
export async function runFilters(ex: Exchange, filters: readonly HttpFilter[]): Promise<LocalReply | undefined> {
  const stream = new NodeFilterStream(ex);
  ex.filterStream = stream;
  for (const f of filters) {
    if (f.onRequest === undefined) continue;
    let v: FilterVerdict | Promise<FilterVerdict> = f.onRequest(stream);
    if (v instanceof Promise) v = await v;
    if (v !== undefined) return v;
  }
  if (stream.headers.changed) ex.rawHeaders = stream.headers.raw;
  if (stream.path !== ex.target) ex.upstreamTarget = stream.path;
  if (filters.some((f) => f.onResponse)) {
    ex.onResponseHead = (status, raw) => {
      const response: FilterResponse = { status, headers: new RawHeaderMap(raw) };
      for (let i = filters.length - 1; i >= 0; i--) filters[i]!.onResponse?.(stream, response);
      return { status: response.status, raw: (response.headers as RawHeaderMap).raw };
    };
  }
  return undefined;
}
