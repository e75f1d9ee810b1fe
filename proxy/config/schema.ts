/**
 * @module proxy/config/schema
 * The zod schema of the static proxy config file (`weft proxy --config FILE`). The file is Envoy-shaped
 * but camelCase and short: listeners with an `http:` or `tcp:` block, route configs with virtual hosts
 * and routes, clusters with endpoints written as `host:port`. Each section transforms into the config
 * model (`types.ts`) and the IR, so nothing downstream ever sees the file's shorthand.
 */
import { z } from "../../core/schema/index.ts";
import type {
  Cluster, Endpoint, HashPolicy, HeaderMatch, LoadBalancer, Route, RouteAction, RouteMatch, StringMatch, VirtualHost,
} from "../../core/ir/model.ts";
import { HTTP_DEFAULTS, type FilterChainConfig, type ListenerConfig, type RouteConfig, type SecretConfig, type SocketAddress } from "./types.ts";

const name = z.string().min(1).max(253);
const ms = z.number().int().min(0).max(365 * 24 * 3600 * 1000);

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseSocketAddress(text: string): SocketAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { address: m[1] ?? (m[2] || "0.0.0.0"), port };
}

const socketAddress = z.string().transform((s, ctx) => {
  const a = parseSocketAddress(s);
  if (!a) {
    ctx.addIssue({ code: "custom", message: `expected HOST:PORT, got "${s}"` });
    return z.NEVER;
  }
  return a;
});

// ------------------------------------------------------------------ string and route matches

const stringMatchFields = {
  exact: z.string().optional(),
  prefix: z.string().optional(),
  suffix: z.string().optional(),
  regex: z.string().optional(),
  present: z.literal(true).optional(),
  ignoreCase: z.boolean().optional(),
};
type StringMatchFields = { exact?: string; prefix?: string; suffix?: string; regex?: string; present?: true; ignoreCase?: boolean };

function toStringMatch(v: StringMatchFields, ctx: z.RefinementCtx): StringMatch {
  const kinds = (["exact", "prefix", "suffix", "regex", "present"] as const).filter((k) => v[k] !== undefined);
  if (kinds.length !== 1) {
    ctx.addIssue({ code: "custom", message: `give exactly one of exact, prefix, suffix, regex, present (got ${kinds.length === 0 ? "none" : kinds.join(", ")})` });
    return { present: true };
  }
  const ic = v.ignoreCase ? { ignoreCase: true } : {};
  if (v.exact !== undefined) return { exact: v.exact, ...ic };
  if (v.prefix !== undefined) return { prefix: v.prefix, ...ic };
  if (v.suffix !== undefined) return { suffix: v.suffix, ...ic };
  if (v.regex !== undefined) return { regex: v.regex };
  return { present: true };
}

const headerMatch = z.strictObject({ name: name, invert: z.boolean().optional(), ...stringMatchFields })
  .transform((v, ctx): HeaderMatch => ({ name: v.name.toLowerCase(), match: toStringMatch(v, ctx), ...(v.invert ? { invert: true } : {}) }));

const queryMatch = z.strictObject({ name: name, ...stringMatchFields })
  .transform((v, ctx) => ({ name: v.name, match: toStringMatch(v, ctx) }));

/** A cookie match becomes a regex on the `cookie` header, as Istio expresses A/B cookie routes. */
const cookieMatch = z.strictObject({ name: z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/), exact: z.string().optional(), regex: z.string().optional(), present: z.literal(true).optional() })
  .transform((v, ctx): HeaderMatch => {
    const kinds = [v.exact, v.regex, v.present].filter((x) => x !== undefined).length;
    if (kinds !== 1) ctx.addIssue({ code: "custom", message: "give exactly one of exact, regex, present" });
    const value = v.exact !== undefined ? escapeRegex(v.exact) : v.regex !== undefined ? `(?:${v.regex})` : "[^;]*";
    return { name: "cookie", match: { regex: `(?:.*;\\s*)?${escapeRegex(v.name)}=${value}(?:;.*)?` } };
  });

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

const routeMatch = z.strictObject({
  path: z.string().optional(),
  prefix: z.string().optional(),
  regex: z.string().optional(),
  template: z.string().optional(),
  ignoreCase: z.boolean().optional(),
  methods: z.array(z.string().regex(/^[A-Z]+$/, "methods are upper case tokens")).optional(),
  headers: z.array(headerMatch).optional(),
  queryParams: z.array(queryMatch).optional(),
  cookies: z.array(cookieMatch).optional(),
}).transform((v, ctx): RouteMatch => {
  const kinds = (["path", "prefix", "regex", "template"] as const).filter((k) => v[k] !== undefined);
  if (kinds.length > 1) ctx.addIssue({ code: "custom", message: `give at most one of path, prefix, regex, template (got ${kinds.join(", ")})` });
  const ic = v.ignoreCase ? { ignoreCase: true } : {};
  const out: RouteMatch = {};
  if (v.path !== undefined) out.path = { exact: v.path, ...ic };
  else if (v.prefix !== undefined) out.path = { prefix: v.prefix, ...ic };
  else if (v.regex !== undefined) out.path = { regex: v.regex };
  else if (v.template !== undefined) out.path = { template: v.template };
  if (v.ignoreCase) out.ignoreUriCase = true;
  if (v.methods) out.methods = v.methods;
  const headers = [...(v.headers ?? []), ...(v.cookies ?? [])];
  const positive = headers.filter((h) => !h.invert);
  const negative = headers.filter((h) => h.invert).map(({ name: n, match }) => ({ name: n, match }));
  if (positive.length) out.headers = positive;
  if (negative.length) out.withoutHeaders = negative;
  if (v.queryParams) out.queryParams = v.queryParams;
  return out;
});

// ------------------------------------------------------------------ route actions

const hashPolicy = z.union([
  z.strictObject({ header: name }).transform((v): HashPolicy => ({ header: v.header.toLowerCase() })),
  z.strictObject({ cookie: name }),
  z.strictObject({ sourceIp: z.literal(true) }),
  z.strictObject({ queryParam: name }),
]);

const forward = z.strictObject({
  cluster: name.optional(),
  weightedClusters: z.array(z.strictObject({ cluster: name, weight: z.number().int().min(0).max(1_000_000) })).min(1).optional(),
  timeoutMs: ms.optional(),
  prefixRewrite: z.string().optional(),
  regexRewrite: z.strictObject({ pattern: z.string(), substitution: z.string() }).optional(),
  hostRewrite: z.string().optional(),
  hashPolicy: z.array(hashPolicy).optional(),
}).transform((v, ctx): RouteAction => {
  if ((v.cluster === undefined) === (v.weightedClusters === undefined)) {
    ctx.addIssue({ code: "custom", message: "give exactly one of cluster, weightedClusters" });
  }
  if (v.weightedClusters && v.weightedClusters.every((w) => w.weight === 0)) {
    ctx.addIssue({ code: "custom", path: ["weightedClusters"], message: "at least one weight must be above 0" });
  }
  const destinations = v.cluster !== undefined ? [{ cluster: v.cluster, weight: 1 }] : (v.weightedClusters ?? []);
  const rewrite = v.prefixRewrite !== undefined || v.regexRewrite || v.hostRewrite
    ? {
        ...(v.prefixRewrite !== undefined ? { pathPrefix: v.prefixRewrite } : {}),
        ...(v.regexRewrite ? { uriRegex: v.regexRewrite } : {}),
        ...(v.hostRewrite ? { authority: v.hostRewrite } : {}),
      }
    : undefined;
  return {
    kind: "forward", destinations,
    ...(v.timeoutMs !== undefined ? { timeoutMs: v.timeoutMs } : {}),
    ...(rewrite ? { rewrite } : {}),
    ...(v.hashPolicy ? { hashPolicy: v.hashPolicy } : {}),
  };
});

const redirect = z.strictObject({
  status: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).default(301),
  scheme: z.enum(["http", "https"]).optional(),
  host: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  path: z.string().startsWith("/").optional(),
  prefix: z.string().startsWith("/").optional(),
}).transform((v): RouteAction => ({ kind: "redirect", ...v }));

const directResponse = z.strictObject({
  status: z.number().int().min(200).max(599),
  body: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
}).transform((v): RouteAction => ({ kind: "direct", ...v }));

const route = z.strictObject({
  name: name.optional(),
  match: z.union([routeMatch, z.array(routeMatch).min(1)]).optional(),
  route: forward.optional(),
  redirect: redirect.optional(),
  directResponse: directResponse.optional(),
}).transform((v, ctx): Route => {
  const actions = [v.route, v.redirect, v.directResponse].filter((a) => a !== undefined);
  if (actions.length !== 1) ctx.addIssue({ code: "custom", message: "give exactly one of route, redirect, directResponse" });
  const match = v.match === undefined ? [{ path: { prefix: "/" } }] : Array.isArray(v.match) ? v.match : [v.match];
  return { ...(v.name ? { name: v.name } : {}), match, action: actions[0] ?? { kind: "direct", status: 500 } };
});

const virtualHost = z.strictObject({
  name: name,
  domains: z.array(z.string().min(1)).min(1),
  routes: z.array(route),
}).transform((v): VirtualHost => v);

export const routeConfigSchema = z.strictObject({
  name: name,
  virtualHosts: z.array(virtualHost),
}).transform((v): RouteConfig => v);

// ------------------------------------------------------------------ clusters

const endpoint = z.union([
  socketAddress.transform((a): Endpoint => ({ ...a, health: "unknown" })),
  z.strictObject({
    address: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    weight: z.number().int().min(1).max(128).optional(),
    health: z.enum(["healthy", "unhealthy", "draining", "unknown"]).default("unknown"),
  }).transform((v): Endpoint => v),
]);

const lb = z.union([
  z.enum(["round-robin", "least-request", "random", "ring-hash", "maglev"]).transform((kind) => ({ kind }) as LoadBalancer),
  z.strictObject({ kind: z.literal("round-robin") }),
  z.strictObject({ kind: z.literal("least-request"), choiceCount: z.number().int().min(2).max(10).optional() }),
  z.strictObject({ kind: z.literal("random") }),
  z.strictObject({ kind: z.literal("ring-hash"), minRingSize: z.number().int().min(1).max(8_388_608).optional() }),
  z.strictObject({ kind: z.literal("maglev"), tableSize: z.number().int().min(1).max(5_000_011).optional() }),
]);

export const clusterSchema = z.strictObject({
  name: name,
  protocol: z.enum(["http", "http2", "grpc"]).default("http"),
  lb: lb.default({ kind: "round-robin" }),
  connectTimeoutMs: ms.optional(),
  circuitBreakers: z.strictObject({
    maxConnections: z.number().int().min(1).optional(),
    maxPendingRequests: z.number().int().min(0).optional(),
    maxRequests: z.number().int().min(1).optional(),
    maxRetries: z.number().int().min(0).optional(),
    maxRequestsPerConnection: z.number().int().min(1).optional(),
  }).optional(),
  endpoints: z.array(endpoint),
}).transform((v): Cluster => ({
  name: v.name,
  protocol: v.protocol,
  lb: v.lb,
  endpoints: v.endpoints,
  tls: { mode: "disable" },
  ...(v.circuitBreakers || v.connectTimeoutMs !== undefined
    ? { circuitBreakers: { ...v.circuitBreakers, ...(v.connectTimeoutMs !== undefined ? { connectTimeoutMs: v.connectTimeoutMs } : {}) } }
    : {}),
}));

// ------------------------------------------------------------------ listeners

const httpFilter = z.strictObject({ name: name, config: z.unknown().optional() })
  .transform((v) => ({ name: v.name, config: v.config ?? {} }));

const httpBlock = z.strictObject({
  codec: z.enum(["auto", "http1", "http2"]).default(HTTP_DEFAULTS.codec),
  routeConfig: name.optional(),
  virtualHosts: z.array(virtualHost).optional(),
  filters: z.array(httpFilter).optional(),
  generateRequestId: z.boolean().default(HTTP_DEFAULTS.generateRequestId),
  appendForwardedFor: z.boolean().default(HTTP_DEFAULTS.appendForwardedFor),
  accessLog: z.boolean().default(HTTP_DEFAULTS.accessLog),
  requestHeadersTimeoutMs: ms.default(HTTP_DEFAULTS.requestHeadersTimeoutMs),
  idleTimeoutMs: ms.default(HTTP_DEFAULTS.idleTimeoutMs),
  maxRequestHeadersBytes: z.number().int().min(1024).max(1024 * 1024).default(HTTP_DEFAULTS.maxRequestHeadersBytes),
});

const tcpBlock = z.strictObject({ cluster: name, idleTimeoutMs: ms.default(3_600_000) });

/** A listener as written; `virtualHosts` inline become a route config named after the listener. */
export const listenerSchema = z.strictObject({
  name: name,
  address: socketAddress,
  http: httpBlock.optional(),
  tcp: tcpBlock.optional(),
}).transform((v, ctx): { listener: ListenerConfig; inlineRoutes?: RouteConfig } => {
  if ((v.http === undefined) === (v.tcp === undefined)) ctx.addIssue({ code: "custom", message: "give exactly one of http, tcp" });
  let terminal: FilterChainConfig["terminal"];
  let inlineRoutes: RouteConfig | undefined;
  if (v.http) {
    const { virtualHosts, routeConfig, filters, ...rest } = v.http;
    if ((virtualHosts === undefined) === (routeConfig === undefined)) {
      ctx.addIssue({ code: "custom", path: ["http"], message: "give exactly one of routeConfig, virtualHosts" });
    }
    if (virtualHosts) inlineRoutes = { name: `listener/${v.name}`, virtualHosts };
    const httpFilters = filters ?? [{ name: "router", config: {} }];
    terminal = { kind: "http", http: { ...rest, routeConfig: routeConfig ?? `listener/${v.name}`, httpFilters } };
  } else {
    terminal = { kind: "tcp", tcp: v.tcp ?? { cluster: "", idleTimeoutMs: 0 } };
  }
  const listener: ListenerConfig = { name: v.name, ...v.address, filterChains: [{ name: "default", terminal }] };
  return inlineRoutes ? { listener, inlineRoutes } : { listener };
});

const secret = z.strictObject({
  name: name,
  tlsCertificate: z.strictObject({ certificateChainFile: z.string(), privateKeyFile: z.string() }).optional(),
  validationContext: z.strictObject({ trustedCaFile: z.string() }).optional(),
}).transform((v): SecretConfig => v);

/** The whole file. */
export const proxyFileSchema = z.strictObject({
  admin: z.strictObject({ address: socketAddress }).optional(),
  listeners: z.array(listenerSchema).default([]),
  routeConfigs: z.array(routeConfigSchema).default([]),
  clusters: z.array(clusterSchema).default([]),
  secrets: z.array(secret).default([]),
});

export type ProxyFile = z.output<typeof proxyFileSchema>;
