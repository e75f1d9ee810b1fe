/**
 * @module proxy/router/route-table
 * A route config (RDS) compiled into a lookup: the virtual host by `:authority` (exact domains, then
 * the longest `*.suffix`/`*suffix` wildcard, then the longest `prefix*`, then `*`; a domain with a port
 * matches only that port, a domain without one matches any port), then the first route whose match
 * accepts the request. Host lookups are cached, so the steady state costs one Map get.
 */
import type { RouteConfig } from "../config/types.ts";
import { CompiledRoute, stripPort, type RouteRequest } from "./compiled-route.ts";

export { CompiledRoute, type RouteRequest } from "./compiled-route.ts";

interface CompiledVirtualHost {
  name: string;
  routes: CompiledRoute[];
}

export interface RouteTable {
  readonly name: string;
  /** The virtual host for an authority (`host` or `host:port`), or `undefined`. */
  virtualHost(authority: string): CompiledVirtualHost | undefined;
  /**
   * The first matching route, or `undefined` (no virtual host or no route: 404, flag NR).
   * `target` is the request target (path and query).
   */
  route(req: RouteRequest, target: string): CompiledRoute | undefined;
}

const CACHE_LIMIT = 4096;

/**
 * Compiles a route config. Throws on invalid regexes (the loader reports those before this runs).
 * @example
 * const table = createRouteTable(routeConfig);
 * const route = table.route({ method: "GET", authority: "web", scheme: "http", header: () => undefined }, "/api/x");
 */
export function createRouteTable(config: RouteConfig): RouteTable {
  const exact = new Map<string, CompiledVirtualHost>();
  const suffixes: { suffix: string; vh: CompiledVirtualHost }[] = [];
  const prefixes: { prefix: string; vh: CompiledVirtualHost }[] = [];
  let fallback: CompiledVirtualHost | undefined;
  for (const vh of config.virtualHosts) {
    const compiled: CompiledVirtualHost = { name: vh.name, routes: vh.routes.map((r, i) => new CompiledRoute(r, vh.name, i)) };
    for (const raw of vh.domains) {
      const d = raw.toLowerCase();
      if (d === "*") fallback ??= compiled;
      else if (d.startsWith("*")) suffixes.push({ suffix: d.slice(1), vh: compiled });
      else if (d.endsWith("*")) prefixes.push({ prefix: d.slice(0, -1), vh: compiled });
      else if (!exact.has(d)) exact.set(d, compiled);
    }
  }
  // Longest wildcard first; a stable sort keeps file order among equals.
  suffixes.sort((a, b) => b.suffix.length - a.suffix.length);
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);

  const find = (host: string): CompiledVirtualHost | undefined => {
    const e = exact.get(host);
    if (e) return e;
    for (const s of suffixes) if (host.length > s.suffix.length && host.endsWith(s.suffix)) return s.vh;
    for (const p of prefixes) if (host.length > p.prefix.length && host.startsWith(p.prefix)) return p.vh;
    return undefined;
  };
  const resolve = (authority: string): CompiledVirtualHost | undefined => {
    const lower = authority.toLowerCase();
    const bare = stripPort(lower);
    if (bare === lower) return find(lower) ?? fallback;
    // A domain written with a port matches only that port; otherwise the port is ignored.
    return exact.get(lower) ?? find(bare) ?? fallback;
  };

  let cache = new Map<string, CompiledVirtualHost | null>();
  const virtualHost = (authority: string): CompiledVirtualHost | undefined => {
    const hit = cache.get(authority);
    if (hit !== undefined) return hit ?? undefined;
    const vh = resolve(authority);
    if (cache.size >= CACHE_LIMIT) cache = new Map();
    cache.set(authority, vh ?? null);
    return vh;
  };

  return {
    name: config.name,
    virtualHost,
    route(req, target) {
      const vh = virtualHost(req.authority);
      if (vh === undefined) return undefined;
      let end = target.indexOf("?");
      const hash = target.indexOf("#");
      if (hash !== -1 && (end === -1 || hash < end)) end = hash;
      const path = end === -1 ? target : target.slice(0, end);
      const query = end === -1 || target.charCodeAt(end) === 35 ? "" : target.slice(end + 1);
      const routes = vh.routes;
      for (let i = 0; i < routes.length; i++) if (routes[i]!.matches(req, path, query)) return routes[i];
      return undefined;
    },
  };
}
