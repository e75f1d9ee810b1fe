/**
 * @module core/resources/istio/rules
 * The small predicates Istio's `pkg/config/validation` applies across kinds (DNS names, wildcard
 * hosts, IP addresses and CIDRs, label selectors, exportTo, gateway names, header names, RE2 regexes),
 * plus `createReport()`, the collector the kinds' `check` functions write their diagnostics into.
 */
import { formatPath, type Diagnostic } from "../../schema/index.ts";

export type Path = ReadonlyArray<string | number>;

/** Collects diagnostics with paths; `check` functions return `report.diagnostics`. */
export interface Report {
  readonly diagnostics: Diagnostic[];
  error(path: Path, message: string): void;
  warn(path: Path, message: string): void;
  /** Records `message` as an error when it is defined (for predicates returning a problem). */
  problem(path: Path, message: string | undefined): void;
}

export function createReport(): Report {
  const diagnostics: Diagnostic[] = [];
  const add = (severity: Diagnostic["severity"], path: Path, message: string) => {
    diagnostics.push({ severity, message, path: formatPath(path) });
  };
  return {
    diagnostics,
    error: (path, message) => add("error", path, message),
    warn: (path, message) => add("warning", path, message),
    problem: (path, message) => {
      if (message !== undefined) add("error", path, message);
    },
  };
}

const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(?:\*|\*?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

function dnsLabelsProblem(domain: string, rest: string): string | undefined {
  const parts = rest.split(".");
  const tld = parts[parts.length - 1] ?? "";
  if (/^[0-9]+$/.test(tld)) return `domain name "${domain}" invalid (top level domain "${tld}" cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i] ?? "";
    if (i === parts.length - 1 && label === "") return undefined;
    if (!isDns1123Label(label)) return `domain name "${domain}" invalid (label "${label}" invalid)`;
  }
  return undefined;
}

function lengthProblem(name: string): string | undefined {
  if (name.length === 0) return "empty domain name not allowed";
  if (name.length > 255) return `domain name "${name}" too long (max 255)`;
  return undefined;
}

/** A fully-qualified (or short) DNS name without wildcards. */
export function fqdnProblem(name: string): string | undefined {
  return lengthProblem(name) ?? dnsLabelsProblem(name, name);
}

/** A DNS name whose first label may be a wildcard (`*`, `*.example.com`). */
export function wildcardDomainProblem(name: string): string | undefined {
  const len = lengthProblem(name);
  if (len) return len;
  const dot = name.indexOf(".");
  const first = dot < 0 ? name : name.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first)) return `domain name "${name}" invalid (label "${first}" invalid)`;
  return dot < 0 ? undefined : dnsLabelsProblem(name, name.slice(dot + 1));
}

export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  let addr = s;
  const zone = addr.indexOf("%");
  if (zone >= 0) addr = addr.slice(0, zone);
  let groupsNeeded = 8;
  if (addr.includes(".")) {
    const lastColon = addr.lastIndexOf(":");
    if (!isIPv4(addr.slice(lastColon + 1))) return false;
    addr = `${addr.slice(0, lastColon + 1)}0`;
    groupsNeeded = 7;
  }
  const halves = addr.split("::");
  if (halves.length > 2) return false;
  const groups = halves.map((h) => (h === "" ? [] : h.split(":")));
  if (!groups.flat().every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const count = groups.flat().length;
  return halves.length === 2 ? count < groupsNeeded : count === groupsNeeded;
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** `a.b.c.d`, an IPv6 address, or either as a CIDR block. */
export function ipOrCidrProblem(s: string): string | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return isIP(s) ? undefined : `${s} is not a valid IP`;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const max = isIPv4(ip) ? 32 : isIPv6(ip) ? 128 : -1;
  if (max < 0 || !/^[0-9]+$/.test(bits) || Number(bits) > max) return `${s} is not a valid CIDR block`;
  return undefined;
}

/** A Unix domain socket path after `unix://`: absolute file path or `@abstract`. */
export function unixAddressProblem(path: string): string | undefined {
  if (path === "") return "unix address must not be empty";
  if (path.startsWith("@")) return undefined;
  if (!path.startsWith("/") || path.endsWith("/")) return `${path} is not an absolute path to a file`;
  return undefined;
}

const LABEL_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Kubernetes label keys and values (qualified names; values up to 63 characters). */
export function labelsProblems(labels: Record<string, string> | null | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const slash = k.lastIndexOf("/");
    const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
    const name = slash >= 0 ? k.slice(slash + 1) : k;
    if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name) || (prefix !== undefined && fqdnProblem(prefix) !== undefined)) {
      out.push(`invalid label key "${k}"`);
    }
    if (v.length > 63 || (v !== "" && !LABEL_NAME.test(v))) out.push(`invalid label value "${v}" for key "${k}"`);
  }
  return out;
}

/** A workload selector's labels: no empty keys, no wildcards (error); none at all (warning). */
export function checkSelectorLabels(r: Report, path: Path, labels: Record<string, string> | null | undefined): void {
  if (!labels || Object.keys(labels).length === 0) {
    r.warn(path, "workload selector specified without labels; it selects every workload in the namespace");
    return;
  }
  for (const [k, v] of Object.entries(labels)) {
    if (k === "") r.error(path, `empty key is not supported in selector: "${k}=${v}"`);
    if (k.includes("*") || v.includes("*")) r.error([...path, k], `wildcard is not supported in selector: "${k}=${v}"`);
  }
  for (const p of labelsProblems(labels)) r.error(path, p);
}

/** `exportTo`: `.`, `*`, `~` (ServiceEntry only) or namespace names, without duplicates or mixtures. */
export function checkExportTo(r: Report, path: Path, namespace: string | undefined, exportTo: readonly string[] | null | undefined, serviceEntry = false): void {
  if (!exportTo || exportTo.length === 0) return;
  const seen = new Set<string>();
  exportTo.forEach((e, i) => {
    const key = e === "." && namespace ? namespace : e;
    if (seen.has(key)) r.error([...path, i], key !== e ? `duplicate entries in exportTo: . and current namespace ${namespace}` : `duplicate entries in exportTo for entry ${e}`);
    seen.add(key);
    if (e !== "." && e !== "*" && !(serviceEntry && e === "~") && !isDns1123Label(e)) r.error([...path, i], `invalid exportTo value "${e}": use ".", "*"${serviceEntry ? ', "~"' : ""} or a namespace name`);
  });
  if (seen.has("*") && exportTo.length > 1) r.error(path, "cannot have both public (*) and non-public exportTo values for a resource");
  if (seen.has("~") && exportTo.length > 1) r.error(path, "cannot export service entry to no one (~) and someone");
}

/** Gateway references in VirtualServices: `mesh`, `namespace/name`, or a name (legacy FQDN form warns). */
export function checkGatewayNames(r: Report, path: Path, names: readonly string[] | null | undefined): void {
  (names ?? []).forEach((name, i) => {
    const p = [...path, i];
    const slash = name.indexOf("/");
    if (slash < 0) {
      if (name.includes(".")) {
        const [gw, ns] = name.split(".");
        r.warn(p, `using legacy gatewayName format "${name}"; prefer the <namespace>/<name> format: "${ns}/${gw}"`);
      }
      r.problem(p, fqdnProblem(name));
      return;
    }
    const ns = name.slice(0, slash);
    const gw = name.slice(slash + 1);
    if (ns === "" || gw === "") r.error(p, "config namespace and gateway name cannot be empty");
    else {
      if (!isDns1123Label(ns)) r.error(p, `invalid value for namespace: "${ns}"`);
      if (!isDns1123Label(gw)) r.error(p, `invalid value for gateway name: "${gw}"`);
    }
  });
}

/** `namespace/host` entries of Sidecar egress and Gateway servers (Gateway also accepts bare hosts). */
export function namespacedHostProblems(host: string, gateway: boolean): string[] {
  const out: string[] = [];
  const slash = host.indexOf("/");
  let dns = host;
  if (slash < 0) {
    if (!gateway) return ["host must be of form namespace/dnsName"];
  } else {
    const ns = host.slice(0, slash);
    dns = host.slice(slash + 1);
    if (ns === "" || dns === "") return ["config namespace and dnsName in host entry cannot be empty"];
    if (ns !== "*" && ns !== "." && !(ns === "~" && !gateway) && !isDns1123Label(ns)) out.push(`invalid namespace value "${ns}" in ${gateway ? "gateway" : "sidecar"}`);
  }
  if (dns !== "*" && !dns.includes(".")) out.push(`"${dns}": short names (non FQDN) are not allowed`);
  const domain = wildcardDomainProblem(dns);
  if (domain && !(gateway && isIP(dns))) out.push(domain);
  if (dns.includes("*") && dns !== "*" && !dns.startsWith("*.")) out.push(`partial wildcard "${dns}" not allowed`);
  return out;
}

const HEADER_NAME = /^[-_A-Za-z0-9]+$/;

export function headerNameProblem(name: string): string | undefined {
  if (name === "") return "header name cannot be empty";
  return HEADER_NAME.test(name) ? undefined : `header name ${name} is not a valid header name`;
}

/**
 * A regex Envoy will accept (RE2). JavaScript's engine stands in for RE2, and the constructs RE2 lacks
 * (lookaround, backreferences) are rejected explicitly.
 */
export function re2Problem(re: string, where: string): string | undefined {
  if (re === "") return `${where}: regex string match should not be empty`;
  if (re.length > 1024) return `${where}: regex is too large, max length allowed is 1024`;
  if (/\(\?<?[=!]/.test(re) || /\\[1-9]/.test(re)) return `${where}: lookaround and backreferences are not supported; Istio uses RE2 syntax (https://github.com/google/re2/wiki/Syntax)`;
  try {
    new RegExp(re.replace(/\(\?P</g, "(?<").replace(/^\(\?[imsU]+\)/, ""), "u");
  } catch (e) {
    return `${where}: invalid regex: ${(e as Error).message}; Istio uses RE2 syntax`;
  }
  return undefined;
}

/** Istio's protocol names (`protocol.Parse`, case-insensitive). */
export const PROTOCOLS = ["TCP", "UDP", "GRPC", "GRPC-WEB", "HTTP", "HTTP_PROXY", "HTTP2", "HTTPS", "TLS", "MONGO", "REDIS", "MYSQL"] as const;

export function protocolProblem(protocol: string | null | undefined): string | undefined {
  if (!protocol) return undefined;
  return PROTOCOLS.includes(protocol.toUpperCase() as (typeof PROTOCOLS)[number]) ? undefined : `unsupported protocol: ${protocol} (supported: ${PROTOCOLS.join(", ")})`;
}

export function isHttpProtocol(protocol: string | null | undefined): boolean {
  return ["HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB"].includes((protocol ?? "").toUpperCase());
}

export function isTlsProtocol(protocol: string | null | undefined): boolean {
  return ["HTTPS", "TLS"].includes((protocol ?? "").toUpperCase());
}

interface TargetRefLike { group?: string | null; kind: string; name: string; namespace?: string | null }

const TARGET_KINDS = [
  { group: "core", kind: "Service" },
  { group: "networking.istio.io", kind: "ServiceEntry" },
  { group: "gateway.networking.k8s.io", kind: "Gateway" },
];

/** Policy targets: at most one of selector | targetRef | targetRefs; refs to Service, ServiceEntry or Gateway in the same namespace. */
export function checkPolicyTargets(r: Report, spec: { selector?: { matchLabels?: Record<string, string> | null } | null; targetRef?: TargetRefLike | null; targetRefs?: TargetRefLike[] | null }): void {
  const set = [spec.selector ? "selector" : "", spec.targetRef ? "targetRef" : "", spec.targetRefs && spec.targetRefs.length > 0 ? "targetRefs" : ""].filter(Boolean);
  if (set.length > 1) r.error(["spec"], `only one of targetRefs or workloadSelector can be set; found ${set.join(" and ")}`);
  if (spec.selector) checkSelectorLabels(r, ["spec", "selector", "matchLabels"], spec.selector.matchLabels);
  const checkRef = (path: Path, ref: TargetRefLike) => {
    if (ref.namespace) r.error([...path, "namespace"], "targetRef namespace must not be set; cross namespace referencing is not supported");
    const group = ref.group || "core";
    if (!TARGET_KINDS.some((t) => t.group === group && t.kind === ref.kind)) {
      r.error(path, `targetRef must be to one of ${TARGET_KINDS.map((t) => `${t.group}/${t.kind}`).join(", ")} but was ${ref.group ?? ""}/${ref.kind}`);
    }
  };
  if (spec.targetRef) checkRef(["spec", "targetRef"], spec.targetRef);
  (spec.targetRefs ?? []).forEach((ref, i) => checkRef(["spec", "targetRefs", i], ref));
}
