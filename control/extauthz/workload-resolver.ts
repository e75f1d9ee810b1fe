/**
 * @module control/extauthz/workload-resolver
 * Turns the service registry into the ext_authz server's `WorkloadResolver`: which workload (namespace,
 * labels, Consul-style service name) listens on a CheckRequest's destination address. Envoy's
 * CheckRequest carries the destination socket address but, for Istio sidecars, no namespace or labels,
 * and AuthorizationPolicy selectors need both. Workloads are indexed by address; service endpoints by
 * address and port (an endpoint names its service, whose namespace and labels fill what the workload
 * index lacks). The index is rebuilt lazily when the registry's revision changes, so lookups are a map
 * read on the hot path.
 */
import type { MergedSnapshot, RegistrySnapshot } from "../registry/registry.ts";
import type { DestinationWorkload, WorkloadResolver } from "./check-request.ts";

/** Where the resolver reads the registry: a registry's `snapshot()` or a fixed snapshot. */
export type RegistryView = () => RegistrySnapshot | MergedSnapshot;

interface Index {
  byAddress: Map<string, DestinationWorkload>;
  byAddressPort: Map<string, DestinationWorkload>;
}

function build(snap: RegistrySnapshot): Index {
  const byAddress = new Map<string, DestinationWorkload>();
  const byAddressPort = new Map<string, DestinationWorkload>();
  const services = new Map(snap.services.map((s) => [s.id, s]));
  // Two workloads on one address (host networking, stale entries) make the address ambiguous: the
  // resolver then answers nothing rather than guess, and the policy engine sees no namespace.
  const ambiguous = new Set<string>();
  for (const w of snap.workloads) {
    for (const a of w.addresses) {
      if (byAddress.has(a)) ambiguous.add(a);
      byAddress.set(a, { namespace: w.namespace, labels: { ...w.labels }, service: w.labels["app"] ?? w.name });
    }
  }
  for (const a of ambiguous) byAddress.delete(a);
  for (const se of snap.endpoints) {
    const svc = services.get(se.service);
    for (const ep of se.endpoints) {
      const key = `${ep.address}:${ep.port}`;
      if (byAddressPort.has(key)) continue;
      byAddressPort.set(key, {
        ...(svc ? { namespace: svc.namespace, service: svc.name } : {}),
        ...(ep.labels ? { labels: { ...ep.labels } } : {}),
      });
    }
  }
  return { byAddress, byAddressPort };
}

/**
 * @example
 * const resolveWorkload = createRegistryWorkloadResolver(() => registry.snapshot());
 * startExtAuthzServer({ policies, resolveWorkload });
 */
export function createRegistryWorkloadResolver(view: RegistryView): WorkloadResolver {
  let seen: RegistrySnapshot | undefined;
  let revision: number | undefined;
  let index: Index = { byAddress: new Map(), byAddressPort: new Map() };
  const current = (): Index => {
    const snap = view();
    const rev = (snap as Partial<MergedSnapshot>).revision;
    if (snap !== seen || rev !== revision) {
      seen = snap;
      revision = rev;
      index = build(snap);
    }
    return index;
  };
  return (ip, port) => {
    const idx = current();
    const w = idx.byAddress.get(ip);
    const e = port === undefined ? undefined : idx.byAddressPort.get(`${ip}:${port}`);
    if (!w) return e;
    if (!e) return w;
    // The workload gives labels and namespace; the endpoint's service gives the service name.
    return { namespace: w.namespace ?? e.namespace, labels: w.labels ?? e.labels, service: e.service ?? w.service };
  };
}
