/**
 * @module core/identity/mesh-forms
 * The SPIFFE path shapes the meshes weft bridges give meaning to. Istio (and weft itself) name a workload
 * `spiffe://<td>/ns/<namespace>/sa/<service-account>`. Consul names a service
 * `spiffe://<cluster>.consul[/ap/<partition>]/ns/<ns>/dc/<dc>/svc/<service>` (the default partition is left
 * out), a client agent `[/ap/<partition>]/agent/client/dc/<dc>/id/<node>`, a server `/agent/server/dc/<dc>`
 * and a mesh gateway `[/ap/<partition>]/gateway/mesh/dc/<dc>` (shapes as in Consul's `agent/connect/uri*.go`).
 * Like Consul's own parser, the Consul shapes are recognised by path, whatever the trust domain. Consul also
 * accepts percent-encoded names; the SPIFFE specification does not, so neither does weft.
 */
import type { ConsulIdentity, SpiffeId, WorkloadIdentity } from "../ir/model.ts";
import { SpiffeIdError, parseSpiffeId, pathSegments, spiffeIdFromSegments, tryParseSpiffeId, validatePathSegment } from "./spiffe.ts";

/** Consul's name for the partition every cluster has; omitted from Consul URIs. */
export const CONSUL_DEFAULT_PARTITION = "default";

/** A Consul client agent: `[/ap/<partition>]/agent/client/dc/<dc>/id/<node>`. */
export interface ConsulAgentIdentity {
  trustDomain: string;
  partition?: string;
  datacenter: string;
  node: string;
}

/** A Consul server: `/agent/server/dc/<dc>`. */
export interface ConsulServerIdentity {
  trustDomain: string;
  datacenter: string;
}

/** A Consul mesh gateway: `[/ap/<partition>]/gateway/mesh/dc/<dc>`. */
export interface ConsulMeshGatewayIdentity {
  trustDomain: string;
  partition?: string;
  datacenter: string;
}

/** What a SPIFFE ID is, by its path shape. Every variant carries the parsed `id`. */
export type IdentityClass =
  | { kind: "istio"; id: SpiffeId; workload: WorkloadIdentity }
  | { kind: "consul"; id: SpiffeId; consul: ConsulIdentity }
  | { kind: "consul-agent"; id: SpiffeId; agent: ConsulAgentIdentity }
  | { kind: "consul-server"; id: SpiffeId; server: ConsulServerIdentity }
  | { kind: "consul-mesh-gateway"; id: SpiffeId; gateway: ConsulMeshGatewayIdentity }
  | { kind: "other"; id: SpiffeId };

export type IdentityKind = IdentityClass["kind"];

const ISTIO_SHAPE = `"/ns/<namespace>/sa/<service-account>"`;
const CONSUL_SHAPE = `"[/ap/<partition>]/ns/<namespace>/dc/<datacenter>/svc/<service>"`;

/** Splits an optional leading `/ap/<partition>`; a `default` partition is dropped (Consul leaves it out). */
function splitPartition(segs: string[]): { partition?: string; rest: string[] } {
  if (segs.length >= 2 && segs[0] === "ap") {
    const partition = segs[1] as string;
    return partition === CONSUL_DEFAULT_PARTITION ? { rest: segs.slice(2) } : { partition, rest: segs.slice(2) };
  }
  return { rest: segs };
}

function partitionSegments(partition: string | undefined): string[] {
  return partition === undefined || partition === "" || partition === CONSUL_DEFAULT_PARTITION ? [] : ["ap", partition];
}

/** Classifies an already-parsed ID by its path shape. */
export function classifySpiffeId(id: SpiffeId): IdentityClass {
  const segs = pathSegments(id);
  const td = id.trustDomain;
  if (segs.length === 4 && segs[0] === "ns" && segs[2] === "sa") {
    return { kind: "istio", id, workload: { trustDomain: td, namespace: segs[1] as string, serviceAccount: segs[3] as string } };
  }
  if (segs.length === 4 && segs[0] === "agent" && segs[1] === "server" && segs[2] === "dc") {
    return { kind: "consul-server", id, server: { trustDomain: td, datacenter: segs[3] as string } };
  }
  const { partition, rest } = splitPartition(segs);
  const ap = partition === undefined ? {} : { partition };
  if (rest.length === 6 && rest[0] === "ns" && rest[2] === "dc" && rest[4] === "svc") {
    const consul: ConsulIdentity = { trustDomain: td, ...ap, namespace: rest[1] as string, datacenter: rest[3] as string, service: rest[5] as string };
    return { kind: "consul", id, consul };
  }
  if (rest.length === 6 && rest[0] === "agent" && rest[1] === "client" && rest[2] === "dc" && rest[4] === "id") {
    return { kind: "consul-agent", id, agent: { trustDomain: td, ...ap, datacenter: rest[3] as string, node: rest[5] as string } };
  }
  if (rest.length === 4 && rest[0] === "gateway" && rest[1] === "mesh" && rest[2] === "dc") {
    return { kind: "consul-mesh-gateway", id, gateway: { trustDomain: td, ...ap, datacenter: rest[3] as string } };
  }
  return { kind: "other", id };
}

/**
 * Parses a SPIFFE ID and says which mesh shape it has.
 * @throws SpiffeIdError when `uri` is not a valid SPIFFE ID (an unknown shape is `kind: "other"`, not an error).
 * @example
 * classifyIdentity("spiffe://1234.consul/ns/default/dc/dc1/svc/web").kind; // "consul"
 */
export function classifyIdentity(uri: string): IdentityClass {
  return classifySpiffeId(parseSpiffeId(uri));
}

/** Like {@link classifyIdentity}, but `undefined` for an invalid ID. */
export function tryClassifyIdentity(uri: string): IdentityClass | undefined {
  const id = tryParseSpiffeId(uri);
  return id === undefined ? undefined : classifySpiffeId(id);
}

/**
 * Parses an Istio/weft workload identity `spiffe://<td>/ns/<namespace>/sa/<service-account>`.
 * @throws SpiffeIdError when the ID is invalid or has another shape.
 */
export function parseIstioIdentity(uri: string): WorkloadIdentity {
  const c = classifyIdentity(uri);
  if (c.kind !== "istio") {
    throw new SpiffeIdError("Istio identity", uri, "form", `the path ${JSON.stringify(c.id.path)} is not of the form ${ISTIO_SHAPE}`);
  }
  return c.workload;
}

/**
 * Formats an Istio/weft workload identity.
 * @example
 * formatIstioIdentity({ trustDomain: "cluster.local", namespace: "default", serviceAccount: "web" });
 * // "spiffe://cluster.local/ns/default/sa/web"
 * @throws SpiffeIdError when a part is not a valid trust domain or path segment.
 */
export function formatIstioIdentity(w: WorkloadIdentity): string {
  validatePathSegment(w.namespace, "namespace");
  validatePathSegment(w.serviceAccount, "service account");
  return spiffeIdFromSegments(w.trustDomain, ["ns", w.namespace, "sa", w.serviceAccount]);
}

/**
 * Parses a Consul service identity. `partition` is set only for a non-default partition.
 * @throws SpiffeIdError when the ID is invalid or has another shape.
 */
export function parseConsulIdentity(uri: string): ConsulIdentity {
  const c = classifyIdentity(uri);
  if (c.kind !== "consul") {
    throw new SpiffeIdError("Consul service identity", uri, "form", `the path ${JSON.stringify(c.id.path)} is not of the form ${CONSUL_SHAPE}`);
  }
  return c.consul;
}

/**
 * Formats a Consul service identity; the default partition is left out, as Consul does.
 * @example
 * formatConsulIdentity({ trustDomain: "1234.consul", partition: "bizdev", namespace: "default", datacenter: "dc1", service: "web" });
 * // "spiffe://1234.consul/ap/bizdev/ns/default/dc/dc1/svc/web"
 * @throws SpiffeIdError
 */
export function formatConsulIdentity(c: ConsulIdentity): string {
  if (c.partition) validatePathSegment(c.partition, "partition");
  validatePathSegment(c.namespace, "namespace");
  validatePathSegment(c.datacenter, "datacenter");
  validatePathSegment(c.service, "service");
  return spiffeIdFromSegments(c.trustDomain, [...partitionSegments(c.partition), "ns", c.namespace, "dc", c.datacenter, "svc", c.service]);
}

/** Formats a classified identity back into its URI (the inverse of {@link classifyIdentity}). */
export function formatIdentity(c: IdentityClass): string {
  switch (c.kind) {
    case "istio":
      return formatIstioIdentity(c.workload);
    case "consul":
      return formatConsulIdentity(c.consul);
    case "consul-agent":
      validatePathSegment(c.agent.datacenter, "datacenter");
      validatePathSegment(c.agent.node, "node");
      return spiffeIdFromSegments(c.agent.trustDomain, [...partitionSegments(c.agent.partition), "agent", "client", "dc", c.agent.datacenter, "id", c.agent.node]);
    case "consul-server":
      validatePathSegment(c.server.datacenter, "datacenter");
      return spiffeIdFromSegments(c.server.trustDomain, ["agent", "server", "dc", c.server.datacenter]);
    case "consul-mesh-gateway":
      validatePathSegment(c.gateway.datacenter, "datacenter");
      return spiffeIdFromSegments(c.gateway.trustDomain, [...partitionSegments(c.gateway.partition), "gateway", "mesh", "dc", c.gateway.datacenter]);
    case "other":
      return c.id.uri;
  }
}
