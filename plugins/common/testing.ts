/**
 * @module plugins/common/testing
 * Test doubles for filter tests that run in Node, Deno and workerd alike: an in-memory header map, a
 * `FilterStream` built from a few fields, and a `FilterContext` with a controllable clock, a scripted
 * random source and captured logs. Not used by the filters themselves.
 */
import type { FilterContext, FilterResponse, FilterStream, HeaderMap } from "../../proxy/filter.ts";

export class TestHeaders implements HeaderMap {
  private readonly list: [string, string][] = [];
  constructor(init: Record<string, string | string[]> = {}) {
    for (const [k, v] of Object.entries(init)) for (const one of Array.isArray(v) ? v : [v]) this.add(k, one);
  }
  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    const values = this.list.filter(([k]) => k === lower).map(([, v]) => v);
    return values.length > 0 ? values.join(", ") : undefined;
  }
  set(name: string, value: string): void {
    this.delete(name);
    this.add(name, value);
  }
  add(name: string, value: string): void {
    this.list.push([name.toLowerCase(), value]);
  }
  delete(name: string): void {
    const lower = name.toLowerCase();
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]![0] === lower) this.list.splice(i, 1);
  }
  *entries(): Iterable<[string, string]> {
    const seen = new Set<string>();
    for (const [k] of this.list) {
      if (seen.has(k)) continue;
      seen.add(k);
      yield [k, this.get(k)!];
    }
  }
  /** All headers as a plain object (for assertions). */
  toObject(): Record<string, string> {
    return Object.fromEntries(this.entries());
  }
}

export interface TestStreamInit {
  method?: string;
  path?: string;
  authority?: string;
  scheme?: string;
  headers?: Record<string, string | string[]>;
  remoteAddress?: string;
  principal?: string;
  peerSubject?: string;
  sni?: string;
  routeName?: string;
  metadata?: Record<string, unknown>;
  /** Extra connection fields a host may add (e.g. a peer certificate subject). */
  connection?: Record<string, unknown>;
}

export type TestStream = FilterStream & { headers: TestHeaders; /** Flags added with `addResponseFlag`. */ flags: string[] };

export function createTestStream(init: TestStreamInit = {}): TestStream {
  const flags: string[] = [];
  return {
    flags,
    addResponseFlag: (f: string) => void flags.push(f),
    method: init.method ?? "GET",
    path: init.path ?? "/",
    authority: init.authority ?? "svc.example",
    scheme: init.scheme ?? "http",
    headers: new TestHeaders(init.headers),
    connection: { remoteAddress: init.remoteAddress ?? "10.0.0.1", principal: init.principal, peerSubject: init.peerSubject, sni: init.sni, ...init.connection },
    routeName: init.routeName,
    metadata: new Map(Object.entries(init.metadata ?? {})),
  };
}

export function createTestResponse(status = 200, headers: Record<string, string | string[]> = {}): FilterResponse & { headers: TestHeaders } {
  return { status, headers: new TestHeaders(headers) };
}

export interface TestContext extends FilterContext {
  /** Current time in ms; tests move it. */
  time: number;
  logs: string[];
  /** Values `random()` returns in turn (then 0.5). */
  randoms: number[];
  /** Sleeps requested through `sleep` (they resolve at once). */
  sleeps: number[];
  sleep(ms: number): Promise<void>;
}

export function createTestContext(init: { time?: number; randoms?: number[]; fetch?: typeof fetch } = {}): TestContext {
  const ctx: TestContext = {
    time: init.time ?? Date.UTC(2026, 0, 1),
    logs: [],
    randoms: [...(init.randoms ?? [])],
    sleeps: [],
    now: () => ctx.time,
    random: () => ctx.randoms.shift() ?? 0.5,
    log: (m) => ctx.logs.push(m),
    sleep: (ms) => {
      ctx.sleeps.push(ms);
      return Promise.resolve();
    },
    ...(init.fetch ? { fetch: init.fetch } : {}),
  };
  return ctx;
}
