/**
 * @module proxy/config/schema
 * The zod schema of the static proxy config file (`weft proxy --config FILE`). The file is Envoy-shaped
 * but camelCase and short: listeners with an `http:` or `tcp:` block, route configs with virtual hosts
 * and routes, clusters with endpoints written as `host:port`. Each section transforms into the config
 * model (`types.ts`) and the IR, so nothing downstream ever sees the file's shorthand.
 */
import { z } from "../../core/schema/index.ts";
import type { HashPolicy, HeaderMatch, RetryPolicy, Route, RouteAction, RouteMatch, StringMatch, VirtualHost } from "../../core/ir/model.ts";
import {
  HTTP_DEFAULTS, type DownstreamTlsConfig, type FilterChainConfig, type ListenerConfig, type RouteConfig, type SecretConfig,
} from "./types.ts";
import { clusterSchema } from "./cluster-schema.ts";
import { ms, name, socketAddress } from "./primitives.ts";
import { telemetrySchema, workloadSchema } from "./telemetry-schema.ts";

export { clusterSchema } from "./cluster-schema.ts";

export { parseSocketAddress } from "./primitives.ts";

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

/** Envoy's `retry_on` conditions weft implements (HTTP and gRPC). */
export const RETRY_ON = [
  "5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx", "refused-stream", "retriable-status-codes",
  "cancelled", "deadline-exceeded", "resource-exhausted", "unavailable", "internal",
] as const;

const retryPolicy = z.strictObject({
  /** Retries after the first try (Envoy `num_retries`, Istio `attempts`). */
  attempts: z.number().int().min(0).max(100),
  perTryTimeoutMs: ms.optional(),
  /** A list, or Envoy's comma-separated string. */
  retryOn: z.union([z.array(z.enum(RETRY_ON)), z.string()]).default(["5xx"]),
  retriableStatusCodes: z.array(z.number().int().min(100).max(599)).optional(),
  backoff: z.strictObject({ baseMs: z.number().int().min(1), maxMs: z.number().int().min(1).optional() }).optional(),
  budget: z.strictObject({ percent: z.number().min(0).max(100).default(20), minConcurrency: z.number().int().min(0).default(3) }).optional(),
}).transform((v, ctx): RetryPolicy => {
  const on = typeof v.retryOn === "string" ? v.retryOn.split(",").map((x) => x.trim()).filter(Boolean) : v.retryOn;
  for (const c of on) {
    if (!(RETRY_ON as readonly string[]).includes(c)) ctx.addIssue({ code: "custom", path: ["retryOn"], message: `unknown retry condition "${c}" (known: ${RETRY_ON.join(", ")})` });
  }
  const baseMs = v.backoff?.baseMs ?? 25;
  return {
    attempts: v.attempts,
    retryOn: on,
    ...(v.perTryTimeoutMs !== undefined ? { perTryTimeoutMs: v.perTryTimeoutMs } : {}),
    ...(v.retriableStatusCodes ? { retriableStatusCodes: v.retriableStatusCodes } : {}),
    backoff: { baseMs, maxMs: v.backoff?.maxMs ?? baseMs * 10 },
    ...(v.budget ? { budget: v.budget } : {}),
  };
});

const forward = z.strictObject({
  cluster: name.optional(),
  weightedClusters: z.array(z.strictObject({ cluster: name, weight: z.number().int().min(0).max(1_000_000) })).min(1).optional(),
  timeoutMs: ms.optional(),
  prefixRewrite: z.string().optional(),
  regexRewrite: z.strictObject({ pattern: z.string(), substitution: z.string() }).optional(),
  hostRewrite: z.string().optional(),
  hashPolicy: z.array(hashPolicy).optional(),
  retry: retryPolicy.optional(),
  mirror: z.array(z.strictObject({ cluster: name, percent: z.number().min(0).max(100).default(100) })).optional(),
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
    ...(v.retry ? { retry: v.retry } : {}),
    ...(v.mirror ? { mirror: v.mirror } : {}),
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
  maxRequestBodyBytes: z.number().int().min(0).optional(),
  pathNormalization: z.enum(["NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"]).default(HTTP_DEFAULTS.pathNormalization),
});

const downstreamTls = z.strictObject({
  secret: name,
  validationSecret: name.optional(),
  mode: z.enum(["STRICT", "PERMISSIVE"]).default("STRICT"),
  requireClientCertificate: z.boolean().default(true),
  alpn: z.array(z.enum(["h2", "http/1.1"])).min(1).default(["h2", "http/1.1"]),
}).transform((v): DownstreamTlsConfig => v);

const serverName = z.string().regex(/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, "a host name, or *.suffix");

const tcpBlock = z.strictObject({ cluster: name, idleTimeoutMs: ms.default(3_600_000) });

type HttpBlock = z.output<typeof httpBlock>;
type TcpBlock = z.output<typeof tcpBlock>;

function chainTerminal(listener: string, chain: string, http: HttpBlock | undefined, tcp: TcpBlock | undefined, ctx: z.RefinementCtx, path: PropertyKey[]): { terminal: FilterChainConfig["terminal"]; inlineRoutes?: RouteConfig } {
  if ((http === undefined) === (tcp === undefined)) ctx.addIssue({ code: "custom", path, message: "give exactly one of http, tcp" });
  if (!http) return { terminal: { kind: "tcp", tcp: tcp ?? { cluster: "", idleTimeoutMs: 0 } } };
  const { virtualHosts, routeConfig, filters, ...rest } = http;
  if ((virtualHosts === undefined) === (routeConfig === undefined)) {
    ctx.addIssue({ code: "custom", path: [...path, "http"], message: "give exactly one of routeConfig, virtualHosts" });
  }
  const inlineName = chain === "default" ? `listener/${listener}` : `listener/${listener}/${chain}`;
  const httpFilters = filters ?? [{ name: "router", config: {} }];
  const terminal: FilterChainConfig["terminal"] = { kind: "http", http: { ...rest, routeConfig: routeConfig ?? inlineName, httpFilters } };
  return virtualHosts ? { terminal, inlineRoutes: { name: inlineName, virtualHosts } } : { terminal };
}

const extraChain = z.strictObject({
  name: name,
  match: z.strictObject({ serverNames: z.array(serverName).min(1) }),
  tls: downstreamTls,
  http: httpBlock.optional(),
  tcp: tcpBlock.optional(),
});

/**
 * A listener as written. Its own `http`/`tcp` (and `tls`) are the default filter chain; `filterChains`
 * add chains chosen by TLS SNI. Inline `virtualHosts` become a route config named after the listener.
 */
export const listenerSchema = z.strictObject({
  name: name,
  address: socketAddress,
  /** `inbound` (default: requests to this workload) or `outbound` (this workload's own calls). */
  direction: z.enum(["inbound", "outbound"]).optional(),
  tls: downstreamTls.optional(),
  http: httpBlock.optional(),
  tcp: tcpBlock.optional(),
  filterChains: z.array(extraChain).optional(),
}).transform((v, ctx): { listener: ListenerConfig; inlineRoutes: RouteConfig[] } => {
  const inlineRoutes: RouteConfig[] = [];
  const chains: FilterChainConfig[] = [];
  (v.filterChains ?? []).forEach((c, i) => {
    const t = chainTerminal(v.name, c.name, c.http, c.tcp, ctx, ["filterChains", i]);
    if (t.terminal.kind === "tcp") ctx.addIssue({ code: "custom", path: ["filterChains", i, "tcp"], message: "SNI filter chains are HTTP chains" });
    if (t.inlineRoutes) inlineRoutes.push(t.inlineRoutes);
    chains.push({ name: c.name, match: c.match, tls: c.tls, terminal: t.terminal });
  });
  const d = chainTerminal(v.name, "default", v.http, v.tcp, ctx, []);
  if (d.inlineRoutes) inlineRoutes.push(d.inlineRoutes);
  if (chains.length > 0 && d.terminal.kind === "tcp") ctx.addIssue({ code: "custom", path: ["filterChains"], message: "SNI filter chains need an HTTP listener" });
  chains.push({ name: "default", ...(v.tls ? { tls: v.tls } : {}), terminal: d.terminal });
  const listener: ListenerConfig = { name: v.name, ...v.address, filterChains: chains, ...(v.direction ? { trafficDirection: v.direction === "outbound" ? "OUTBOUND" : "INBOUND" } : {}) };
  return { listener, inlineRoutes };
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
  node: z.strictObject({
    id: z.string().optional(),
    locality: z.strictObject({ region: z.string().optional(), zone: z.string().optional(), subzone: z.string().optional() }).optional(),
  }).optional(),
  workload: workloadSchema.optional(),
  telemetry: telemetrySchema.optional(),
});

export type ProxyFile = z.output<typeof proxyFileSchema>;
