/**
 * @module adapters/istio/conversion
 * The Istio bridge's pure conversions, both ways, each with a loss report:
 * - `istioToIr(objects)`: AuthorizationPolicy, PeerAuthentication, RequestAuthentication,
 *   VirtualService, DestinationRule, ServiceEntry, WorkloadEntry and Telemetry → the IR. Every object is
 *   validated first (the schemas and checks of `core/resources/istio` and `core/policy`); invalid ones
 *   give diagnostics naming file:line, kind/name and field, and are left out.
 * - `irToIstio(model)`: the same IR parts → Istio objects (plain JSON, ready for YAML).
 * The per-kind work lives in `routes.ts`, `clusters.ts`, `security.ts`, `services.ts`, `telemetry.ts`
 * and their `*-emit.ts` inverses. No I/O.
 */
import type { AuthnPolicy, AuthzPolicy, Cluster, PeerAuthnPolicy, Service, TelemetryPolicy, VirtualHost, Workload } from "../../core/ir/model.ts";
import { authorizationPolicyFromIstio } from "../../core/policy/istio.ts";
import { istioKinds } from "../../core/resources/istio/index.ts";
import type { DestinationRule } from "../../core/resources/istio/destination-rule.ts";
import type { PeerAuthentication, RequestAuthentication } from "../../core/resources/istio/security.ts";
import type { ServiceEntry, WorkloadEntry } from "../../core/resources/istio/service-entry.ts";
import type { Telemetry } from "../../core/resources/istio/telemetry.ts";
import type { VirtualService } from "../../core/resources/istio/virtual-service.ts";
import { validateResource } from "../../core/resources/kind.ts";
import { parsePath } from "../../core/resources/load.ts";
import type { Diagnostic, SourceLocation } from "../../core/schema/index.ts";
import type { ServiceEndpoints } from "../../control/registry/registry.ts";
import { clustersToIstio } from "./clusters-emit.ts";
import { destinationRuleToIr, type DestinationRuleOptions } from "./clusters.ts";
import type { Loss } from "./loss.ts";
import type { IstioOptions } from "./names.ts";
import { virtualHostToIstio } from "./routes-emit.ts";
import { virtualServiceToIr } from "./routes.ts";
import {
  authorizationPolicyToIstio, peerAuthenticationToIr, peerAuthenticationToIstio, requestAuthenticationToIr, requestAuthenticationToIstio,
} from "./security.ts";
import { serviceEntriesToIr, serviceToIstio, workloadToIstio } from "./services.ts";
import { telemetryToIr, telemetryToIstio } from "./telemetry.ts";

export type { Loss } from "./loss.ts";
export type { IstioOptions } from "./names.ts";

/** The IR parts the Istio bridge reads and writes. */
export interface IstioIr {
  virtualHosts: VirtualHost[];
  clusters: Cluster[];
  authorization: AuthzPolicy[];
  requestAuthentication: AuthnPolicy[];
  peerAuthentication: PeerAuthnPolicy[];
  telemetryPolicies: TelemetryPolicy[];
  services: Service[];
  workloads: Workload[];
  endpoints: ServiceEndpoints[];
}

/** An input object, bare or as loaded from YAML (with its location and a field locator). */
export type IstioInput = Record<string, unknown> | { object: Record<string, unknown>; location?: SourceLocation; locate?: (path: ReadonlyArray<PropertyKey>) => SourceLocation };

/** The kinds `istioToIr` converts. */
export const CONVERTED_KINDS = ["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "VirtualService", "DestinationRule", "ServiceEntry", "WorkloadEntry", "Telemetry"] as const;

export interface IstioToIrOptions extends IstioOptions, Omit<DestinationRuleOptions, keyof IstioOptions> {}

export function emptyIstioIr(): IstioIr {
  return { virtualHosts: [], clusters: [], authorization: [], requestAuthentication: [], peerAuthentication: [], telemetryPolicies: [], services: [], workloads: [], endpoints: [] };
}

function unwrap(input: IstioInput): { object: Record<string, unknown>; location: SourceLocation; locate?: (path: ReadonlyArray<PropertyKey>) => SourceLocation } {
  if ("object" in input && typeof input.object === "object" && input.object !== null && !("apiVersion" in input)) {
    const i = input as { object: Record<string, unknown>; location?: SourceLocation; locate?: (path: ReadonlyArray<PropertyKey>) => SourceLocation };
    return { object: i.object, location: i.location ?? {}, locate: i.locate };
  }
  return { object: input as Record<string, unknown>, location: {} };
}

/**
 * Istio objects → IR, with losses and validation diagnostics. Service identities for ISTIO_MUTUAL come
 * from `options.identities`, else from the converted ServiceEntries' workloads and `subjectAltNames`.
 * @example
 * const { resources } = loadResources(text, allKinds, { file: "bookinfo.yaml" });
 * const { model, losses, diagnostics } = istioToIr(resources);
 */
export function istioToIr(inputs: readonly IstioInput[], options: IstioToIrOptions = {}): { model: IstioIr; losses: Loss[]; diagnostics: Diagnostic[] } {
  const model = emptyIstioIr();
  const losses: Loss[] = [];
  const diagnostics: Diagnostic[] = [];
  const registryObjects: (ServiceEntry | WorkloadEntry)[] = [];
  const rules: DestinationRule[] = [];
  for (const input of inputs) {
    const { object, location, locate } = unwrap(input);
    const kind = object.kind;
    if (kind === "AuthorizationPolicy") {
      const r = authorizationPolicyFromIstio(object, { file: location.file, locate, defaultNamespace: options.defaultNamespace });
      diagnostics.push(...r.diagnostics);
      if (r.value) model.authorization.push(r.value);
      continue;
    }
    const ds = validateResource(object, istioKinds, location).map((d) => (d.path && locate ? { ...d, ...locate(parsePath(d.path)) } : d));
    diagnostics.push(...ds);
    if (ds.some((d) => d.severity === "error")) continue;
    const spec = istioKinds.find((k) => k.kind === kind)!;
    const parsed = spec.schema.parse(object);
    switch (kind) {
      case "VirtualService": {
        const r = virtualServiceToIr(parsed as VirtualService, options);
        model.virtualHosts.push(r.value);
        losses.push(...r.losses);
        break;
      }
      case "DestinationRule": rules.push(parsed as DestinationRule); break;
      case "ServiceEntry": case "WorkloadEntry": registryObjects.push(parsed as ServiceEntry | WorkloadEntry); break;
      case "PeerAuthentication": model.peerAuthentication.push(peerAuthenticationToIr(parsed as PeerAuthentication, options).value); break;
      case "RequestAuthentication": model.requestAuthentication.push(requestAuthenticationToIr(parsed as RequestAuthentication, options).value); break;
      case "Telemetry": model.telemetryPolicies.push(telemetryToIr(parsed as Telemetry, options).value); break;
      default: {
        const meta = object.metadata as { name?: string; namespace?: string } | undefined;
        losses.push({ object: `${String(kind)}/${meta?.namespace ?? options.defaultNamespace ?? "default"}/${meta?.name ?? "<unnamed>"}`, field: "", reason: `${String(kind)} is not converted to the IR (weft converts ${CONVERTED_KINDS.join(", ")})` });
      }
    }
  }
  if (registryObjects.length) {
    const r = serviceEntriesToIr(registryObjects, options);
    model.services.push(...r.value.services);
    model.workloads.push(...r.value.workloads);
    model.endpoints.push(...r.value.endpoints);
    losses.push(...r.losses);
  }
  const identities = options.identities ?? ((host: string) => identitiesFromRegistry(model, host));
  for (const dr of rules) {
    const r = destinationRuleToIr(dr, { ...options, identities });
    model.clusters.push(...r.value);
    losses.push(...r.losses);
  }
  return { model, losses, diagnostics };
}

/** The identities that may serve `host`: the service's `subjectAltNames`, else its endpoints' identities. */
export function identitiesFromRegistry(model: Pick<IstioIr, "services" | "endpoints">, host: string): string[] | undefined {
  const svc = model.services.find((s) => s.hosts.includes(host));
  if (!svc) return undefined;
  if (svc.identities?.length) return [...svc.identities];
  const ids = new Set<string>();
  for (const e of model.endpoints) if (e.service === svc.id) for (const ep of e.endpoints) if (ep.identity) ids.add(ep.identity);
  return [...ids].sort();
}

/**
 * IR → Istio objects (plain JSON in Istio's camelCase field names), with losses.
 * @example
 * const { objects, losses } = irToIstio(model);
 * const yaml = objects.map((o) => stringify(o)).join("---\n");
 */
export function irToIstio(model: Partial<IstioIr>, options: IstioOptions = {}): { objects: Record<string, unknown>[]; losses: Loss[] } {
  const objects: Record<string, unknown>[] = [];
  const losses: Loss[] = [];
  const add = (r: { value: Record<string, unknown> | null; losses: Loss[] }) => {
    if (r.value) objects.push(r.value);
    losses.push(...r.losses);
  };
  for (const s of model.services ?? []) add(serviceToIstio(s, model.endpoints ?? [], options));
  for (const w of model.workloads ?? []) {
    // Workloads that are a ServiceEntry's inline endpoints come back inside that ServiceEntry.
    if (w.origin?.object?.startsWith("ServiceEntry/")) continue;
    add(workloadToIstio(w, options));
  }
  for (const vh of model.virtualHosts ?? []) add(virtualHostToIstio(vh, options));
  const c = clustersToIstio(model.clusters ?? [], options);
  objects.push(...c.value);
  losses.push(...c.losses);
  for (const p of model.peerAuthentication ?? []) add(peerAuthenticationToIstio(p, options));
  for (const p of model.requestAuthentication ?? []) add(requestAuthenticationToIstio(p, options));
  for (const p of model.authorization ?? []) add(authorizationPolicyToIstio(p, options));
  for (const p of model.telemetryPolicies ?? []) add(telemetryToIstio(p, options));
  return { objects, losses };
}
