/**
 * @module adapters/consul/intentions
 * Consul `service-intentions` → one IR ordered policy (`AuthzPolicy.ordered`), with Consul's semantics.
 * Every source of every entry becomes one rule; rules are sorted as Consul sorts intentions
 * (`IntentionPrecedenceSorter`: precedence from the exactness of destination and source — exact→exact 9,
 * `*`→exact 8, exact→`*` 6, `*`→`*` 5, with `*` namespaces lower still — then lexically), so the engine's
 * first match is Consul's "highest-precedence matching source decides". Sources inherit the destination's
 * namespace and partition as Consul's `Normalize` does. L7 permissions keep their order (first match
 * wins; none → the default policy); header `Contains` becomes an equivalent regex. JWT providers are
 * resolved to issuers through `jwt-provider` entries. A peer source matches peers of the trust domain the
 * options name for it, or nothing — as Consul does while it lacks the peer's trust bundle.
 *
 * Design choice (see docs/consul.md): Istio's CUSTOM→DENY→ALLOW sets cannot say "the first matching
 * source decides, and its first matching permission"; compiling that into ALLOW/DENY rules needs
 * negations of earlier sources and permissions (exponential rule expansion once a negated permission has
 * several fields) and matchers the Istio form lacks (RE2 paths, inverted and case-insensitive headers).
 * So the IR carries the order itself: an additive `ordered` policy kind evaluated by core/policy.
 */
import type { AuthzPolicy, HeaderMatch, JwtRequirement, OrderedAuthzRule, OrderedPermission, PeerPattern, StringMatch } from "../../core/ir/model.ts";
import type { Loss } from "./loss.ts";
import type { IntentionPermission, JwtProviderEntry, ServiceIntentionsEntry, SourceIntention } from "./schema.ts";

export interface IntentionOptions {
  /** Consul's default intention policy (`acl_default_policy` / `default_intention_policy`); default allow. */
  defaultAction?: "allow" | "deny";
  /** The local Consul trust domain (`<cluster-id>.consul`); absent = any trust domain. */
  trustDomain?: string;
  /** Trust domains of cluster peers, by peer name. */
  peerTrustDomains?: Record<string, string>;
  /** `jwt-provider` entries (for the issuers of JWT requirements). */
  jwtProviders?: JwtProviderEntry[];
  /** Policy id (default `consul/service-intentions`). */
  id?: string;
}

/** One source intention after Consul's normalization. */
export interface NormalizedIntention {
  entry: ServiceIntentionsEntry;
  source: SourceIntention;
  dstName: string;
  dstNs: string;
  dstPartition: string;
  srcName: string;
  srcNs: string;
  srcPartition: string;
  srcPeer: string;
  precedence: number;
}

function countExact(name: string, ns: string): number {
  if (ns === "*") return 0;
  return name === "*" ? 1 : 2;
}

/** Consul's `computeIntentionPrecedence`. */
export function intentionPrecedence(dstName: string, dstNs: string, srcName: string, srcNs: string): number {
  const max = [3, 6, 9][countExact(dstName, dstNs)]!;
  return max - (2 - countExact(srcName, srcNs));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Sources normalized and sorted in Consul's precedence order. */
export function normalizeIntentions(entries: readonly ServiceIntentionsEntry[]): NormalizedIntention[] {
  const out: NormalizedIntention[] = [];
  for (const entry of entries) {
    const dstNs = entry.Namespace || "default";
    const dstPartition = entry.Partition || "default";
    for (const source of entry.Sources ?? []) {
      const peered = !!source.Peer || !!source.SamenessGroup;
      const inherit = (mine: string | undefined, theirs: string | undefined) => mine || (theirs && theirs !== "*" ? theirs : "default");
      const srcNs = peered ? (source.Namespace || "default") : inherit(source.Namespace, entry.Namespace);
      const srcPartition = peered ? "" : inherit(source.Partition, entry.Partition);
      const srcName = source.Name ?? "";
      out.push({
        entry, source, dstName: entry.Name, dstNs, dstPartition, srcName, srcNs, srcPartition, srcPeer: source.Peer ?? "",
        precedence: intentionPrecedence(entry.Name, dstNs, srcName, srcNs),
      });
    }
  }
  return out.sort((a, b) => b.precedence - a.precedence
    || cmp(a.source.SamenessGroup ?? "", b.source.SamenessGroup ?? "") || cmp(a.srcPeer, b.srcPeer)
    || cmp(a.srcPartition, b.srcPartition) || cmp(a.srcNs, b.srcNs) || cmp(a.srcName, b.srcName)
    || cmp(a.dstPartition, b.dstPartition) || cmp(a.dstNs, b.dstNs) || cmp(a.dstName, b.dstName));
}

function escapeRe2(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `Contains` (optionally case-insensitive) as an equivalent RE2 full-match pattern. */
export function containsRegex(value: string, ignoreCase: boolean): string {
  const body = ignoreCase
    ? [...value].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : escapeRe2(c))).join("")
    : escapeRe2(value);
  return `.*${body}.*`;
}

/** The inverse of {@link containsRegex}, when `regex` has its shape. */
export function containsOf(regex: string): { value: string; ignoreCase: boolean } | null {
  const m = /^\.\*(.*)\.\*$/s.exec(regex);
  if (!m) return null;
  const body = m[1]!;
  const plain = body.replace(/\\([.*+?^${}()|[\]\\])/g, "$1");
  if (escapeRe2(plain) === body) return { value: plain, ignoreCase: false };
  const letters = body.replace(/\[([a-z])([A-Z])\]/g, (x, l: string, u: string) => (l.toUpperCase() === u ? l : x));
  const plain2 = letters.replace(/\\([.*+?^${}()|[\]\\])/g, "$1");
  if (plain2 !== plain && containsRegex(plain2, true) === regex) return { value: plain2, ignoreCase: true };
  return null;
}

function headerMatch(h: NonNullable<NonNullable<IntentionPermission["HTTP"]>["Header"]>[number]): HeaderMatch {
  const ic = h.IgnoreCase === true ? { ignoreCase: true } : {};
  let match: StringMatch;
  if (h.Present) match = { present: true };
  else if (h.Exact) match = { exact: h.Exact, ...ic };
  else if (h.Prefix) match = { prefix: h.Prefix, ...ic };
  else if (h.Suffix) match = { suffix: h.Suffix, ...ic };
  else if (h.Contains) match = { regex: containsRegex(h.Contains, h.IgnoreCase === true) };
  else match = { regex: h.Regex ?? "" };
  return { name: h.Name ?? "", match, ...(h.Invert ? { invert: true } : {}) };
}

function jwtOf(req: ServiceIntentionsEntry["JWT"], issuers: Map<string, string>, object: string, field: string, losses: Loss[]): JwtRequirement[] | undefined {
  const providers = req?.Providers ?? [];
  if (providers.length === 0) return undefined;
  const out: JwtRequirement[] = [];
  providers.forEach((p, i) => {
    const issuer = issuers.get(p.Name ?? "");
    if (issuer === undefined) {
      losses.push({ object, field: `${field}.Providers[${i}]`, reason: `no jwt-provider entry names ${JSON.stringify(p.Name)} (Consul refuses to configure the proxy); the requirement can never be met` });
      return;
    }
    out.push({ issuer, ...(p.VerifyClaims?.length ? { claims: p.VerifyClaims.map((c) => ({ path: c.Path ?? [], value: c.Value ?? "" })) } : {}) });
  });
  // A requirement none of whose providers exists can never be met: an issuer no token has.
  return out.length ? out : [{ issuer: "\u0000no-such-provider" }];
}

function permissionOf(p: IntentionPermission, issuers: Map<string, string>, object: string, field: string, losses: Loss[]): OrderedPermission {
  const h: NonNullable<IntentionPermission["HTTP"]> = p.HTTP ?? {};
  const http: OrderedPermission["http"] = {};
  if (h.PathExact) http.path = { exact: h.PathExact };
  else if (h.PathPrefix) http.path = { prefix: h.PathPrefix };
  else if (h.PathRegex) http.path = { regex: h.PathRegex };
  if (h.Header?.length) http.headers = h.Header.map(headerMatch);
  if (h.Methods?.length) http.methods = h.Methods.map((m) => m.toUpperCase());
  const jwt = jwtOf(p.JWT, issuers, object, `${field}.JWT`, losses);
  return { action: p.Action === "allow" ? "ALLOW" : "DENY", http, ...(jwt ? { jwt } : {}) };
}

const display = (name: string, ns: string, partition: string, peer: string) =>
  `${peer ? `peer(${peer})/` : partition && partition !== "default" ? `${partition}/` : ""}${ns === "default" ? "" : `${ns}/`}${name}`;

/**
 * Converts every `service-intentions` entry into one ordered IR policy.
 * @example
 * const { policy } = intentionsToPolicy([{ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow" }] }], { defaultAction: "deny" });
 */
export function intentionsToPolicy(entries: readonly ServiceIntentionsEntry[], options: IntentionOptions = {}): { policy: AuthzPolicy; losses: Loss[] } {
  const losses: Loss[] = [];
  const issuers = new Map((options.jwtProviders ?? []).filter((p) => p.Issuer).map((p) => [p.Name, p.Issuer!]));
  const rules: OrderedAuthzRule[] = [];
  for (const n of normalizeIntentions(entries)) {
    const object = `service-intentions/${n.entry.Name}`;
    const idx = (n.entry.Sources ?? []).indexOf(n.source);
    const field = `Sources[${idx}]`;
    if (n.source.SamenessGroup) {
      losses.push({ object, field: `${field}.SamenessGroup`, reason: "sameness groups are not modelled; this source is left out" });
      continue;
    }
    let source: PeerPattern;
    if (n.srcPeer) {
      const td = options.peerTrustDomains?.[n.srcPeer];
      if (td === undefined) losses.push({ object, field: `${field}.Peer`, reason: `no trust domain is configured for peer ${JSON.stringify(n.srcPeer)}, so this source matches no one (as in Consul before the peer's trust bundle arrives)`, kind: "approximated" });
      source = { consul: { ...(td ? { trustDomain: td } : {}), namespace: n.srcNs, service: n.srcName, peer: n.srcPeer } };
    } else {
      source = { consul: { ...(options.trustDomain ? { trustDomain: options.trustDomain } : {}), ...(n.srcPartition !== "default" ? { partition: n.srcPartition } : {}), namespace: n.srcNs, service: n.srcName } };
    }
    const rule: OrderedAuthzRule = {
      name: `${display(n.srcName, n.srcNs, n.srcPartition, n.srcPeer)} → ${display(n.dstName, n.dstNs, n.dstPartition, "")} (precedence ${n.precedence})`,
      destination: { namespace: n.dstNs, service: n.dstName, ...(n.dstPartition !== "default" ? { partition: n.dstPartition } : {}) },
      sources: [source],
    };
    const perms = n.source.Permissions ?? [];
    if (perms.length) rule.permissions = perms.map((p, j) => permissionOf(p, issuers, object, `${field}.Permissions[${j}]`, losses));
    else rule.action = n.source.Action === "allow" ? "ALLOW" : "DENY";
    const jwt = jwtOf(n.entry.JWT, issuers, object, "JWT", losses);
    if (jwt) rule.jwt = jwt;
    rules.push(rule);
  }
  const id = options.id ?? "consul/service-intentions";
  const [namespace, name] = id.includes("/") ? [id.slice(0, id.indexOf("/")), id.slice(id.indexOf("/") + 1)] : ["consul", id];
  return {
    policy: {
      id, name, namespace, action: "ALLOW", selector: { namespace }, rules: null,
      ordered: { rules, defaultAction: options.defaultAction === "deny" ? "DENY" : "ALLOW" },
      origin: { system: "consul", object: "service-intentions" },
    },
    losses,
  };
}
