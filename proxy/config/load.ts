/**
 * @module proxy/config/load
 * Turns the text of a proxy config file into a validated `ProxyConfig`, or into diagnostics that name
 * file:line, the object (`Listener/web`, `Cluster/api`, `RouteConfig/main`) and the field path. Schema
 * errors come from zod; cross-references (unknown cluster, route config or filter), duplicate names,
 * bad regexes and path templates are checked here, so a config that loads also compiles.
 */
import { formatPath, zodIssuesToDiagnostics, type Diagnostic } from "../../core/schema/index.ts";
import { loadYaml } from "../../core/yaml/loader.ts";
import type { Route, StringMatch } from "../../core/ir/model.ts";
import { proxyFileSchema } from "./schema.ts";
import { templateProblem } from "../router/path-template.ts";
import { compileLogFilter } from "../../adapters/telemetry/log-filter.ts";
import type { ProxyConfig, RouteConfig } from "./types.ts";

/** What the loader needs to know about HTTP filters (the registry in `plugins/registry.ts` provides it). */
export interface FilterCatalog {
  /** Returns problems with a filter's config, or `undefined` when the name is unknown. */
  validate(name: string, config: unknown): { path: PropertyKey[]; message: string }[] | undefined;
  isTerminal(name: string): boolean;
}

export type LoadConfigResult = { ok: true; config: ProxyConfig; warnings: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

const KINDS: Record<string, string> = { listeners: "Listener", routeConfigs: "RouteConfig", clusters: "Cluster", secrets: "Secret" };

/**
 * Validates a config file's text.
 * @example
 * const r = loadProxyConfig(text, "weft.yaml", filterCatalog);
 * if (!r.ok) for (const d of r.diagnostics) console.error(formatDiagnostic(d));
 */
export function loadProxyConfig(text: string, file: string | undefined, filters: FilterCatalog): LoadConfigResult {
  const { documents, diagnostics } = loadYaml(text, { file, maxDocuments: 1 });
  if (diagnostics.some((d) => d.severity === "error")) return { ok: false, diagnostics };
  const doc = documents[0];
  if (!doc) return { ok: false, diagnostics: [{ severity: "error", file, message: "the config file is empty" }] };
  const raw = doc.value as Record<string, unknown>;
  const at = (path: PropertyKey[], message: string): Diagnostic => {
    const loc = doc.locate(path);
    const section = typeof path[0] === "string" ? KINDS[path[0]] : undefined;
    if (section && typeof path[1] === "number") {
      const item = (raw[path[0] as string] as { name?: unknown }[] | undefined)?.[path[1]];
      const nm = item && typeof item === "object" && typeof item.name === "string" ? item.name : `#${path[1]}`;
      return { severity: "error", ...loc, object: `${section}/${nm}`, path: formatPath(path.slice(2)) || undefined, message };
    }
    return { severity: "error", ...loc, path: formatPath(path) || undefined, message };
  };

  const parsed = proxyFileSchema.safeParse(raw);
  if (!parsed.success) {
    const ds = zodIssuesToDiagnostics(parsed.error.issues).map((d) => {
      const path = parsePath(d.path ?? "");
      return at(path, d.message);
    });
    return { ok: false, diagnostics: [...diagnostics, ...ds] };
  }
  const f = parsed.data;
  const errors: Diagnostic[] = [];
  const routeConfigs: RouteConfig[] = [...f.routeConfigs];
  for (const l of f.listeners) routeConfigs.push(...l.inlineRoutes);

  dupes(f.listeners.map((l) => l.listener.name), (i) => errors.push(at(["listeners", i, "name"], "duplicate listener name")));
  dupes(f.listeners.map((l) => `${l.listener.address}:${l.listener.port}`), (i) => {
    if (f.listeners[i]?.listener.port !== 0) errors.push(at(["listeners", i, "address"], "another listener uses this address"));
  });
  dupes(f.routeConfigs.map((r) => r.name), (i) => errors.push(at(["routeConfigs", i, "name"], "duplicate route config name")));
  dupes(f.clusters.map((c) => c.name), (i) => errors.push(at(["clusters", i, "name"], "duplicate cluster name")));
  dupes(f.secrets.map((s) => s.name), (i) => errors.push(at(["secrets", i, "name"], "duplicate secret name")));

  const clusterNames = new Set(f.clusters.map((c) => c.name));
  const routeNames = new Set(routeConfigs.map((r) => r.name));
  const secrets = new Map(f.secrets.map((x) => [x.name, x]));
  const checkSecret = (path: PropertyKey[], secret: string | undefined, need: "certificate" | "validation") => {
    if (secret === undefined) return;
    const sec = secrets.get(secret);
    if (!sec) errors.push(at(path, `unknown secret "${secret}"`));
    else if (need === "certificate" && !sec.tlsCertificate) errors.push(at(path, `secret "${secret}" has no tlsCertificate`));
    else if (need === "validation" && !sec.validationContext) errors.push(at(path, `secret "${secret}" has no validationContext (trust bundle)`));
  };
  f.listeners.forEach(({ listener }, li) => {
    const extra = listener.filterChains.length - 1;
    dupes(listener.filterChains.map((c) => c.name), (i) => errors.push(at(["listeners", li, "filterChains", i, "name"], "duplicate filter chain name")));
    listener.filterChains.forEach((chain, ci) => {
      const base: PropertyKey[] = ci < extra ? ["listeners", li, "filterChains", ci] : ["listeners", li];
      if (chain.tls) {
        checkSecret([...base, "tls", "secret"], chain.tls.secret, "certificate");
        if (chain.tls.requireClientCertificate) {
          checkSecret([...base, "tls", chain.tls.validationSecret ? "validationSecret" : "secret"], chain.tls.validationSecret ?? chain.tls.secret, "validation");
        }
      }
      const t = chain.terminal;
      if (t.kind === "tcp") {
        if (!clusterNames.has(t.tcp.cluster)) errors.push(at([...base, "tcp", "cluster"], `unknown cluster "${t.tcp.cluster}"`));
        return;
      }
      const h = t.http;
      if (!routeNames.has(h.routeConfig)) errors.push(at([...base, "http", "routeConfig"], `unknown route config "${h.routeConfig}"`));
      h.httpFilters.forEach((flt, fi) => {
        const problems = filters.validate(flt.name, flt.config);
        const fbase = [...base, "http", "filters", fi];
        if (problems === undefined) errors.push(at([...fbase, "name"], `unknown HTTP filter "${flt.name}"`));
        else for (const p of problems) errors.push(at([...fbase, "config", ...p.path], p.message));
        const last = fi === h.httpFilters.length - 1;
        if (problems !== undefined && filters.isTerminal(flt.name) !== last) {
          errors.push(at([...fbase, "name"], last ? `the last HTTP filter must be a terminal filter such as "router"` : `"${flt.name}" is terminal and must be last`));
        }
      });
      const inline = f.listeners[li]?.inlineRoutes.find((r) => r.name === h.routeConfig);
      if (inline) checkRoutes(inline, [...base, "http"], clusterNames, errors, at);
    });
  });
  f.clusters.forEach((c, ci) => {
    if (c.tls.mode !== "mutual") return;
    checkSecret(["clusters", ci, "tls", "secret"], c.tls.files?.credentialName, "certificate");
    const v = c.tls.files?.caCertificates?.replace(/^secret:/, "");
    checkSecret(["clusters", ci, "tls", v ? "validationSecret" : "secret"], v ?? c.tls.files?.credentialName, "validation");
  });
  f.routeConfigs.forEach((rc, ri) => checkRoutes(rc, ["routeConfigs", ri], clusterNames, errors, at));
  const logFilter = f.telemetry?.settings.accessLog.filter;
  if (logFilter !== undefined) {
    for (const d of compileLogFilter(logFilter).diagnostics) errors.push(at(["telemetry", "accessLog", "filter"], `invalid filter: ${d.message}`));
  }
  if (errors.length > 0) return { ok: false, diagnostics: [...diagnostics, ...errors] };

  const config: ProxyConfig = {
    version: contentHash(text),
    ...(f.admin ? { admin: f.admin.address } : {}),
    listeners: f.listeners.map((l) => l.listener),
    routeConfigs,
    clusters: f.clusters,
    secrets: f.secrets,
    ...(f.node ? { node: f.node } : {}),
    ...(f.workload ? { workload: f.workload } : {}),
    ...(f.telemetry ? { telemetry: f.telemetry } : {}),
  };
  return { ok: true, config, warnings: diagnostics };
}

function checkRoutes(rc: RouteConfig, base: PropertyKey[], clusters: Set<string>, errors: Diagnostic[], at: (p: PropertyKey[], m: string) => Diagnostic): void {
  rc.virtualHosts.forEach((vh, vi) => {
    vh.domains.forEach((d, di) => {
      const star = d.indexOf("*");
      if (d !== "*" && star !== -1 && star !== 0 && star !== d.length - 1) {
        errors.push(at([...base, "virtualHosts", vi, "domains", di], "a wildcard domain is `*`, `*.suffix`, `*suffix` or `prefix*`"));
      }
    });
    vh.routes.forEach((r, ri) => checkRoute(r, [...base, "virtualHosts", vi, "routes", ri], clusters, errors, at));
  });
}

function checkRoute(r: Route, base: PropertyKey[], clusters: Set<string>, errors: Diagnostic[], at: (p: PropertyKey[], m: string) => Diagnostic): void {
  r.match.forEach((m, mi) => {
    const mp = [...base, "match", ...(r.match.length > 1 ? [mi] : [])];
    if (m.path && "template" in m.path) {
      const problem = templateProblem(m.path.template);
      if (problem) errors.push(at([...mp, "template"], problem));
    } else if (m.path && "regex" in m.path) regexProblem(m.path.regex, [...mp, "regex"]);
    m.headers?.forEach((h, hi) => regexProblem(regexOf(h.match), [...mp, "headers", hi]));
    m.queryParams?.forEach((q, qi) => regexProblem(regexOf(q.match), [...mp, "queryParams", qi]));
  });
  const a = r.action;
  if (a.kind !== "forward") return;
  if (a.rewrite?.uriRegex) regexProblem(a.rewrite.uriRegex.pattern, [...base, "route", "regexRewrite", "pattern"]);
  a.destinations.forEach((d, di) => {
    if (clusters.has(d.cluster)) return;
    const p = a.destinations.length === 1 ? [...base, "route", "cluster"] : [...base, "route", "weightedClusters", di, "cluster"];
    errors.push(at(p, `unknown cluster "${d.cluster}"`));
  });
  a.mirror?.forEach((m, mi) => {
    if (!clusters.has(m.cluster)) errors.push(at([...base, "route", "mirror", mi, "cluster"], `unknown cluster "${m.cluster}"`));
  });

  function regexProblem(re: string | undefined, path: PropertyKey[]): void {
    if (re === undefined) return;
    try {
      new RegExp(re);
    } catch (e) {
      errors.push(at(path, `invalid regex: ${(e as Error).message}`));
    }
  }
}

function regexOf(m: StringMatch): string | undefined {
  return "regex" in m ? m.regex : undefined;
}

function dupes(names: string[], report: (index: number) => void): void {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) report(i);
    seen.add(n);
  });
}

/** `a.b[2].c` back into `["a", "b", 2, "c"]`. */
function parsePath(s: string): PropertyKey[] {
  const out: PropertyKey[] = [];
  for (const m of s.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : (m[1] as string));
  return out;
}

/** FNV-1a of the text, as the config version. */
function contentHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}
