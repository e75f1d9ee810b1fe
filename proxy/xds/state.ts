/**
 * @module proxy/xds/state
 * The xDS resources a proxy has accepted, translated, and their assembly into one `ProxyConfig`.
 * `applyResponse` takes one state-of-the-world response (LDS/CDS: the complete set; RDS/EDS/SDS: the
 * changed ones, the other subscribed resources stay): it decodes and translates every resource, and
 * refuses the whole response — naming resource, field and reason — when one
 * has an error, so the caller NACKs and the last good set stays. `assembleConfig` joins the accepted
 * sets: listeners with their route configs (HTTP filters get their per-route settings here), clusters
 * with their load assignments, and the secrets everything references. While something referenced has
 * not arrived yet, it reports what it waits for instead of a config (Envoy's warming), so a half-known
 * update is never served. Immutable: each call returns a new state.
 */
import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { ClusterSchema } from "../../gen/proto/envoy/config/cluster/v3/cluster_pb.ts";
import { ClusterLoadAssignmentSchema } from "../../gen/proto/envoy/config/endpoint/v3/endpoint_pb.ts";
import { ListenerSchema } from "../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import { RouteConfigurationSchema } from "../../gen/proto/envoy/config/route/v3/route_pb.ts";
import { SecretSchema } from "../../gen/proto/envoy/extensions/transport_sockets/tls/v3/secret_pb.ts";
import type { Endpoint } from "../../core/ir/model.ts";
import type { FilterCatalog } from "../config/load.ts";
import type { FilterChainConfig, HttpFilterConfig, ListenerConfig, ProxyConfig, RouteConfig, SecretConfig, SocketAddress } from "../config/types.ts";
import { translateCluster, translateEndpoints, type ClusterDraft } from "./cluster.ts";
import { createIssueSink, formatIssue, joinPath, type XdsIssue } from "./issues.ts";
import { translateListener, type ListenerDraft } from "./listener.ts";
import { translateRouteConfiguration, type Mutation, type RouteDraft } from "./route.ts";
import { translateSecret } from "./secret.ts";
import { KIND_OF, TypeUrl, type ResourceType } from "./type-urls.ts";

export interface XdsState {
  readonly versions: Readonly<Partial<Record<ResourceType, string>>>;
  readonly listeners: ReadonlyMap<string, ListenerDraft>;
  readonly routes: ReadonlyMap<string, RouteDraft>;
  readonly clusters: ReadonlyMap<string, ClusterDraft>;
  readonly endpoints: ReadonlyMap<string, Endpoint[]>;
  readonly secrets: ReadonlyMap<string, SecretConfig>;
  /** Fields and filters left out, per type, from the last accepted set. */
  readonly ignored: Readonly<Partial<Record<ResourceType, XdsIssue[]>>>;
}

export const EMPTY_STATE: XdsState = { versions: {}, listeners: new Map(), routes: new Map(), clusters: new Map(), endpoints: new Map(), secrets: new Map(), ignored: {} };

export interface TranslateOptions {
  /** The weft HTTP filters that exist, with their config validation (`createFilterCatalog(httpFilters)`). */
  catalog: FilterCatalog;
  available: ReadonlySet<string>;
}

export type ResponseResult = { ok: true; state: XdsState } | { ok: false; errors: XdsIssue[]; message: string };

const SCHEMAS: Record<ResourceType, DescMessage> = {
  listener: ListenerSchema, route: RouteConfigurationSchema, cluster: ClusterSchema, endpoint: ClusterLoadAssignmentSchema, secret: SecretSchema,
};

/** The NACK message: every error, one per line (Envoy puts the reason in `error_detail.message`). */
export function nackMessage(errors: readonly XdsIssue[]): string {
  const lines = errors.slice(0, 20).map(formatIssue);
  if (errors.length > 20) lines.push(`... and ${errors.length - 20} more`);
  return lines.join("\n");
}

/**
 * Translates one response; `ok: false` means NACK (the state is unchanged). `subscribed` is the
 * current subscription of an RDS/EDS/SDS type: resources it names that the response leaves out stay.
 * @example
 * const r = applyResponse(state, "listener", res.resources, res.versionInfo, options);
 * if (!r.ok) nack(r.message);
 */
export function applyResponse(state: XdsState, type: ResourceType, resources: readonly Any[], version: string, options: TranslateOptions, subscribed?: readonly string[]): ResponseResult {
  const errors: XdsIssue[] = [];
  const ignored: XdsIssue[] = [];
  const kind = KIND_OF[type];
  const decoded: { name: string; msg: unknown }[] = [];
  resources.forEach((any, i) => {
    if (any.typeUrl !== TypeUrl[type]) {
      errors.push({ kind, resource: `#${i}`, path: "", message: `a ${type} response carries ${any.typeUrl}` });
      return;
    }
    try {
      const msg = fromBinary(SCHEMAS[type], any.value) as { name?: string; clusterName?: string };
      decoded.push({ name: (type === "endpoint" ? msg.clusterName : msg.name) ?? "", msg });
    } catch (err) {
      errors.push({ kind, resource: `#${i}`, path: "", message: `cannot decode: ${(err as Error).message}` });
    }
  });
  const seen = new Set<string>();
  for (const d of decoded) {
    if (seen.has(d.name)) errors.push({ kind, resource: d.name, path: "name", message: "duplicate resource name" });
    seen.add(d.name);
  }
  const next = { ...state, versions: { ...state.versions, [type]: version }, ignored: { ...state.ignored, [type]: ignored } } as {
    -readonly [K in keyof XdsState]: XdsState[K];
  };
  // LDS and CDS responses carry the full set; RDS, EDS and SDS responses may carry only what changed
  // (state of the world allows it for these types): the other subscribed resources stay as they were.
  const kept = <V>(old: ReadonlyMap<string, V>): Map<string, V> =>
    new Map(subscribed ? [...old].filter(([n]) => subscribed.includes(n)) : []);
  switch (type) {
    case "listener": {
      const m = new Map<string, ListenerDraft>();
      for (const d of decoded) {
        const l = translateListener(d.msg as never, { available: options.available }, createIssueSink(kind, d.name, errors, ignored));
        if (l) m.set(d.name, l);
      }
      next.listeners = m;
      break;
    }
    case "route": {
      const m = kept(state.routes);
      for (const d of decoded) m.set(d.name, translateRouteConfiguration(d.msg as never, createIssueSink(kind, d.name, errors, ignored)));
      next.routes = m;
      break;
    }
    case "cluster": {
      const m = new Map<string, ClusterDraft>();
      for (const d of decoded) {
        const c = translateCluster(d.msg as never, createIssueSink(kind, d.name, errors, ignored));
        if (c) m.set(d.name, c);
      }
      next.clusters = m;
      break;
    }
    case "endpoint": {
      const m = kept(state.endpoints);
      for (const d of decoded) m.set(d.name, translateEndpoints(d.msg as never, createIssueSink(kind, d.name, errors, ignored)));
      next.endpoints = m;
      break;
    }
    case "secret": {
      const m = kept(state.secrets);
      for (const d of decoded) {
        const s = translateSecret(d.msg as never, createIssueSink(kind, d.name, errors, ignored));
        if (s) m.set(d.name, s);
        else m.delete(d.name);
      }
      next.secrets = m;
      break;
    }
  }
  if (errors.length) return { ok: false, errors, message: nackMessage(errors) };
  return { ok: true, state: next };
}

/** The names the accepted listeners and clusters reference, to subscribe to (RDS, EDS, SDS). */
export function references(state: XdsState): { route: string[]; endpoint: string[]; secret: string[] } {
  const route = new Set<string>();
  const secret = new Set<string>();
  const local = new Set<string>();
  for (const l of state.listeners.values()) {
    for (const s of l.secrets) local.add(s.name);
    for (const c of l.chains) {
      if (c.terminal.kind === "http" && c.terminal.hcm.rds !== undefined) route.add(c.terminal.hcm.rds);
      if (c.tls) {
        secret.add(c.tls.secret);
        if (c.tls.validationSecret) secret.add(c.tls.validationSecret);
      }
    }
  }
  const endpoint = new Set<string>();
  for (const c of state.clusters.values()) {
    for (const s of c.secrets) local.add(s.name);
    if (c.eds !== undefined) endpoint.add(c.eds);
    const t = c.cluster.tls;
    if (t.mode === "mutual" && t.files?.credentialName) {
      secret.add(t.files.credentialName);
      const v = t.files.caCertificates?.replace(/^secret:/, "");
      if (v) secret.add(v);
    }
  }
  for (const n of local) secret.delete(n);
  return { route: [...route].sort(), endpoint: [...endpoint].sort(), secret: [...secret].sort() };
}

export type AssembleResult =
  | { status: "ready"; config: ProxyConfig; ignored: XdsIssue[] }
  | { status: "waiting"; waitingFor: string[] }
  | { status: "invalid"; errors: XdsIssue[]; message: string };

function weftMutation(m: Mutation | undefined): Record<string, unknown> | undefined {
  if (!m) return undefined;
  return { ...(m.remove ? { remove: m.remove } : {}), ...(m.set ? { set: m.set } : {}), ...(m.add ? { add: m.add } : {}) };
}

export interface AssembleOptions extends TranslateOptions {
  /** The proxy's node (its locality steers load balancing). */
  proxyNode?: ProxyConfig["node"];
  admin?: SocketAddress;
}

/**
 * Joins the accepted sets into a proxy config, or says what is missing or wrong.
 * @example
 * const a = assembleConfig(state, options);
 * if (a.status === "ready") await server.apply(a.config);
 */
export function assembleConfig(state: XdsState, options: AssembleOptions): AssembleResult {
  const waiting = new Set<string>();
  // Like Envoy's initialization: nothing is served before the first listener and cluster sets arrived.
  if (state.versions.listener === undefined) waiting.add("Listener (first response)");
  if (state.versions.cluster === undefined) waiting.add("Cluster (first response)");
  const errors: XdsIssue[] = [];
  const ignored: XdsIssue[] = [];
  const listeners: ListenerConfig[] = [];
  const routeConfigs = new Map<string, RouteConfig>();
  const secrets = new Map<string, SecretConfig>(state.secrets);
  const needSecret = (name: string | undefined) => {
    if (name !== undefined && !secrets.has(name)) waiting.add(`Secret/${name}`);
  };
  for (const l of state.listeners.values()) {
    for (const s of l.secrets) secrets.set(s.name, s);
    const issues = createIssueSink("Listener", l.name, errors, ignored);
    const chains: FilterChainConfig[] = [];
    for (const c of l.chains) {
      if (c.tls) {
        needSecret(c.tls.secret);
        if (c.tls.requireClientCertificate) needSecret(c.tls.validationSecret ?? c.tls.secret);
      }
      const base = { name: c.name, ...(c.serverNames ? { match: { serverNames: c.serverNames } } : {}), ...(c.tls ? { tls: c.tls } : {}) };
      if (c.terminal.kind === "tcp") {
        chains.push({ ...base, terminal: c.terminal });
        continue;
      }
      const hcm = c.terminal.hcm;
      const rd = hcm.inline ?? (hcm.rds !== undefined ? state.routes.get(hcm.rds) : undefined);
      if (!rd) {
        waiting.add(`RouteConfiguration/${hcm.rds ?? "?"}`);
        continue;
      }
      const filters: HttpFilterConfig[] = [];
      hcm.filters.forEach((f, i) => {
        const path = joinPath(hcm.path, `http_filters[${i}]`);
        if (f.weft === "") {
          const enabled = [...(rd.perFilter.get(f.envoyName) ?? new Map()).keys()];
          if (enabled.length) issues.error(path, `listener ${l.name}: filter ${f.envoyName} is not supported by weft and route ${enabled[0]} enables it; refusing the listener (fail closed)`);
          return;
        }
        if (f.weft === "router" && rd.headers.size > 0) {
          if (options.available.has("header-mutation")) {
            const routes: Record<string, unknown> = {};
            for (const [r, h] of rd.headers) routes[r] = { ...(h.request ? { request: weftMutation(h.request) } : {}), ...(h.response ? { response: weftMutation(h.response) } : {}) };
            filters.push({ name: "header-mutation", config: { routes } });
          } else issues.ignored(hcm.path, "route header changes need the header-mutation filter, which this build lacks");
        }
        const config = f.build(rd, issues, path);
        const problems = options.catalog.validate(f.weft, config);
        if (problems === undefined) issues.error(path, `weft has no HTTP filter "${f.weft}"`);
        else for (const p of problems) issues.error(joinPath(path, p.path.join(".")), p.message);
        filters.push({ name: f.weft, config });
      });
      routeConfigs.set(rd.config.name, rd.config);
      chains.push({ ...base, terminal: { kind: "http", http: { ...hcm.settings, routeConfig: rd.config.name, httpFilters: filters } } });
    }
    listeners.push({ name: l.name, address: l.address, port: l.port, filterChains: chains });
  }
  const clusters = [];
  for (const c of state.clusters.values()) {
    for (const s of c.secrets) secrets.set(s.name, s);
    const t = c.cluster.tls;
    if (t.mode === "mutual") {
      needSecret(t.files?.credentialName);
      needSecret(t.files?.caCertificates?.replace(/^secret:/, "") ?? t.files?.credentialName);
    }
    if (c.eds === undefined) {
      clusters.push(c.cluster);
      continue;
    }
    const eps = state.endpoints.get(c.eds);
    if (!eps) waiting.add(`ClusterLoadAssignment/${c.eds}`);
    else clusters.push({ ...c.cluster, endpoints: eps });
  }
  if (errors.length) return { status: "invalid", errors, message: nackMessage(errors) };
  if (waiting.size) return { status: "waiting", waitingFor: [...waiting].sort() };
  const v = state.versions;
  const config: ProxyConfig = {
    version: `lds:${v.listener ?? ""},rds:${v.route ?? ""},cds:${v.cluster ?? ""},eds:${v.endpoint ?? ""},sds:${v.secret ?? ""}`,
    ...(options.admin ? { admin: options.admin } : {}),
    listeners,
    routeConfigs: [...routeConfigs.values()],
    clusters,
    secrets: [...secrets.values()],
    ...(options.proxyNode ? { node: options.proxyNode } : {}),
  };
  return { status: "ready", config, ignored };
}
