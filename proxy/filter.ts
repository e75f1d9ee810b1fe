/**
 * @module proxy/filter
 * The HTTP filter contract, as Envoy shapes it: a filter factory validates its config with a zod schema
 * and is built once per config (`create`), returning a filter whose handlers run per request (hot).
 * `onRequest` may answer locally (deny, rate limit, redirect) by returning a `LocalReply`, or let the
 * request continue (optionally marking it with a response flag, e.g. `DI` after a fault delay);
 * `onResponse` sees the response head before it is sent; `onComplete` runs once when the request ends,
 * however it ends (access logs, counters of active faults). The terminal `router` filter is the host's
 * forwarding itself. Filters live in `plugins/<name>/` and are listed in `plugins/registry.ts`.
 */
import { z, zodIssuesToDiagnostics } from "../core/schema/index.ts";
import type { FilterCatalog } from "./config/load.ts";

/** Case-insensitive request or response headers; names given in any case. */
export interface HeaderMap {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  /** Appends a value (repeated header). */
  add(name: string, value: string): void;
  delete(name: string): void;
  /** Each header once, lower-case name, repeated values joined with `, `. */
  entries(): Iterable<[string, string]>;
}

/** What a filter sees of the request in flight. `path` may be rewritten. */
export interface FilterStream {
  readonly method: string;
  path: string;
  readonly authority: string;
  readonly scheme: string;
  readonly headers: HeaderMap;
  readonly connection: {
    readonly remoteAddress: string;
    /** Peer SPIFFE ID from mTLS (the verified certificate's URI SAN); absent for plaintext. */
    readonly principal?: string;
    /** The verified peer certificate's subject DN in RFC 4514 form (`CN=a,O=b`); absent when empty or plaintext. */
    readonly peerSubject?: string;
    readonly sni?: string;
    /** The address the connection arrived on (the destination IP), when the host knows it. */
    readonly localAddress?: string;
    /** The port the connection arrived on (the destination port), when the host knows it. */
    readonly localPort?: number;
  };
  /** The matched route's name, or undefined when no route matched. */
  readonly routeName: string | undefined;
  /** Per-request data shared between filters (e.g. a validated JWT payload). */
  readonly metadata: Map<string, unknown>;
  /** Adds an Envoy response flag to the request's access log while it continues (e.g. `DI`). */
  addResponseFlag(flag: string): void;
}

/** How a request ended, for `onComplete`. */
export interface RequestSummary {
  /** The status sent downstream (0 when none was). */
  status: number;
  /** Envoy response flags, comma-separated, or "". */
  flags: string;
  /** Envoy's response code details (`via_upstream`, `rbac_access_denied_matched_policy[...]`, ...). */
  details: string;
  durationMs: number;
  upstreamCluster: string | undefined;
}

export interface FilterResponse {
  status: number;
  readonly headers: HeaderMap;
}

/**
 * Stop the chain and answer directly. `flag` is the Envoy response flag for the access log (e.g. `RL`);
 * `details` Envoy's response code details (e.g. `rbac_access_denied_matched_policy[none]`).
 */
export interface LocalReply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  flag?: string;
  details?: string;
}

export type FilterVerdict = LocalReply | undefined;

export interface HttpFilter {
  readonly name: string;
  onRequest?(stream: FilterStream): FilterVerdict | Promise<FilterVerdict>;
  onResponse?(stream: FilterStream, response: FilterResponse): void;
  /** Runs once when the request has ended (answered, failed or abandoned); never blocks it. */
  onComplete?(stream: FilterStream, summary: RequestSummary): void;
}

/** Platform functions a filter factory may use (injected by the host). */
export interface FilterContext {
  now(): number;
  random(): number;
  log(message: string): void;
  /** Outbound HTTP for filters that fetch (JWKS, ext_authz); absent where the host has none. */
  fetch?: typeof fetch;
  /** Resolves after `ms` (fault delays); absent = the filter uses its own timer. */
  sleep?(ms: number): Promise<void>;
}

export interface HttpFilterFactory<C = unknown> {
  readonly name: string;
  readonly status: "stable" | "alpha" | "wip";
  readonly runtimes: readonly ("node" | "deno" | "workerd")[];
  /** The terminal filter ends the chain (only `router` today). */
  readonly terminal?: boolean;
  readonly schema: z.ZodType<C>;
  create(config: C, context: FilterContext): HttpFilter;
}

/** The terminal router: forwarding is done by the host; its filter object has no handlers. */
export const routerFilter: HttpFilterFactory<Record<string, never>> = {
  name: "router",
  status: "stable",
  runtimes: ["node"],
  terminal: true,
  schema: z.strictObject({}),
  create: () => ({ name: "router" }),
};

/** A filter registry as the config loader sees it. */
export function createFilterCatalog(registry: ReadonlyMap<string, HttpFilterFactory<unknown>>): FilterCatalog {
  return {
    validate(name, config) {
      const f = registry.get(name);
      if (!f) return undefined;
      const r = f.schema.safeParse(config);
      if (r.success) return [];
      return zodIssuesToDiagnostics(r.error.issues).map((d) => ({ path: d.path ? d.path.split(/[.[\]]+/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [], message: d.message }));
    },
    isTerminal: (name) => registry.get(name)?.terminal === true,
  };
}

/**
 * Builds the non-terminal filters of a chain once per config (the router is the host).
 * @example
 * const filters = buildFilterChain(httpFilters, registry, context);
 */
export function buildFilterChain(configs: readonly { name: string; config: unknown }[], registry: ReadonlyMap<string, HttpFilterFactory<unknown>>, context: FilterContext): HttpFilter[] {
  const out: HttpFilter[] = [];
  for (const c of configs) {
    const f = registry.get(c.name);
    if (!f) throw new Error(`unknown HTTP filter "${c.name}"`);
    if (f.terminal) continue;
    out.push(f.create(f.schema.parse(c.config), context));
  }
  return out;
}
