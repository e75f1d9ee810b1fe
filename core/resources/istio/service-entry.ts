/**
 * @module core/resources/istio/service-entry
 * Istio's ServiceEntry and WorkloadEntry (networking.istio.io v1, v1beta1, v1alpha3), schemas as in
 * `networking/v1/service_entry.proto` and `workload_entry.proto`, with the checks of Istio's
 * ValidateServiceEntry and ValidateWorkloadEntry: hosts (no bare `*`, no partial wildcards), addresses
 * as IPs or CIDRs (CIDRs only with NONE/STATIC resolution), unique port names and numbers, resolution
 * vs endpoints (none for NONE, IP or unix:// addresses for STATIC, FQDN hosts when DNS has no
 * endpoints, at most one endpoint for DNS_ROUND_ROBIN), endpoint ports defined by the service,
 * workloadSelector vs endpoints, several hosts with plain TCP ports, exportTo; and for WorkloadEntry,
 * the address (IP, FQDN or unix socket without ports), port names and labels.
 *
 * Left out: the warning about TCP ports without addresses (it depends on proxy DNS auto-allocation),
 * DYNAMIC_DNS specifics, and the targetPort-with-NONE warning.
 */
import { z, type Diagnostic } from "../../schema/index.ts";
import { strict } from "../fields.ts";
import { defineKind } from "../kind.ts";
import { enumOf, networkingWorkloadSelector, o, port, resource, stringList, stringMap, uint32 } from "./common.ts";
import {
  checkExportTo, checkSelectorLabels, createReport, fqdnProblem, ipOrCidrProblem, isDns1123Label, isHttpProtocol, isIP, isTlsProtocol,
  labelsProblems, protocolProblem, unixAddressProblem, wildcardDomainProblem, type Path, type Report,
} from "./rules.ts";

export const workloadEntrySpec = strict({
  address: o(z.string()),
  ports: o(z.record(z.string(), port)),
  labels: o(stringMap),
  network: o(z.string()),
  locality: o(z.string()),
  weight: o(uint32),
  serviceAccount: o(z.string()),
});
type WorkloadEntrySpec = z.infer<typeof workloadEntrySpec>;

export const serviceEntrySpec = strict({
  hosts: z.array(z.string(), { error: () => "hosts is required (a list of host names)" }),
  addresses: o(stringList),
  ports: o(z.array(strict({ number: port, protocol: o(z.string()), name: z.string({ error: () => "port name is required" }), targetPort: o(port) }))),
  location: o(enumOf(["MESH_EXTERNAL", "MESH_INTERNAL"])),
  resolution: o(enumOf(["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"])),
  endpoints: o(z.array(workloadEntrySpec)),
  workloadSelector: o(networkingWorkloadSelector),
  exportTo: o(stringList),
  subjectAltNames: o(stringList),
});

export const serviceEntrySchema = resource(serviceEntrySpec);
export const workloadEntrySchema = resource(workloadEntrySpec);
export type ServiceEntry = z.infer<typeof serviceEntrySchema>;
export type WorkloadEntry = z.infer<typeof workloadEntrySchema>;

/** Istio's validateWorkloadEntry; `servicePorts` given when the entry is a ServiceEntry endpoint. */
function checkWorkloadEntrySpec(r: Report, path: Path, we: WorkloadEntrySpec, servicePorts: Set<string> | undefined, allowFqdn: boolean): void {
  const addr = we.address ?? "";
  if (addr === "") {
    if (!we.network) r.error([...path, "address"], "address is required");
    else r.warn([...path, "address"], `address is unset with network "${we.network}"`);
  }
  const unix = addr.startsWith("unix://");
  if (unix) {
    r.problem([...path, "address"], unixAddressProblem(addr.slice("unix://".length)));
    if (we.ports && Object.keys(we.ports).length > 0) r.error([...path, "ports"], `unix endpoint ${addr} must not include ports`);
    if (servicePorts && servicePorts.size !== 1) r.error(path, "exactly 1 service port required for unix endpoints");
  } else if (addr !== "" && !isIP(addr)) {
    if (!allowFqdn) r.error([...path, "address"], `endpoint address "${addr}" is not a valid IP address`);
    else if (fqdnProblem(addr)) r.error([...path, "address"], `endpoint address "${addr}" is not a valid FQDN or an IP address`);
  }
  for (const name of Object.keys(we.ports ?? {})) {
    if (!isDns1123Label(name)) r.error([...path, "ports", name], `invalid port name: ${name}`);
    if (servicePorts && !servicePorts.has(name)) r.error([...path, "ports", name], `endpoint port ${name} is not defined by the service entry`);
  }
  for (const problem of labelsProblems(we.labels)) r.error([...path, "labels"], problem);
}

export function checkWorkloadEntry(we: WorkloadEntry): Diagnostic[] {
  const r = createReport();
  checkWorkloadEntrySpec(r, ["spec"], we.spec, undefined, true);
  return r.diagnostics;
}

/** Semantic checks for a ServiceEntry (see the module comment). */
export function checkServiceEntry(se: ServiceEntry): Diagnostic[] {
  const r = createReport();
  const spec = se.spec;
  const resolution = spec.resolution ?? "NONE";
  if (spec.workloadSelector) {
    checkSelectorLabels(r, ["spec", "workloadSelector", "labels"], spec.workloadSelector.labels);
    if (spec.endpoints) r.error(["spec"], "only one of workloadSelector or endpoints is allowed in a ServiceEntry");
    if (resolution !== "STATIC" && resolution !== "DYNAMIC_DNS") r.warn(["spec", "workloadSelector"], `workloadSelector should not be set when resolution mode is ${resolution}`);
  }
  if (spec.hosts.length === 0) r.error(["spec", "hosts"], "service entry must have at least one host");
  spec.hosts.forEach((h, i) => {
    if (h === "*") r.error(["spec", "hosts", i], "invalid host * (a ServiceEntry cannot use the full wildcard)");
    else {
      r.problem(["spec", "hosts", i], wildcardDomainProblem(h));
      if (h.includes("*") && !h.startsWith("*.")) r.warn(["spec", "hosts", i], `partial wildcard "${h}" not allowed`);
    }
  });
  let cidr = false;
  (spec.addresses ?? []).forEach((a, i) => {
    cidr ||= a.includes("/");
    r.problem(["spec", "addresses", i], ipOrCidrProblem(a));
  });
  if (cidr && resolution !== "NONE" && resolution !== "STATIC") r.error(["spec", "addresses"], "CIDR addresses are allowed only for NONE/STATIC resolution types");

  const names = new Set<string>();
  const numbers = new Set<number>();
  (spec.ports ?? []).forEach((p, i) => {
    const pp = ["spec", "ports", i];
    if (names.has(p.name)) r.error([...pp, "name"], `service entry port name "${p.name}" already defined`);
    if (numbers.has(p.number)) r.error([...pp, "number"], `service entry port ${p.number} already defined`);
    names.add(p.name);
    numbers.add(p.number);
    if (!isDns1123Label(p.name)) r.error([...pp, "name"], `invalid port name: ${p.name}`);
    r.problem([...pp, "protocol"], protocolProblem(p.protocol));
  });

  const endpoints = spec.endpoints ?? [];
  switch (resolution) {
    case "NONE":
      if (endpoints.length > 0) r.error(["spec", "endpoints"], "no endpoints should be provided for resolution type NONE");
      break;
    case "STATIC":
      endpoints.forEach((ep, i) => checkWorkloadEntrySpec(r, ["spec", "endpoints", i], ep, names, false));
      break;
    case "DNS":
    case "DNS_ROUND_ROBIN":
      if (endpoints.length === 0) {
        spec.hosts.forEach((h, i) => {
          if (fqdnProblem(h)) r.error(["spec", "hosts", i], `hosts must be FQDN if no endpoints are provided for resolution mode ${resolution}`);
        });
      }
      if (resolution === "DNS_ROUND_ROBIN" && endpoints.length > 1) r.error(["spec", "endpoints"], `there must only be 0 or 1 endpoint for resolution mode ${resolution}`);
      endpoints.forEach((ep, i) => checkWorkloadEntrySpec(r, ["spec", "endpoints", i], ep, names, true));
      break;
    case "DYNAMIC_DNS":
      break;
  }
  if (resolution !== "NONE" && spec.hosts.length > 1) {
    const plain = (spec.ports ?? []).findIndex((p) => !isHttpProtocol(p.protocol) && !isTlsProtocol(p.protocol));
    if (plain >= 0) r.error(["spec", "ports", plain], "multiple hosts provided with non-HTTP, non-TLS ports");
  }
  checkExportTo(r, ["spec", "exportTo"], se.metadata.namespace ?? undefined, spec.exportTo, true);
  return r.diagnostics;
}

export const serviceEntryKind = defineKind({
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  kind: "ServiceEntry",
  schema: serviceEntrySchema,
  check: checkServiceEntry,
});

export const workloadEntryKind = defineKind({
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  kind: "WorkloadEntry",
  schema: workloadEntrySchema,
  check: checkWorkloadEntry,
});
