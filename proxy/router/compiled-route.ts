/**
 * @module proxy/router/compiled-route
 * One IR route compiled for the hot path: its matchers (path exact / prefix / regex / template, methods,
 * headers, query parameters), its action precomputed (weighted destinations as cumulative weights,
 * rewrites as RegExps, redirects and direct responses ready to send). Built once per config.
 */
import type { HashPolicy, RetryPolicy, Route, RouteMatch } from "../../core/ir/model.ts";
import { DEFAULT_ROUTE_TIMEOUT_MS } from "../config/types.ts";
import { compileTemplate } from "./path-template.ts";
import { compileStringMatch, type CompiledStringMatch } from "../../core/match/string-match.ts";

/** The view of a request the router needs. Header names are lower case; repeated values joined. */
export interface RouteRequest {
  readonly method: string;
  readonly authority: string;
  readonly scheme: string;
  header(name: string): string | undefined;
}

const PATH_ANY = 0, PATH_EXACT = 1, PATH_PREFIX = 2, PATH_RE = 3;

class CompiledMatch {
  readonly pathKind: number;
  readonly pathValue: string = "";
  readonly pathRe: RegExp | undefined;
  readonly ignoreCase: boolean;
  readonly methods: readonly string[] | undefined;
  readonly headers: { name: string; test: CompiledStringMatch; invert: boolean }[];
  readonly query: { name: string; test: CompiledStringMatch }[];

  constructor(m: RouteMatch) {
    const p = m.path;
    this.ignoreCase = m.ignoreUriCase === true || (p !== undefined && "ignoreCase" in p && p.ignoreCase === true);
    if (!p) this.pathKind = PATH_ANY;
    else if ("template" in p) { this.pathKind = PATH_RE; this.pathRe = compileTemplate(p.template, this.ignoreCase); }
    else if ("regex" in p) { this.pathKind = PATH_RE; this.pathRe = new RegExp(`^(?:${p.regex})$`); }
    else if ("exact" in p) { this.pathKind = PATH_EXACT; this.pathValue = this.ignoreCase ? p.exact.toLowerCase() : p.exact; }
    else if ("prefix" in p) { this.pathKind = p.prefix === "/" || p.prefix === "" ? PATH_ANY : PATH_PREFIX; this.pathValue = this.ignoreCase ? p.prefix.toLowerCase() : p.prefix; }
    else throw new Error("path suffix/present matches are not route matches");
    this.methods = m.methods && m.methods.length > 0 ? m.methods : undefined;
    this.headers = [
      ...(m.headers ?? []).map((h) => ({ name: h.name.toLowerCase(), test: compileStringMatch(h.match), invert: h.invert === true })),
      ...(m.withoutHeaders ?? []).map((h) => ({ name: h.name.toLowerCase(), test: compileStringMatch(h.match), invert: true })),
    ];
    this.query = (m.queryParams ?? []).map((q) => ({ name: q.name, test: compileStringMatch(q.match) }));
  }

  matches(req: RouteRequest, path: string, query: string): boolean {
    switch (this.pathKind) {
      case PATH_EXACT:
        if ((this.ignoreCase ? path.toLowerCase() : path) !== this.pathValue) return false;
        break;
      case PATH_PREFIX:
        if (!(this.ignoreCase ? path.toLowerCase() : path).startsWith(this.pathValue)) return false;
        break;
      case PATH_RE:
        if (!(this.pathRe as RegExp).test(path)) return false;
        break;
    }
    if (this.methods !== undefined && !this.methods.includes(req.method)) return false;
    for (let i = 0; i < this.headers.length; i++) {
      const h = this.headers[i]!;
      if (h.test(req.header(h.name)) === h.invert) return false;
    }
    if (this.query.length > 0) {
      const params = new URLSearchParams(query);
      for (let i = 0; i < this.query.length; i++) {
        const q = this.query[i]!;
        const v = params.get(q.name);
        if (!q.test(v === null ? undefined : v)) return false;
      }
    }
    return true;
  }
}

/** A route ready for the hot path. Hosts read its fields; nothing here is mutated after compile. */
export class CompiledRoute {
  readonly name: string;
  readonly virtualHost: string;
  readonly kind: "forward" | "redirect" | "direct";
  readonly route: Route;
  private readonly matchers: CompiledMatch[];
  // forward
  readonly clusters: readonly string[] = [];
  private readonly cumulative: number[] = [];
  private readonly totalWeight: number = 0;
  readonly timeoutMs: number = DEFAULT_ROUTE_TIMEOUT_MS;
  readonly hostRewrite: string | undefined;
  readonly hashPolicy: readonly HashPolicy[] | undefined;
  readonly retry: RetryPolicy | undefined;
  readonly mirrors: readonly { cluster: string; percent: number }[] | undefined;
  private readonly prefixRewrite: string | undefined;
  private readonly regexRewrite: { re: RegExp; sub: string } | undefined;
  readonly rewrites: boolean = false;
  // direct and redirect
  readonly status: number = 0;
  readonly body: string | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(route: Route, virtualHost: string, index: number) {
    this.route = route;
    this.name = route.name ?? `${virtualHost}#${index}`;
    this.virtualHost = virtualHost;
    this.matchers = route.match.map((m) => new CompiledMatch(m));
    const a = route.action;
    this.kind = a.kind;
    if (a.kind === "forward") {
      const live = a.destinations.filter((d) => d.weight > 0);
      this.clusters = live.map((d) => d.cluster);
      let sum = 0;
      this.cumulative = live.map((d) => (sum += d.weight));
      this.totalWeight = sum;
      if (a.timeoutMs !== undefined) this.timeoutMs = a.timeoutMs;
      this.hostRewrite = a.rewrite?.authority;
      this.hashPolicy = a.hashPolicy;
      this.retry = a.retry !== undefined && a.retry.attempts > 0 ? a.retry : undefined;
      this.mirrors = a.mirror !== undefined && a.mirror.length > 0 ? a.mirror : undefined;
      this.prefixRewrite = a.rewrite?.pathPrefix;
      if (a.rewrite?.uriRegex) {
        this.regexRewrite = { re: new RegExp(a.rewrite.uriRegex.pattern, "g"), sub: a.rewrite.uriRegex.substitution.replace(/\\(\d)/g, "$$$1") };
      }
      this.rewrites = this.prefixRewrite !== undefined || this.regexRewrite !== undefined;
    } else {
      this.status = a.status;
      if (a.kind === "direct") {
        this.body = a.body;
        this.headers = a.headers;
      }
    }
  }

  /** True when any of the route's matchers accepts the request. `path` excludes the query. */
  matches(req: RouteRequest, path: string, query: string): boolean {
    for (let i = 0; i < this.matchers.length; i++) if (this.matchers[i]!.matches(req, path, query)) return true;
    return false;
  }

  /** The destination cluster; `random` in [0, 1) chooses among weighted clusters. */
  pickCluster(random: () => number): string {
    if (this.clusters.length === 1) return this.clusters[0]!;
    const r = random() * this.totalWeight;
    for (let i = 0; i < this.cumulative.length; i++) if (r < this.cumulative[i]!) return this.clusters[i]!;
    return this.clusters[this.clusters.length - 1]!;
  }

  /** The upstream request target after prefix/regex rewrites; the query is kept. */
  rewritePath(target: string): string {
    if (!this.rewrites) return target;
    const q = target.indexOf("?");
    let path = q === -1 ? target : target.slice(0, q);
    const query = q === -1 ? "" : target.slice(q);
    if (this.regexRewrite) {
      this.regexRewrite.re.lastIndex = 0;
      path = path.replace(this.regexRewrite.re, this.regexRewrite.sub);
    } else if (this.prefixRewrite !== undefined) {
      path = this.prefixRewrite + path.slice(this.matchedPrefixLength(path));
      if (path === "") path = "/";
      else if (!path.startsWith("/")) path = "/" + path;
    }
    return path + query;
  }

  private matchedPrefixLength(path: string): number {
    for (const m of this.matchers) {
      if (m.pathKind === PATH_EXACT) return path.length;
      if (m.pathKind === PATH_PREFIX && (m.ignoreCase ? path.toLowerCase() : path).startsWith(m.pathValue)) return m.pathValue.length;
      if (m.pathKind === PATH_ANY) return 0;
    }
    return path.length;
  }

  /** The `location` of a redirect route for this request. */
  redirectLocation(req: RouteRequest, target: string): string {
    const a = this.route.action;
    if (a.kind !== "redirect") throw new Error("not a redirect route");
    const scheme = a.scheme ?? req.scheme;
    const authority = req.authority;
    let host = a.host ?? stripPort(authority);
    if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
    const origPort = a.host === undefined ? portOf(authority) : "";
    const port = a.port !== undefined ? `:${a.port}` : a.scheme !== undefined && a.scheme !== req.scheme ? "" : origPort;
    const q = target.indexOf("?");
    const query = q === -1 ? "" : target.slice(q);
    const path = q === -1 ? target : target.slice(0, q);
    let newPath = path;
    if (a.path !== undefined) newPath = a.path;
    else if (a.prefix !== undefined) newPath = a.prefix + path.slice(this.matchedPrefixLength(path));
    const keepQuery = a.path === undefined || !a.path.includes("?");
    return `${scheme}://${host}${port}${newPath}${keepQuery ? query : ""}`;
  }
}

export function stripPort(authority: string): string {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    return end === -1 ? authority : authority.slice(1, end);
  }
  const c = authority.lastIndexOf(":");
  return c === -1 ? authority : authority.slice(0, c);
}

function portOf(authority: string): string {
  const end = authority.startsWith("[") ? authority.indexOf("]") : -1;
  const c = authority.lastIndexOf(":");
  return c > end ? authority.slice(c) : "";
}
