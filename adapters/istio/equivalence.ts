/**
 * @module adapters/istio/equivalence
 * When two Istio objects mean the same: `canonicalIstio` rewrites an object into one canonical form —
 * Istio's defaults written out (retries, timeouts, weights, redirect codes, mirror and fault percentages,
 * load balancer, outlier values, auto mTLS, JWT token locations, ServiceEntry location and resolution),
 * deprecated spellings replaced by their successors (`mirror` → `mirrors`, `allowOrigin` →
 * `allowOrigins`, `targetRef` → `targetRefs`, `jwks_uri` → `jwksUri`, `LEAST_CONN` → `LEAST_REQUEST`),
 * short host names qualified, durations in milliseconds, sets sorted, empty values dropped — and a
 * DestinationRule into the effective policy of every (subset, port) it distinguishes, as Istio merges them.
 * Two objects are equivalent when their canonical forms are deeply equal. Written from Istio's
 * documented semantics, independently of the converters it is used to check.
 */
import { parseGoDuration } from "../../core/resources/istio/duration.ts";

type Obj = Record<string, unknown>;
type Any = any; // canonicalization walks arbitrary YAML

export interface CanonicalOptions {
  domain?: string;
  defaultNamespace?: string;
}

/** Drops null, undefined, empty lists/maps and false, recursively; sorts map keys. */
export function prune(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out = v.map(prune).filter((x) => x !== undefined);
    return out.length ? out : undefined;
  }
  if (v && typeof v === "object") {
    const out: Obj = {};
    for (const k of Object.keys(v).sort()) {
      const x = prune((v as Obj)[k]);
      if (x !== undefined) out[k] = x;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (v === null || v === undefined || v === false) return undefined;
  return v;
}

const dur = (d: unknown) => (typeof d === "string" ? parseGoDuration(d)! / 1e6 : d);
const sortStr = (xs: unknown) => (Array.isArray(xs) ? [...xs].map(String).sort() : xs);
const byKey = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

function fq(host: string, ns: string, domain: string): string {
  if (host === "*" || host.includes(".") || host.includes(":")) return host;
  return `${host}.${ns}.svc.${domain}`;
}

function gw(ref: string, ns: string): string {
  if (ref === "mesh" || ref.includes("/")) return ref;
  if (ref.includes(".")) {
    const [n, s] = ref.split(".");
    return `${s}/${n}`;
  }
  return `${ns}/${ref}`;
}

const DEFAULT_RETRY_ON = "cancelled,connect-failure,refused-stream,retriable-status-codes,unavailable";

function destination(d: Any, ns: string, domain: string): Any {
  return { host: fq(d.host, ns, domain), subset: d.subset, port: d.port?.number };
}

function httpRoute(r: Any, ns: string, domain: string): Any {
  const out: Any = { ...r };
  out.match = (r.match?.length ? r.match : [{}]).map((m: Any) => {
    const x: Any = { ...m, gateways: m.gateways ? sortStr(m.gateways.map((g: string) => gw(g, ns))) : undefined };
    if (m.method?.regex && /^[A-Z|]+$/.test(m.method.regex)) x.method = m.method.regex.includes("|") ? { regex: m.method.regex.split("|").sort().join("|") } : { exact: m.method.regex };
    return x;
  }).sort(byKey);
  if (r.route) {
    out.route = r.route.map((d: Any) => ({ ...d, destination: destination(d.destination, ns, domain), weight: r.route.length === 1 ? 100 : (d.weight ?? 0) }));
  }
  if (!r.redirect && !r.directResponse && !r.delegate) {
    out.timeout = dur(r.timeout ?? "0s");
    const rt = r.retries;
    if (!rt) out.retries = { attempts: 2, retryOn: DEFAULT_RETRY_ON, retryIgnorePreviousHosts: true };
    else if (!rt.attempts || rt.attempts <= 0) out.retries = { attempts: 0 };
    else {
      const parts = new Set<string>((rt.retryOn ?? DEFAULT_RETRY_ON).split(",").map((p: string) => p.trim()).filter(Boolean));
      if ([...parts].some((p) => /^\d{3}$/.test(p))) parts.add("retriable-status-codes");
      out.retries = { ...rt, retryOn: [...parts].sort().join(","), perTryTimeout: dur(rt.perTryTimeout), backoff: dur(rt.backoff), retryIgnorePreviousHosts: rt.retryIgnorePreviousHosts ?? true };
    }
    const mirrors = [
      ...(r.mirror ? [{ destination: r.mirror, percentage: { value: r.mirrorPercentage?.value ?? r.mirrorPercent ?? r.mirror_percent ?? 100 } }] : []),
      ...(r.mirrors ?? []).map((m: Any) => ({ destination: m.destination, percentage: { value: m.percentage?.value ?? 100 } })),
    ].map((m) => ({ ...m, destination: destination(m.destination, ns, domain) }));
    delete out.mirror;
    delete out.mirrorPercentage;
    delete out.mirrorPercent;
    delete out.mirror_percent;
    out.mirrors = mirrors;
  }
  if (r.redirect) out.redirect = { ...r.redirect, redirectCode: r.redirect.redirectCode ?? 301 };
  if (r.directResponse?.body?.bytes) out.directResponse = { ...r.directResponse, body: { string: new TextDecoder().decode(Uint8Array.from(atob(r.directResponse.body.bytes), (c) => c.charCodeAt(0))) } };
  if (r.fault) {
    const f = r.fault;
    out.fault = {
      delay: f.delay ? { fixedDelay: dur(f.delay.fixedDelay), exponentialDelay: dur(f.delay.exponentialDelay), percentage: f.delay.percentage?.value ?? f.delay.percent ?? 0 } : undefined,
      abort: f.abort ? { ...f.abort, percentage: f.abort.percentage?.value ?? 0 } : undefined,
    };
  }
  if (r.corsPolicy) {
    const c = r.corsPolicy;
    out.corsPolicy = {
      ...c, allowOrigin: undefined, unmatchedPreflights: c.unmatchedPreflights === "UNSPECIFIED" ? undefined : c.unmatchedPreflights,
      allowOrigins: [...(c.allowOrigins ?? []), ...(c.allowOrigin ?? []).map((o: string) => ({ exact: o }))], maxAge: dur(c.maxAge),
    };
  }
  return out;
}

function l4Route(r: Any, ns: string, domain: string): Any {
  return {
    match: r.match?.map((m: Any) => ({ ...m, gateways: m.gateways ? sortStr(m.gateways.map((g: string) => gw(g, ns))) : undefined })),
    route: (r.route ?? []).map((d: Any) => ({ destination: destination(d.destination, ns, domain), weight: r.route.length === 1 ? 100 : (d.weight ?? 0) })),
  };
}

function virtualService(spec: Any, ns: string, domain: string): Any {
  return {
    hosts: sortStr((spec.hosts ?? []).map((h: string) => fq(h, ns, domain))),
    gateways: spec.gateways ? sortStr(spec.gateways.map((g: string) => gw(g, ns))) : undefined,
    http: spec.http?.map((r: Any) => httpRoute(r, ns, domain)),
    tcp: spec.tcp?.map((r: Any) => l4Route(r, ns, domain)),
    tls: spec.tls?.map((r: Any) => l4Route(r, ns, domain)),
    exportTo: sortStr(spec.exportTo),
  };
}

// ---------------------------------------------------------------- DestinationRule: effective policies

function lb(l: Any): Any {
  if (!l) return { simple: "LEAST_REQUEST" };
  if (l.consistentHash) {
    const ch = l.consistentHash;
    const { minimumRingSize, ringHash, maglev, ...key } = ch;
    return { consistentHash: { ...key, httpCookie: key.httpCookie ? { ...key.httpCookie, ttl: dur(key.httpCookie.ttl) } : undefined, ...(maglev ? { maglev } : { ringHash: { minimumRingSize: ringHash?.minimumRingSize ?? minimumRingSize ?? 1024 } }) } };
  }
  return { ...l, simple: !l.simple || l.simple === "LEAST_CONN" || l.simple === "UNSPECIFIED" ? "LEAST_REQUEST" : l.simple };
}

function pool(p: Any): Any {
  if (!p) return undefined;
  const t = p.tcp ?? {};
  const h = p.http ?? {};
  return {
    tcp: { ...t, connectTimeout: dur(t.connectTimeout), idleTimeout: dur(t.idleTimeout), maxConnectionDuration: dur(t.maxConnectionDuration), tcpKeepalive: t.tcpKeepalive ? { ...t.tcpKeepalive, time: dur(t.tcpKeepalive.time), interval: dur(t.tcpKeepalive.interval) } : undefined },
    http: { ...h, idleTimeout: dur(h.idleTimeout), h2UpgradePolicy: h.h2UpgradePolicy === "DEFAULT" ? undefined : h.h2UpgradePolicy },
  };
}

function outlier(o: Any): Any {
  if (!o) return undefined;
  return {
    consecutive5xxErrors: o.consecutive5xxErrors ?? 5, consecutiveGatewayErrors: o.consecutiveGatewayErrors, interval: dur(o.interval ?? "10s"),
    baseEjectionTime: dur(o.baseEjectionTime ?? "30s"), maxEjectionPercent: o.maxEjectionPercent || 10, minHealthPercent: o.minHealthPercent ?? 0,
    splitExternalLocalOriginErrors: o.splitExternalLocalOriginErrors, consecutiveLocalOriginFailures: o.splitExternalLocalOriginErrors ? o.consecutiveLocalOriginFailures : undefined,
  };
}

function tls(t: Any, cluster: string): Any {
  if (!t?.mode) return { mode: "AUTO" };
  if (t.mode === "ISTIO_MUTUAL") return { ...t, sni: t.sni || cluster };
  return t;
}

const FOUR = ["loadBalancer", "connectionPool", "outlierDetection", "tls"] as const;
const portEntry = (tp: Any, port: number) => tp?.portLevelSettings?.find((p: Any) => p.port?.number === port);

function effective(rule: Any, subset: Any, port: number | undefined): Any {
  const rp = port !== undefined ? portEntry(rule, port) : undefined;
  const original: Any = {};
  for (const k of FOUR) original[k] = (rp ?? rule ?? {})[k];
  if (!subset) return original;
  const sp = port !== undefined ? portEntry(subset, port) : undefined;
  for (const k of FOUR) if ((sp ?? subset)[k] || sp) original[k] = (sp ?? subset)[k];
  return original;
}

function destinationRule(spec: Any, ns: string, domain: string): Any {
  const host = fq(spec.host, ns, domain);
  const rule = spec.trafficPolicy;
  const rulePorts: number[] = (rule?.portLevelSettings ?? []).map((p: Any) => p.port?.number);
  const clusters: Obj = {};
  const add = (subset: string | undefined, port: number | undefined, e: Any) => {
    const name = `outbound|${port ?? ""}|${subset ?? ""}|${host}`;
    clusters[name] = { loadBalancer: lb(e.loadBalancer), connectionPool: pool(e.connectionPool), outlierDetection: outlier(e.outlierDetection), tls: tls(e.tls, name) };
  };
  add(undefined, undefined, effective(rule, undefined, undefined));
  for (const p of rulePorts) add(undefined, p, effective(rule, undefined, p));
  for (const s of spec.subsets ?? []) {
    add(s.name, undefined, effective(rule, s.trafficPolicy, undefined));
    const ports = new Set<number>([...rulePorts, ...(s.trafficPolicy?.portLevelSettings ?? []).map((p: Any) => p.port?.number)]);
    for (const p of ports) add(s.name, p, effective(rule, s.trafficPolicy, p));
  }
  return {
    host, clusters, exportTo: sortStr(spec.exportTo), workloadSelector: spec.workloadSelector,
    subsets: (spec.subsets ?? []).map((s: Any) => ({ name: s.name, labels: s.labels })).sort(byKey),
  };
}

// ---------------------------------------------------------------- the other kinds

function serviceEntry(spec: Any): Any {
  const ports = (spec.ports ?? []).map((p: Any) => ({ ...p, protocol: p.protocol?.toUpperCase() }));
  return {
    ...spec,
    hosts: sortStr(spec.hosts), addresses: sortStr(spec.addresses), exportTo: sortStr(spec.exportTo), subjectAltNames: sortStr(spec.subjectAltNames),
    location: spec.location ?? "MESH_INTERNAL", resolution: spec.resolution ?? "NONE", ports,
    endpoints: spec.endpoints?.map((e: Any) => {
      const named = Object.entries(e.ports ?? {}).filter(([name, n]) => {
        const sp = ports.find((p: Any) => p.name === name);
        return !sp || n !== (sp.targetPort ?? sp.number);
      });
      return { ...e, ports: Object.fromEntries(named), serviceAccount: e.serviceAccount === "default" ? undefined : e.serviceAccount };
    }).sort(byKey),
  };
}

const targets = (spec: Any) => ({ ...spec, targetRef: undefined, targetRefs: spec.targetRefs ?? (spec.targetRef ? [spec.targetRef] : undefined) });

function requestAuthentication(spec: Any): Any {
  return {
    ...targets(spec),
    jwtRules: spec.jwtRules?.map((r: Any) => {
      const custom = r.fromHeaders?.length || r.fromParams?.length || r.fromCookies?.length;
      return {
        ...r, jwks_uri: undefined, jwksUri: r.jwksUri ?? r.jwks_uri, timeout: dur(r.timeout),
        fromHeaders: custom ? r.fromHeaders : [{ name: "Authorization", prefix: "Bearer " }], fromParams: custom ? r.fromParams : ["access_token"],
      };
    }),
  };
}

const withMode = (m: Any) => ({ ...m, mode: m?.mode ?? "CLIENT_AND_SERVER" });

function telemetry(spec: Any): Any {
  return {
    ...targets(spec),
    tracing: spec.tracing?.map((t: Any) => ({ ...t, match: withMode(t.match) })),
    metrics: spec.metrics?.map((m: Any) => ({
      ...m, reportingInterval: dur(m.reportingInterval),
      overrides: m.overrides?.map((o: Any) => ({
        ...o, match: withMode(o.match),
        tagOverrides: o.tagOverrides ? Object.fromEntries(Object.entries(o.tagOverrides).map(([k, v]: [string, Any]) => [k, { ...v, operation: v.operation ?? "UPSERT" }])) : undefined,
      })),
    })),
    accessLogging: spec.accessLogging?.map((a: Any) => ({ ...a, match: withMode(a.match) })),
  };
}

/**
 * The canonical form of one Istio object (see the module comment).
 * @example
 * expect(canonicalIstio(emitted)).toEqual(canonicalIstio(original));
 */
export function canonicalIstio(obj: Obj, options: CanonicalOptions = {}): unknown {
  const o = obj as Any;
  const ns: string = o.metadata?.namespace ?? options.defaultNamespace ?? "default";
  const domain = options.domain ?? "cluster.local";
  const spec: Any = o.spec ?? {};
  let s: Any;
  switch (o.kind) {
    case "VirtualService": s = virtualService(spec, ns, domain); break;
    case "DestinationRule": s = destinationRule(spec, ns, domain); break;
    case "ServiceEntry": s = serviceEntry(spec); break;
    case "WorkloadEntry": s = { ...spec, serviceAccount: spec.serviceAccount === "default" ? undefined : spec.serviceAccount }; break;
    case "AuthorizationPolicy": s = { ...targets(spec), action: spec.action ?? "ALLOW", rules: spec.rules?.length ? spec.rules : undefined }; break;
    case "PeerAuthentication": s = { ...spec, mtls: { mode: spec.mtls?.mode ?? "UNSET" } }; break;
    case "RequestAuthentication": s = requestAuthentication(spec); break;
    case "Telemetry": s = telemetry(spec); break;
    default: s = spec;
  }
  const dryRun = o.metadata?.annotations?.["istio.io/dry-run"] === "true";
  return prune({ kind: o.kind, metadata: { name: o.metadata?.name, namespace: ns, dryRun }, spec: s });
}
