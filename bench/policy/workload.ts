/**
 * @module bench/policy/workload
 * The policy benchmark's workload, generated from a seed: N authorization rules for one workload spread
 * over several Istio AuthorizationPolicies (ALLOW rules with principals, methods, exact/prefix/template
 * paths and a few `request.headers[...]` conditions; some DENY rules), the equivalent Casbin RESTful
 * model and policy lines, and one fixed list of requests in both engines' shapes. Each Istio rule maps
 * to exactly one Casbin line, so "N rules" means the same thing for both engines:
 * principal exact/`x*` ↔ `keyMatch(r.sub, p.sub)` (no `from` ↔ `*`), methods ↔ `regexMatch` on
 * `^(A|B)$`, path exact/`x*`/`{*}` ↔ `keyMatch2` on exact/`x*`/`:id`, header condition ↔ `r.tenant`.
 */
import type { AuthzRequest } from "../../core/policy/index.ts";

/** mulberry32: small, fast, seeded; the same seed gives the same workload on every machine. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const chance = (rng: Rng, p: number): boolean => rng() < p;

const NAMESPACES = ["frontend", "checkout", "cart", "payments", "search", "catalog", "shipping", "email",
  "currency", "ads", "recommend", "reviews", "auth", "billing", "inventory", "gateway"];
const ACCOUNTS = ["default", "api", "worker", "batch", "admin", "reader"];
const AREAS = ["store", "admin", "internal", "public", "partner", "mobile", "web", "ops", "billing", "catalog"];
const RESOURCES = ["users", "orders", "products", "carts", "payments", "invoices", "reviews", "sessions",
  "shipments", "coupons", "accounts", "reports", "inventory", "prices", "webhooks", "tokens", "images",
  "ratings", "addresses", "refunds"];
const SUBRESOURCES = ["items", "history", "status", "events", "notes"];
const METHOD_SETS = [["GET"], ["GET", "HEAD"], ["POST"], ["PUT", "PATCH"], ["DELETE"], ["GET", "POST"]];
const ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const TENANTS = ["acme", "globex", "initech", "umbrella", "hooli"];
export const TENANT_HEADER = "x-tenant";

const TARGET = { namespace: "shop", labels: { app: "api", version: "v1" } };
const RULES_PER_POLICY = 25;

interface PathPattern {
  kind: "exact" | "prefix" | "template";
  /** Istio `paths` value. */
  istio: string;
  /** keyMatch2 pattern. */
  casbin: string;
  /** A concrete request path this pattern matches. */
  sample: (rng: Rng) => string;
}

export interface BenchRule {
  action: "ALLOW" | "DENY";
  /** Istio principal (no `spiffe://`), possibly ending in `*`; null = any source. */
  principal: string | null;
  methods: string[] | null;
  path: PathPattern | null;
  /** Required `x-tenant` header value; null = no condition. */
  tenant: string | null;
}

/** One request, as weft sees it and as Casbin's `enforce(sub, obj, act, tenant)` sees it. */
export interface BenchRequest {
  weft: AuthzRequest;
  casbin: [string, string, string, string];
}

export interface Workload {
  rules: BenchRule[];
  /** Istio AuthorizationPolicy objects (as parsed from YAML). */
  istio: Record<string, unknown>[];
  casbinModel: string;
  /** `[sub, obj, act, tenant, eft]`, DENY lines first (Istio evaluates DENY first too). */
  casbinPolicies: string[][];
  requests: BenchRequest[];
}

export const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act, tenant

[policy_definition]
p = sub, obj, act, tenant, eft

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = keyMatch(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && regexMatch(r.act, p.act) && (p.tenant == "*" || r.tenant == p.tenant)
`;

const token = (rng: Rng): string => Math.floor(rng() * 1e9).toString(36);
const randomPrincipal = (rng: Rng): string => `cluster.local/ns/${pick(rng, NAMESPACES)}/sa/${pick(rng, ACCOUNTS)}`;
const randomBase = (rng: Rng): string => `/${pick(rng, AREAS)}/v${1 + Math.floor(rng() * 3)}/${pick(rng, RESOURCES)}`;

function randomPath(rng: Rng, deny: boolean): PathPattern {
  const base = deny ? `${randomBase(rng)}/admin` : randomBase(rng);
  const r = rng();
  if (deny || r < 0.35) {
    return { kind: "prefix", istio: `${base}/*`, casbin: `${base}/*`, sample: (g) => `${base}/${token(g)}${chance(g, 0.5) ? `/${pick(g, SUBRESOURCES)}` : ""}` };
  }
  if (r < 0.75) {
    const p = chance(rng, 0.5) ? base : `${base}/${pick(rng, SUBRESOURCES)}`;
    return { kind: "exact", istio: p, casbin: p, sample: () => p };
  }
  const sub = pick(rng, SUBRESOURCES);
  return { kind: "template", istio: `${base}/{*}/${sub}`, casbin: `${base}/:id/${sub}`, sample: (g) => `${base}/${token(g)}/${sub}` };
}

function allowRule(rng: Rng): BenchRule {
  const r = rng();
  const principal = r < 0.6 ? randomPrincipal(rng) : r < 0.75 ? `cluster.local/ns/${pick(rng, NAMESPACES)}/sa/*` : null;
  // A rule with neither principal nor path would allow (nearly) everything; give it a path.
  const path = principal && chance(rng, 0.05) ? null : randomPath(rng, false);
  return {
    action: "ALLOW",
    principal,
    methods: chance(rng, 0.1) ? null : pick(rng, METHOD_SETS),
    path,
    tenant: chance(rng, 0.1) ? pick(rng, TENANTS) : null,
  };
}

function denyRule(rng: Rng): BenchRule {
  return {
    action: "DENY",
    principal: chance(rng, 0.3) ? randomPrincipal(rng) : null,
    methods: chance(rng, 0.3) ? null : pick(rng, [["DELETE"], ["POST", "PUT", "PATCH", "DELETE"]]),
    path: randomPath(rng, true),
    tenant: chance(rng, 0.1) ? pick(rng, TENANTS) : null,
  };
}

function istioRule(r: BenchRule): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.principal) out["from"] = [{ source: { principals: [r.principal] } }];
  if (r.methods || r.path) {
    const operation: Record<string, string[]> = {};
    if (r.methods) operation["methods"] = r.methods;
    if (r.path) operation["paths"] = [r.path.istio];
    out["to"] = [{ operation }];
  }
  if (r.tenant) out["when"] = [{ key: `request.headers[${TENANT_HEADER}]`, values: [r.tenant] }];
  return out;
}

function casbinLine(r: BenchRule): string[] {
  return [
    r.principal ? `spiffe://${r.principal}` : "*",
    r.path ? r.path.casbin : "*",
    r.methods ? `^(${r.methods.join("|")})$` : ".*",
    r.tenant ?? "*",
    r.action === "ALLOW" ? "allow" : "deny",
  ];
}

/** Groups rules into policies of at most RULES_PER_POLICY rules each, per action. */
function policies(rules: BenchRule[], action: "ALLOW" | "DENY"): Record<string, unknown>[] {
  const mine = rules.filter((r) => r.action === action);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < mine.length; i += RULES_PER_POLICY) {
    const n = String(out.length).padStart(3, "0");
    out.push({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: `api-${action.toLowerCase()}-${n}`, namespace: TARGET.namespace },
      spec: { selector: { matchLabels: { app: TARGET.labels.app } }, action, rules: mine.slice(i, i + RULES_PER_POLICY).map(istioRule) },
    });
  }
  return out;
}

function request(rng: Rng, principal: string | null, method: string, path: string, tenant: string | null): BenchRequest {
  const headers: Record<string, string> = {
    "user-agent": "bench/1.0",
    accept: "application/json",
    "x-request-id": token(rng) + token(rng),
  };
  if (tenant) headers[TENANT_HEADER] = tenant;
  const sub = principal ? `spiffe://${principal}` : "";
  return {
    weft: {
      destination: { namespace: TARGET.namespace, labels: TARGET.labels, port: 8080 },
      ...(principal ? { source: { principal: sub, ip: "10.0.3.7" } } : { source: { ip: "10.0.3.7" } }),
      http: { method, path, host: "api.shop.svc.cluster.local", headers },
    },
    casbin: [sub, path, method, tenant ?? ""],
  };
}

/** A request aimed at one rule: matches it unless the random parts (tenant, plaintext) miss. */
function requestFor(rng: Rng, r: BenchRule, plaintext: boolean): BenchRequest {
  let principal: string | null = null;
  if (!plaintext) {
    if (r.principal === null) principal = randomPrincipal(rng);
    else if (r.principal.endsWith("*")) principal = r.principal.slice(0, -1) + pick(rng, ACCOUNTS);
    else principal = r.principal;
  }
  const method = r.methods ? pick(rng, r.methods) : pick(rng, ALL_METHODS);
  const path = r.path ? r.path.sample(rng) : randomBase(rng);
  let tenant: string | null;
  if (r.tenant) tenant = chance(rng, 0.85) ? r.tenant : pick(rng, TENANTS);
  else tenant = chance(rng, 0.5) ? pick(rng, TENANTS) : null;
  return request(rng, principal, method, path, tenant);
}

function noiseRequest(rng: Rng): BenchRequest {
  const tail = chance(rng, 0.5) ? `/${token(rng)}` : "";
  return request(rng, randomPrincipal(rng), pick(rng, ALL_METHODS), randomBase(rng) + tail, chance(rng, 0.5) ? pick(rng, TENANTS) : null);
}

/**
 * Generates the workload: ~10% DENY rules (at least one), the rest ALLOW. Requests: 55% aimed at a
 * random ALLOW rule (early and late alike), 10% at a DENY rule, 5% plaintext aimed at an ALLOW rule,
 * 30% random (mostly no rule matches).
 */
export function generateWorkload(ruleCount: number, requestCount: number, seed: number): Workload {
  const rng = createRng(seed * 7919 + ruleCount);
  const denyCount = Math.max(1, Math.round(ruleCount * 0.1));
  const rules: BenchRule[] = [];
  for (let i = 0; i < ruleCount; i++) rules.push(i < ruleCount - denyCount ? allowRule(rng) : denyRule(rng));
  const allows = rules.filter((r) => r.action === "ALLOW");
  const denies = rules.filter((r) => r.action === "DENY");
  const requests: BenchRequest[] = [];
  const reqRng = createRng(seed);
  for (let i = 0; i < requestCount; i++) {
    const x = reqRng();
    if (x < 0.55) requests.push(requestFor(reqRng, pick(reqRng, allows), false));
    else if (x < 0.65) requests.push(requestFor(reqRng, pick(reqRng, denies), false));
    else if (x < 0.7) requests.push(requestFor(reqRng, pick(reqRng, allows), true));
    else requests.push(noiseRequest(reqRng));
  }
  return {
    rules,
    istio: [...policies(rules, "DENY"), ...policies(rules, "ALLOW")],
    casbinModel: CASBIN_MODEL,
    casbinPolicies: [...denies, ...allows].map(casbinLine),
    requests,
  };
}
