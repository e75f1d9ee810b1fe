/**
 * @module adapters/consul/validate
 * The checks Consul makes when a config entry is written (`Normalize` + `Validate` in
 * `agent/structs/config_entry*.go`) beyond its shape: actions, exclusive fields, wildcards, paths, header
 * matchers, methods, duplicate sources, split weights, subset names and references, load-balancer
 * settings, and RE2 regexes. Problems are reported with the entry's `Kind/Name` and Consul's field path.
 */
import { re2Problem } from "../../core/policy/re2.ts";
import type { ConsulEntry, ServiceIntentionsEntry, ServiceResolverEntry, ServiceRouterEntry, ServiceSplitterEntry } from "./schema.ts";

export type Report = (path: ReadonlyArray<PropertyKey>, message: string, severity?: "error" | "warning") => void;

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"]);
const RETRY_ON = new Set(["5xx", "gateway-error", "reset", "connect-failure", "envoy-ratelimited", "retriable-4xx", "refused-stream", "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"]);
const LB_POLICIES = new Set(["", "random", "round_robin", "least_request", "ring_hash", "maglev"]);
const HASH_FIELDS = new Set(["header", "cookie", "query_parameter"]);
const SUBSET_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function regex(value: string | undefined, at: ReadonlyArray<PropertyKey>, report: Report): void {
  if (!value) return;
  const problem = re2Problem(value);
  if (problem) report(at, problem);
}

function wildcards(name: string, ns: string | undefined, partition: string | undefined, peer: string | undefined, at: ReadonlyArray<PropertyKey>, report: Report): void {
  const n = ns ?? "default";
  if (n !== "*" && n.includes("*")) report([...at, "Namespace"], "wildcard character '*' cannot be used with partial values");
  if (name !== "*" && name.includes("*")) report([...at, "Name"], "wildcard character '*' cannot be used with partial values");
  else if (name !== "*" && n === "*") report([...at, "Name"], "exact value cannot follow wildcard namespace");
  if ((partition ?? "").includes("*")) report([...at, "Partition"], "cannot use wildcard '*' in partition");
  if ((peer ?? "").includes("*")) report([...at, "Peer"], "cannot use wildcard '*' in peer");
}

function checkIntentions(e: ServiceIntentionsEntry, report: Report): void {
  wildcards(e.Name, e.Namespace, e.Partition, undefined, [], report);
  const destWild = e.Name === "*" || e.Namespace === "*";
  const sources = e.Sources ?? [];
  if (sources.length === 0) report(["Sources"], "At least one source is required");
  const seen = new Set<string>();
  sources.forEach((src, i) => {
    const at = ["Sources", i];
    if (!src.Name) {
      report([...at, "Name"], "Name is required");
      return;
    }
    wildcards(src.Name, src.Namespace, src.Partition, src.Peer, at, report);
    if (src.Peer && src.Partition) report([...at, "Peer"], "cannot set Peer and Partition at the same time");
    if (src.SamenessGroup) report([...at, "SamenessGroup"], "sameness groups are a Consul Enterprise feature that weft does not model", "warning");
    if (src.LegacyID) report([...at, "LegacyID"], "LegacyID must be omitted");
    if (src.LegacyMeta && Object.keys(src.LegacyMeta).length) report([...at, "LegacyMeta"], "LegacyMeta must be omitted");
    if (src.LegacyCreateTime) report([...at, "LegacyCreateTime"], "LegacyCreateTime must be omitted");
    if (src.LegacyUpdateTime) report([...at, "LegacyUpdateTime"], "LegacyUpdateTime must be omitted");
    if (src.Type !== undefined && src.Type !== "" && src.Type !== "consul") report([...at, "Type"], "Type must be set to 'consul'");
    const perms = src.Permissions ?? [];
    if (perms.length === 0 && src.Action !== "allow" && src.Action !== "deny") report([...at, "Action"], "Action must be set to 'allow' or 'deny'");
    if (perms.length > 0 && src.Action) report([...at, "Action"], "Action must be omitted if Permissions are specified");
    if (destWild && perms.length > 0) report([...at, "Permissions"], "Permissions cannot be specified on intentions with wildcarded destinations");
    perms.forEach((p, j) => {
      const pat = [...at, "Permissions", j];
      if (p.Action !== "allow" && p.Action !== "deny") report([...pat, "Action"], "Action must be set to 'allow' or 'deny'");
      const h = p.HTTP;
      if (!h) {
        report([...pat, "HTTP"], "HTTP is required");
        return;
      }
      const hat = [...pat, "HTTP"];
      let parts = 0;
      if (h.PathExact) {
        parts++;
        if (!h.PathExact.startsWith("/")) report([...hat, "PathExact"], `PathExact doesn't start with '/': ${JSON.stringify(h.PathExact)}`);
      }
      if (h.PathPrefix) {
        parts++;
        if (!h.PathPrefix.startsWith("/")) report([...hat, "PathPrefix"], `PathPrefix doesn't start with '/': ${JSON.stringify(h.PathPrefix)}`);
      }
      if (h.PathRegex) parts++;
      regex(h.PathRegex, [...hat, "PathRegex"], report);
      if (parts > 1) report(hat, "should only contain at most one of PathExact, PathPrefix, or PathRegex");
      (h.Header ?? []).forEach((hd, k) => {
        const at2 = [...hat, "Header", k];
        if (!hd.Name) report([...at2, "Name"], "missing required Name field");
        const n = [hd.Present, hd.Exact, hd.Regex, hd.Prefix, hd.Suffix, hd.Contains].filter((x) => x !== undefined && x !== "" && x !== false).length;
        if (n !== 1) report(at2, "should only contain one of Present, Exact, Prefix, Suffix, Contains, or Regex");
        if (hd.IgnoreCase && (hd.Present || hd.Regex)) report([...at2, "IgnoreCase"], "should set one of Exact, Prefix, Suffix, or Contains when using IgnoreCase");
        regex(hd.Regex, [...at2, "Regex"], report);
        parts++;
      });
      const methods = new Set<string>();
      (h.Methods ?? []).forEach((m, k) => {
        const up = m.toUpperCase();
        if (!METHODS.has(up)) report([...hat, "Methods", k], `Methods contains an invalid method ${JSON.stringify(up)}`);
        if (methods.has(up)) report([...hat, "Methods", k], `Methods contains ${JSON.stringify(up)} more than once`);
        methods.add(up);
      });
      if (methods.size > 0) parts++;
      if (parts === 0) report(hat, "should not be empty");
      (p.JWT?.Providers ?? []).forEach((pr, k) => { if (!pr.Name) report([...pat, "JWT", "Providers", k, "Name"], "JWT provider name is required"); });
    });
    const key = `${src.Peer ?? ""}\u0000${src.SamenessGroup ?? ""}\u0000${src.Partition ?? ""}\u0000${src.Namespace ?? "default"}\u0000${src.Name}`;
    if (seen.has(key)) report(at, `defines ${JSON.stringify(src.Name)} more than once`);
    seen.add(key);
  });
  (e.JWT?.Providers ?? []).forEach((pr, k) => { if (!pr.Name) report(["JWT", "Providers", k, "Name"], "JWT provider name is required"); });
}

function checkRouter(e: ServiceRouterEntry, report: Report): void {
  (e.Routes ?? []).forEach((r, i) => {
    const at = ["Routes", i];
    const h = r.Match?.HTTP;
    if (h) {
      const hat = [...at, "Match", "HTTP"];
      if (h.PathExact && !h.PathExact.startsWith("/")) report([...hat, "PathExact"], `PathExact doesn't start with '/': ${JSON.stringify(h.PathExact)}`);
      if (h.PathPrefix && !h.PathPrefix.startsWith("/")) report([...hat, "PathPrefix"], `PathPrefix doesn't start with '/': ${JSON.stringify(h.PathPrefix)}`);
      if ([h.PathExact, h.PathPrefix, h.PathRegex].filter(Boolean).length > 1) report(hat, "should only contain at most one of PathExact, PathPrefix, or PathRegex");
      regex(h.PathRegex, [...hat, "PathRegex"], report);
      (h.Header ?? []).forEach((hd, j) => {
        if (!hd.Name) report([...hat, "Header", j, "Name"], "missing required Name field");
        if ([hd.Present, hd.Exact, hd.Prefix, hd.Suffix, hd.Regex].filter((x) => x !== undefined && x !== "" && x !== false).length !== 1) {
          report([...hat, "Header", j], "should only contain one of Present, Exact, Prefix, Suffix, or Regex");
        }
        regex(hd.Regex, [...hat, "Header", j, "Regex"], report);
      });
      (h.QueryParam ?? []).forEach((q, j) => {
        if (!q.Name) report([...hat, "QueryParam", j, "Name"], "missing required Name field");
        if ([q.Present, q.Exact, q.Regex].filter((x) => x !== undefined && x !== "" && x !== false).length !== 1) {
          report([...hat, "QueryParam", j], "should only contain one of Present, Exact, or Regex");
        }
        regex(q.Regex, [...hat, "QueryParam", j, "Regex"], report);
      });
      const seen = new Set<string>();
      (h.Methods ?? []).forEach((m, j) => {
        if (!METHODS.has(m)) report([...hat, "Methods", j], `Methods contains an invalid method ${JSON.stringify(m)}`);
        if (seen.has(m)) report([...hat, "Methods", j], `Methods contains ${JSON.stringify(m)} more than once`);
        seen.add(m);
      });
    }
    const d = r.Destination;
    if (d?.PrefixRewrite && !h?.PathExact && !h?.PathPrefix) report([...at, "Destination", "PrefixRewrite"], "cannot make use of PrefixRewrite without configuring either PathExact or PathPrefix");
    (d?.RetryOn ?? []).forEach((c, j) => { if (!RETRY_ON.has(c)) report([...at, "Destination", "RetryOn", j], `invalid retry condition: ${JSON.stringify(c)}`); });
  });
}

function checkSplitter(e: ServiceSplitterEntry, report: Report): void {
  const splits = e.Splits ?? [];
  if (splits.length === 0) report(["Splits"], "no splits configured");
  const seen = new Set<string>();
  let sum = 0;
  splits.forEach((s, i) => {
    if (s.Weight < 0) report(["Splits", i, "Weight"], "must be >= 0");
    sum += Math.round(s.Weight * 100);
    const key = `${s.Service || e.Name}\u0000${s.ServiceSubset ?? ""}\u0000${s.Namespace ?? ""}\u0000${s.Partition ?? ""}`;
    if (seen.has(key)) report(["Splits", i], `split destination occurs more than once: service=${JSON.stringify(s.Service || e.Name)}, subset=${JSON.stringify(s.ServiceSubset ?? "")}`);
    seen.add(key);
  });
  if (splits.length > 0 && sum !== 10_000) report(["Splits"], `the sum of all split weights must be 100, not ${(sum / 100).toFixed(2)}`);
}

function checkResolver(e: ServiceResolverEntry, report: Report): void {
  const subsets = e.Subsets ?? {};
  for (const name of Object.keys(subsets)) {
    if (!SUBSET_NAME.test(name) || name.length > 63) report(["Subsets", name], `subset ${JSON.stringify(name)} is invalid: must be 63 characters or fewer, begin and end with a lower-case letter or digit, and contain only lower-case letters, digits or '-'`);
  }
  if (e.DefaultSubset && !(e.DefaultSubset in subsets)) report(["DefaultSubset"], `DefaultSubset ${JSON.stringify(e.DefaultSubset)} is not a valid subset`);
  if (e.Redirect) {
    const r = e.Redirect;
    if (e.Failover && Object.keys(e.Failover).length) report(["Redirect"], "Redirect and Failover cannot both be set");
    if (!r.Service && !r.ServiceSubset && !r.Namespace && !r.Partition && !r.Datacenter && !r.Peer && !r.SamenessGroup) report(["Redirect"], "Redirect is empty");
    if (r.Peer && r.ServiceSubset) report(["Redirect", "Peer"], "Redirect.Peer cannot be set with Redirect.ServiceSubset");
    if (r.Peer && r.Datacenter) report(["Redirect", "Peer"], "Redirect.Peer cannot be set with Redirect.Datacenter");
    if (!r.Service && r.ServiceSubset && !(r.ServiceSubset in subsets)) report(["Redirect", "ServiceSubset"], `Redirect.ServiceSubset ${JSON.stringify(r.ServiceSubset)} is not a valid subset of ${JSON.stringify(e.Name)}`);
  }
  for (const [subset, f] of Object.entries(e.Failover ?? {})) {
    const at = ["Failover", subset];
    if (subset !== "*" && !(subset in subsets)) report(at, `Bad Failover[${JSON.stringify(subset)}]: not a valid subset of ${JSON.stringify(e.Name)}`);
    if (f.Targets?.length && f.Datacenters?.length) report([...at, "Targets"], "Targets cannot be set with Datacenters");
    if (f.Targets?.length && f.ServiceSubset) report([...at, "Targets"], "Targets cannot be set with ServiceSubset");
    if (f.Targets?.length && f.Service) report([...at, "Targets"], "Targets cannot be set with Service");
    if (!f.Service && f.ServiceSubset && !(f.ServiceSubset in subsets)) report([...at, "ServiceSubset"], `ServiceSubset ${JSON.stringify(f.ServiceSubset)} is not a valid subset of ${JSON.stringify(e.Name)}`);
    (f.Datacenters ?? []).forEach((dc, j) => { if (!dc) report([...at, "Datacenters", j], "found empty datacenter"); });
  }
  const lb = e.LoadBalancer;
  if (lb) {
    const policy = lb.Policy ?? "";
    if (!LB_POLICIES.has(policy)) report(["LoadBalancer", "Policy"], `${JSON.stringify(policy)} is not supported`);
    if (policy !== "ring_hash" && lb.RingHashConfig) report(["LoadBalancer", "RingHashConfig"], `RingHashConfig specified for incompatible load balancing policy ${JSON.stringify(policy)}`);
    if (policy !== "least_request" && lb.LeastRequestConfig) report(["LoadBalancer", "LeastRequestConfig"], `LeastRequestConfig specified for incompatible load balancing policy ${JSON.stringify(policy)}`);
    if (policy !== "ring_hash" && policy !== "maglev" && lb.HashPolicies?.length) report(["LoadBalancer", "HashPolicies"], `HashPolicies specified for non-hash-based Policy: ${JSON.stringify(policy)}`);
    (lb.HashPolicies ?? []).forEach((hp, i) => {
      const at = ["LoadBalancer", "HashPolicies", i];
      if (hp.Field && !HASH_FIELDS.has(hp.Field)) report([...at, "Field"], `${JSON.stringify(hp.Field)} is not a supported field`);
      if (hp.SourceIP && hp.Field) report(at, "a single hash policy cannot hash both a source address and a request field");
      if (hp.Field && !hp.FieldValue) report([...at, "FieldValue"], `Field ${JSON.stringify(hp.Field)} was specified without a FieldValue`);
      if (!hp.Field && hp.FieldValue) report([...at, "Field"], "FieldValue requires a Field to apply to");
    });
  }
}

/** Consul's write-time checks for one entry. */
export function validateEntry(e: ConsulEntry, report: Report): void {
  switch (e.kind) {
    case "service-intentions": return checkIntentions(e.entry, report);
    case "service-router": return checkRouter(e.entry, report);
    case "service-splitter": return checkSplitter(e.entry, report);
    case "service-resolver": return checkResolver(e.entry, report);
    case "proxy-defaults":
      if (e.entry.Name !== "global") report(["Name"], `invalid name ${JSON.stringify(e.entry.Name)}, only "global" is supported`);
      return;
    default:
      return;
  }
}
