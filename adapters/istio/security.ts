/**
 * @module adapters/istio/security
 * Istio's security resources ↔ IR: AuthorizationPolicy (into the IR through `core/policy/istio.ts`,
 * which also validates it; back out here), PeerAuthentication ↔ peer-authentication policies and
 * RequestAuthentication ↔ JWT authentication policies. Istio's JWT defaults are made explicit (a rule
 * without token locations reads `Authorization: Bearer` and the `access_token` query parameter) and left
 * out again on the way back.
 */
import type { AuthnPolicy, AuthzPolicy, AuthzRule, FieldMatch, JwtRule, MtlsMode, PeerAuthnPolicy, WorkloadSelector } from "../../core/ir/model.ts";
import type { PeerAuthentication, RequestAuthentication } from "../../core/resources/istio/security.ts";
import { createLossSink, type Loss } from "./loss.ts";
import { compact, goDuration, ms, nameOf, objectRef, safeName, type IstioOptions } from "./names.ts";

type Obj = Record<string, unknown>;

export const ISTIO_JWT_DEFAULT_HEADERS = [{ name: "Authorization", prefix: "Bearer " }];
export const ISTIO_JWT_DEFAULT_PARAMS = ["access_token"];

type TargetRef = { group?: string | null; kind: string; name: string; namespace?: string | null };
type SelectorSpec = { selector?: { matchLabels?: Record<string, string> | null } | null; targetRef?: TargetRef | null; targetRefs?: TargetRef[] | null } | null | undefined;

export function selectorOf(ns: string, spec: SelectorSpec): WorkloadSelector {
  const sel: WorkloadSelector = { namespace: ns };
  const labels = spec?.selector?.matchLabels;
  if (labels && Object.keys(labels).length) sel.matchLabels = { ...labels };
  const refs = spec?.targetRefs ?? (spec?.targetRef ? [spec.targetRef] : undefined);
  if (refs?.length) sel.targetRefs = refs.map((r) => compact({ group: r.group ?? undefined, kind: r.kind, name: r.name, namespace: r.namespace ?? undefined }));
  return sel;
}

export function selectorToIstio(sel: WorkloadSelector): Obj {
  return compact({
    selector: sel.matchLabels && Object.keys(sel.matchLabels).length ? { matchLabels: sel.matchLabels } : undefined,
    targetRefs: sel.targetRefs?.length ? sel.targetRefs.map((r) => compact({ ...r })) : undefined,
  });
}

function meta(id: string, origin: AuthzPolicy["origin"], kind: string, options: IstioOptions, extra: Obj = {}): Obj {
  const { namespace, name } = nameOf(id, origin, kind, options.defaultNamespace);
  return { name: safeName(name), namespace, ...extra };
}

// ---------------------------------------------------------------- AuthorizationPolicy (out)

function pair(f: FieldMatch | undefined, name: string, notName: string): Obj {
  return compact({ [name]: f?.values?.length ? f.values : undefined, [notName]: f?.notValues?.length ? f.notValues : undefined });
}

function ruleToIstio(r: AuthzRule): Obj {
  return compact({
    from: r.from.length ? r.from.map((s) => ({ source: {
      ...pair(s.principals, "principals", "notPrincipals"), ...pair(s.requestPrincipals, "requestPrincipals", "notRequestPrincipals"),
      ...pair(s.namespaces, "namespaces", "notNamespaces"), ...pair(s.serviceAccounts, "serviceAccounts", "notServiceAccounts"),
      ...pair(s.ipBlocks, "ipBlocks", "notIpBlocks"), ...pair(s.remoteIpBlocks, "remoteIpBlocks", "notRemoteIpBlocks"),
    } })) : undefined,
    to: r.to.length ? r.to.map((o) => ({ operation: {
      ...pair(o.hosts, "hosts", "notHosts"), ...pair(o.ports, "ports", "notPorts"), ...pair(o.methods, "methods", "notMethods"), ...pair(o.paths, "paths", "notPaths"),
    } })) : undefined,
    when: r.when.length ? r.when.map((c) => compact({ key: c.key, values: c.values?.length ? c.values : undefined, notValues: c.notValues?.length ? c.notValues : undefined })) : undefined,
  });
}

/**
 * IR authorization policy → AuthorizationPolicy (the inverse of `authorizationPolicyFromIstio`).
 * @example
 * const { value, losses } = authorizationPolicyToIstio(policy);
 */
export function authorizationPolicyToIstio(p: AuthzPolicy, options: IstioOptions = {}): { value: Obj | null; losses: Loss[] } {
  const loss = createLossSink(p.origin?.object ?? `AuthzPolicy/${p.id}`);
  if (p.ordered) {
    loss.lost("ordered", "an ordered first-match policy (Consul intentions) has no AuthorizationPolicy form: Istio evaluates DENY before ALLOW, not in order, and Consul identities match any datacenter (.../dc/*/svc/...), which Istio's principals cannot say; use --to weft or --to consul");
    return { value: null, losses: loss.losses };
  }
  const value = {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: meta(p.id, p.origin, "AuthorizationPolicy", options, p.dryRun ? { annotations: { "istio.io/dry-run": "true" } } : {}),
    spec: compact({
      ...selectorToIstio(p.selector),
      action: p.action !== "ALLOW" ? p.action : undefined,
      provider: p.provider ? { name: p.provider } : undefined,
      rules: p.rules ? p.rules.map(ruleToIstio) : undefined,
    }),
  };
  return { value, losses: loss.losses };
}

// ---------------------------------------------------------------- PeerAuthentication

/** Schema-valid PeerAuthentication → IR peer-authentication policy. */
export function peerAuthenticationToIr(pa: PeerAuthentication, options: IstioOptions = {}): { value: PeerAuthnPolicy; losses: Loss[] } {
  const ns = pa.metadata.namespace ?? options.defaultNamespace ?? "default";
  const object = objectRef("PeerAuthentication", ns, pa.metadata.name);
  const value: PeerAuthnPolicy = {
    id: `${ns}/${pa.metadata.name}`,
    namespace: ns,
    selector: selectorOf(ns, pa.spec),
    mode: pa.spec?.mtls?.mode ?? "UNSET",
    origin: { system: "istio", object },
  };
  const ports = pa.spec?.portLevelMtls;
  if (ports && Object.keys(ports).length) {
    const portLevel: Record<number, MtlsMode> = {};
    for (const [port, m] of Object.entries(ports)) portLevel[Number(port)] = m.mode ?? "UNSET";
    value.portLevel = portLevel;
  }
  return { value, losses: [] };
}

export function peerAuthenticationToIstio(p: PeerAuthnPolicy, options: IstioOptions = {}): { value: Obj; losses: Loss[] } {
  const portLevel = p.portLevel && Object.keys(p.portLevel).length
    ? Object.fromEntries(Object.entries(p.portLevel).map(([port, mode]) => [port, { mode }]))
    : undefined;
  const spec = compact({ ...selectorToIstio(p.selector), mtls: p.mode !== "UNSET" ? { mode: p.mode } : undefined, portLevelMtls: portLevel });
  return {
    value: { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: meta(p.id, p.origin, "PeerAuthentication", options), ...(Object.keys(spec).length ? { spec } : { spec: {} }) },
    losses: [],
  };
}

// ---------------------------------------------------------------- RequestAuthentication

type IstioJwtRule = NonNullable<NonNullable<RequestAuthentication["spec"]>["jwtRules"]>[number];

function jwtRuleToIr(r: IstioJwtRule): JwtRule {
  const out: JwtRule = { issuer: r.issuer ?? "" };
  if (r.audiences?.length) out.audiences = [...r.audiences];
  const uri = r.jwksUri ?? r.jwks_uri;
  if (uri) out.jwksUri = uri;
  if (r.jwks) out.jwks = r.jwks;
  const custom = r.fromHeaders?.length || r.fromParams?.length || r.fromCookies?.length;
  if (custom) {
    if (r.fromHeaders?.length) out.fromHeaders = r.fromHeaders.map((h) => ({ name: h.name, ...(h.prefix ? { prefix: h.prefix } : {}) }));
    if (r.fromParams?.length) out.fromParams = [...r.fromParams];
    if (r.fromCookies?.length) out.fromCookies = [...r.fromCookies];
  } else {
    out.fromHeaders = ISTIO_JWT_DEFAULT_HEADERS.map((h) => ({ ...h }));
    out.fromParams = [...ISTIO_JWT_DEFAULT_PARAMS];
  }
  if (r.forwardOriginalToken) out.forwardOriginalToken = true;
  if (r.outputPayloadToHeader) out.outputPayloadToHeader = r.outputPayloadToHeader;
  if (r.outputClaimToHeaders?.length) out.outputClaimToHeaders = r.outputClaimToHeaders.map((c) => ({ header: c.header, claim: c.claim }));
  if (r.spaceDelimitedClaims?.length) out.spaceDelimitedClaims = [...r.spaceDelimitedClaims];
  const timeout = ms(r.timeout);
  if (timeout !== undefined) out.timeoutMs = timeout;
  return out;
}

/** Schema-valid RequestAuthentication → IR JWT authentication policy. */
export function requestAuthenticationToIr(ra: RequestAuthentication, options: IstioOptions = {}): { value: AuthnPolicy; losses: Loss[] } {
  const ns = ra.metadata.namespace ?? options.defaultNamespace ?? "default";
  return {
    value: {
      id: `${ns}/${ra.metadata.name}`,
      namespace: ns,
      selector: selectorOf(ns, ra.spec),
      jwtRules: (ra.spec?.jwtRules ?? []).map(jwtRuleToIr),
      origin: { system: "istio", object: objectRef("RequestAuthentication", ns, ra.metadata.name) },
    },
    losses: [],
  };
}

const isDefaultLocations = (r: JwtRule) =>
  !r.fromCookies?.length && (r.fromParams ?? []).join() === ISTIO_JWT_DEFAULT_PARAMS.join()
  && (r.fromHeaders ?? []).length === 1 && r.fromHeaders![0]!.name.toLowerCase() === "authorization" && r.fromHeaders![0]!.prefix === "Bearer ";

function jwtRuleToIstio(r: JwtRule): Obj {
  const defaults = isDefaultLocations(r);
  return compact({
    issuer: r.issuer,
    audiences: r.audiences?.length ? r.audiences : undefined,
    jwksUri: r.jwksUri,
    jwks: r.jwks,
    fromHeaders: !defaults && r.fromHeaders?.length ? r.fromHeaders.map((h) => compact({ ...h })) : undefined,
    fromParams: !defaults && r.fromParams?.length ? r.fromParams : undefined,
    fromCookies: !defaults && r.fromCookies?.length ? r.fromCookies : undefined,
    forwardOriginalToken: r.forwardOriginalToken || undefined,
    outputPayloadToHeader: r.outputPayloadToHeader,
    outputClaimToHeaders: r.outputClaimToHeaders?.length ? r.outputClaimToHeaders : undefined,
    spaceDelimitedClaims: r.spaceDelimitedClaims?.length ? r.spaceDelimitedClaims : undefined,
    timeout: r.timeoutMs !== undefined ? goDuration(r.timeoutMs) : undefined,
  });
}

export function requestAuthenticationToIstio(p: AuthnPolicy, options: IstioOptions = {}): { value: Obj; losses: Loss[] } {
  const loss = createLossSink(p.origin?.object ?? `AuthnPolicy/${p.id}`);
  p.jwtRules.forEach((r, i) => {
    if (!r.fromHeaders?.length && !r.fromParams?.length && !r.fromCookies?.length) {
      loss.approximated(`jwtRules[${i}]`, "a rule with no token locations reads Istio's defaults (Authorization: Bearer, access_token)");
    }
  });
  const spec = compact({ ...selectorToIstio(p.selector), jwtRules: p.jwtRules.length ? p.jwtRules.map(jwtRuleToIstio) : undefined });
  return {
    value: { apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: meta(p.id, p.origin, "RequestAuthentication", options), spec },
    losses: loss.losses,
  };
}
