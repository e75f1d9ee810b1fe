// Helpers for the istiod RBAC parity suite: a sidecar's identity as istiod expects it on an ADS stream
// (node id `sidecar~IP~pod.ns~ns.svc.cluster.local` and the node metadata an istio-agent sends), one LDS
// fetch over plaintext gRPC, and the authorization filters of the inbound listener's passthrough chains
// (`virtualInbound-catchall-http` for HTTP, `virtualInbound` for TCP; plaintext variants) with the path
// normalization the HTTP connection manager was given.
import { anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { createAdsClient, sotwRequest } from "../../control/xds/node/ads-client.ts";
import { ListenerSchema, type Listener } from "../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import type { FilterChain } from "../../gen/proto/envoy/config/listener/v3/listener_components_pb.ts";
import {
  HttpConnectionManager_PathWithEscapedSlashesAction as Escaped, HttpConnectionManagerSchema, type HttpConnectionManager,
} from "../../gen/proto/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.ts";
import { RBACSchema as HttpRbacSchema } from "../../gen/proto/envoy/extensions/filters/http/rbac/v3/rbac_pb.ts";
import { RBACSchema as NetworkRbacSchema } from "../../gen/proto/envoy/extensions/filters/network/rbac/v3/rbac_pb.ts";
import { toJson } from "@bufbuild/protobuf";
import { PolicySchema } from "../../gen/proto/envoy/config/rbac/v3/rbac_pb.ts";
import { envoyRbacRegistry, type ChainFilter } from "../../plugins/envoy-rbac/index.ts";
import type { PathNormalization } from "../../core/policy/types.ts";

const LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener";

/** The workload a sidecar fronts. */
export interface SidecarWorkload {
  namespace: string;
  labels: Record<string, string>;
  ip: string;
  /** Unique per workload: istiod keys connections by it. */
  pod: string;
  serviceAccount?: string;
}

/** The node an istio-agent would announce for this workload (what istiod needs to select policies). */
export function sidecarNode(w: SidecarWorkload) {
  return {
    id: `sidecar~${w.ip}~${w.pod}.${w.namespace}~${w.namespace}.svc.cluster.local`,
    cluster: `${w.labels["app"] ?? w.pod}.${w.namespace}`,
    metadata: {
      NAMESPACE: w.namespace,
      LABELS: w.labels,
      SERVICE_ACCOUNT: w.serviceAccount ?? "default",
      CLUSTER_ID: "Kubernetes",
      ISTIO_VERSION: "1.31-dev",
      INTERCEPTION_MODE: "REDIRECT",
      INSTANCE_IPS: w.ip,
      POD_NAME: w.pod,
      WORKLOAD_NAME: w.labels["app"] ?? w.pod,
      MESH_ID: "cluster.local",
    },
  };
}

/** One LDS response for the workload, on a fresh ADS stream. */
export async function fetchListeners(grpcAddr: string, w: SidecarWorkload): Promise<Listener[]> {
  const stream = createAdsClient({ baseUrl: `http://${grpcAddr}` }).sotw();
  try {
    stream.send(sotwRequest({ node: sidecarNode(w), typeUrl: LISTENER_TYPE }));
    const res = await stream.next(30_000);
    return res.resources.map((r) => anyUnpack(r, ListenerSchema)!);
  } finally {
    stream.cancel();
  }
}

function plaintext(chains: FilterChain[], name: string): FilterChain {
  const c = chains.find((fc) => fc.name === name && fc.filterChainMatch?.transportProtocol === "raw_buffer");
  if (!c) throw new Error(`no plaintext filter chain ${name} in virtualInbound (chains: ${chains.map((x) => x.name).join(", ")})`);
  return c;
}

const typed = (ct: { case: string | undefined; value?: unknown }): Any | undefined => (ct.case === "typedConfig" ? (ct.value as Any) : undefined);

/** The path normalization an HTTP connection manager applies, in weft's terms. */
export function normalizationOf(hcm: HttpConnectionManager): PathNormalization {
  if (hcm.normalizePath !== true) return "NONE";
  const unescape = hcm.pathWithEscapedSlashesAction === Escaped.UNESCAPE_AND_FORWARD || hcm.pathWithEscapedSlashesAction === Escaped.UNESCAPE_AND_REDIRECT;
  if (unescape && hcm.mergeSlashes) return "DECODE_AND_MERGE_SLASHES";
  return hcm.mergeSlashes ? "MERGE_SLASHES" : "BASE";
}

export interface InboundAuthz {
  http: ChainFilter[];
  tcp: ChainFilter[];
  pathNormalization: PathNormalization;
  /** Names of every RBAC policy (enforced and shadow) in both chains. */
  policyNames: Set<string>;
}

/** The RBAC/ext_authz filters istiod put on the sidecar's inbound passthrough chains. */
export function inboundAuthz(listeners: Listener[]): InboundAuthz {
  const inbound = listeners.find((l) => l.name === "virtualInbound");
  if (!inbound) throw new Error(`no virtualInbound listener (got ${listeners.map((l) => l.name).join(", ")})`);
  const httpChain = plaintext(inbound.filterChains, "virtualInbound-catchall-http");
  const hcmAny = httpChain.filters.map((f) => typed(f.configType)).find((a) => a?.typeUrl.endsWith(HttpConnectionManagerSchema.typeName));
  if (!hcmAny) throw new Error("the HTTP passthrough chain has no http_connection_manager");
  const hcm = anyUnpack(hcmAny, HttpConnectionManagerSchema) as HttpConnectionManager;
  const http = hcm.httpFilters.map((f) => ({ name: f.name, config: typed(f.configType) }));
  const tcp = plaintext(inbound.filterChains, "virtualInbound").filters.map((f) => ({ name: f.name, config: typed(f.configType) }));
  return { http, tcp, pathNormalization: normalizationOf(hcm), policyNames: rbacPolicyNames([...http, ...tcp]) };
}

/** The RBAC policies (enforced and shadow) in a filter list whose configs are `Any`s, as JSON by name. */
export function rbacPolicies(filters: { config: unknown }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of filters) {
    const any = f.config as Any | undefined;
    if (!any?.typeUrl) continue;
    const rbac = any.typeUrl.endsWith(HttpRbacSchema.typeName) ? anyUnpack(any, HttpRbacSchema) : any.typeUrl.endsWith(NetworkRbacSchema.typeName) ? anyUnpack(any, NetworkRbacSchema) : undefined;
    for (const [k, p] of [...Object.entries(rbac?.rules?.policies ?? {}), ...Object.entries(rbac?.shadowRules?.policies ?? {})]) {
      out.set(k, JSON.stringify(toJson(PolicySchema, p, { registry: envoyRbacRegistry })));
    }
  }
  return out;
}

export const rbacPolicyNames = (filters: { config: unknown }[]): Set<string> => new Set(rbacPolicies(filters).keys());

/** Kubernetes API access the applier needs (a `KubeApi` from adapters/kubernetes). */
interface ApiLike {
  request<T = unknown>(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, options?: { body?: unknown }): Promise<T>;
}

interface PolicyDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: unknown;
}

/**
 * Replaces the AuthorizationPolicies in the API server with a new set, the sync marker last: istiod's
 * informer sees events in order, so a push that carries the marker carries the whole set. Returns the
 * API server's refusal (CRD schema and CEL validation), if any.
 */
export function createPolicyApplier(api: ApiLike) {
  const namespaces = new Set<string>();
  const ensureNamespace = async (ns: string) => {
    if (namespaces.has(ns)) return;
    await api.request("POST", "/api/v1/namespaces", { body: { metadata: { name: ns } } }).catch((err: { status?: number }) => {
      if (err.status !== 409) throw err;
    });
    namespaces.add(ns);
  };
  return {
    ensureNamespace,
    async replace(docs: PolicyDoc[], marker: PolicyDoc): Promise<string | null> {
      for (const ns of namespaces) await api.request("DELETE", `/apis/security.istio.io/v1/namespaces/${ns}/authorizationpolicies`);
      for (const doc of [...docs, marker]) {
        const ns = doc.metadata.namespace ?? "default";
        await ensureNamespace(ns);
        try {
          await api.request("POST", `/apis/${doc.apiVersion}/namespaces/${ns}/authorizationpolicies`, { body: { ...doc, metadata: { ...doc.metadata, namespace: ns } } });
        } catch (err) {
          return `${doc.metadata.name}: ${(err as Error).message}`;
        }
      }
      return null;
    },
  };
}
