/**
 * @module core/identity/equivalence
 * Which identities are the same workload across trust domains. Two sources feed it: trust-domain aliases
 * (Istio's `trustDomainAliases`: `spiffe://<alias>/<path>` is the same workload as `spiffe://<td>/<path>` for
 * every path) and explicit mappings from config (Consul service `web` in `dc1` ≡
 * `spiffe://cluster.local/ns/default/sa/web`, or any SPIFFE ID ≡ any other). Mappings are symmetric and
 * transitive: they are merged into equivalence classes with union-find once, when the mapper is created, so
 * `equivalent`, `expand` and `canonical` are cheap lookups. The config schema is exported for other config
 * files to embed; its errors are {@link Diagnostic}s that name the field.
 */
import { ValidationError, type Diagnostic, z, zodIssuesToDiagnostics } from "../schema/index.ts";
import { SpiffeIdError, parseSpiffeId, validatePathSegment, validateTrustDomain } from "./spiffe.ts";
import { CONSUL_DEFAULT_PARTITION, classifySpiffeId, formatConsulIdentity, formatIstioIdentity } from "./mesh-forms.ts";
import type { SpiffeId } from "../ir/model.ts";

/** Istio's default trust domain, used when the config names none. */
export const DEFAULT_TRUST_DOMAIN = "cluster.local";

function refineWith(check: (v: string) => unknown) {
  return (v: string, ctx: z.core.$RefinementCtx<string>): void => {
    try {
      check(v);
    } catch (e) {
      if (!(e instanceof SpiffeIdError)) throw e;
      ctx.addIssue({ code: "custom", message: e.reason });
    }
  };
}

/** A SPIFFE ID string, validated per the SPIFFE ID specification. */
export const spiffeIdSchema = z.string().superRefine(refineWith(parseSpiffeId));
/** A SPIFFE trust domain name. */
export const trustDomainSchema = z.string().superRefine(refineWith(validateTrustDomain));
const segment = (what: string) => z.string().superRefine(refineWith((v) => validatePathSegment(v, what)));

/** One identity in a mapping: a SPIFFE ID, or an Istio workload, or a Consul service by name. */
export const identityRefSchema = z.union([
  spiffeIdSchema,
  z.strictObject({ spiffe: spiffeIdSchema }),
  z.strictObject({
    istio: z.strictObject({
      /** Default: the config's `trustDomain`. */
      trustDomain: trustDomainSchema.optional(),
      namespace: segment("namespace"),
      serviceAccount: segment("service account"),
    }),
  }),
  z.strictObject({
    consul: z.strictObject({
      /** Default: the config's `consulTrustDomain`; without either, any `*.consul` trust domain matches. */
      trustDomain: trustDomainSchema.optional(),
      partition: segment("partition").optional(),
      namespace: segment("namespace").optional(),
      datacenter: segment("datacenter"),
      service: segment("service"),
    }),
  }),
]);

/**
 * Identity equivalence config, e.g. in YAML:
 * ```yaml
 * trustDomain: cluster.local
 * trustDomainAliases: [old.example.com]
 * mappings:
 *   - identities:
 *       - consul: { service: web, datacenter: dc1 }
 *       - spiffe://cluster.local/ns/default/sa/web
 * ```
 */
export const identityMappingConfigSchema = z.strictObject({
  /** The mesh's own trust domain: canonical identities use it. Default `cluster.local`. */
  trustDomain: trustDomainSchema.optional(),
  /** Trust domains that name the same workloads as `trustDomain` (Istio `trustDomainAliases`). */
  trustDomainAliases: z.array(trustDomainSchema).optional(),
  /** The Consul cluster's trust domain (`<cluster-id>.consul`), for Consul references that name none. */
  consulTrustDomain: trustDomainSchema.optional(),
  mappings: z
    .array(
      z.strictObject({
        description: z.string().optional(),
        identities: z.array(identityRefSchema).min(2, "a mapping needs at least two identities"),
      }),
    )
    .optional(),
});

export type IdentityRef = z.output<typeof identityRefSchema>;
export type IdentityMappingConfig = z.output<typeof identityMappingConfigSchema>;

/** Validates identity mapping config; `base` (file, line, object) is copied into every diagnostic. */
export function validateIdentityMappingConfig(
  input: unknown,
  base: Partial<Diagnostic> = {},
): { ok: true; config: IdentityMappingConfig } | { ok: false; diagnostics: Diagnostic[] } {
  const r = identityMappingConfigSchema.safeParse(input ?? {});
  return r.success ? { ok: true, config: r.data } : { ok: false, diagnostics: zodIssuesToDiagnostics(r.error.issues, base) };
}

/** Answers "is this the same workload?" across trust domains and meshes. Immutable once created. */
export interface IdentityMapper {
  readonly trustDomain: string;
  readonly trustDomainAliases: readonly string[];
  /** True when `a` and `b` name the same workload (reflexive, symmetric, transitive). @throws SpiffeIdError */
  equivalent(a: string, b: string): boolean;
  /**
   * Every SPIFFE ID equivalent to `uri`, `uri` first, then the canonical one, then the rest in config order with
   * each alias spelling. Consul references that match any `*.consul` trust domain can't be listed.
   * @throws SpiffeIdError
   */
  expand(uri: string): string[];
  /**
   * One representative per class, so `canonical(a) === canonical(b)` exactly when `a` and `b` are equivalent:
   * the weft/Istio form (preferably in the mesh trust domain) when one is mapped, else the class's first ID in
   * config order, else `uri` itself with aliases resolved. (A class named only by trust-domain-less Consul
   * references has no listed ID, so each of its members is its own canonical form.)
   * @throws SpiffeIdError
   */
  canonical(uri: string): string;
}

const CONSUL_WILDCARD = "consul-any-td:";

function consulWildcardKey(partition: string | undefined, namespace: string | undefined, datacenter: string, service: string): string {
  return `${CONSUL_WILDCARD}${partition || CONSUL_DEFAULT_PARTITION}/${namespace || "default"}/${datacenter}/${service}`;
}

/** The wildcard key a Consul service ID answers to, when it lives in a `*.consul` trust domain. */
function wildcardKeyOf(id: SpiffeId): string | undefined {
  if (!id.trustDomain.endsWith(".consul")) return undefined;
  const c = classifySpiffeId(id);
  return c.kind === "consul" ? consulWildcardKey(c.consul.partition, c.consul.namespace, c.consul.datacenter, c.consul.service) : undefined;
}

/**
 * Creates an identity mapper from (unvalidated) config.
 * @throws ValidationError with diagnostics naming the field, e.g. `mappings[0].identities[1].consul.datacenter`.
 * @example
 * const ids = createIdentityMapper({
 *   mappings: [{ identities: [{ consul: { service: "web", datacenter: "dc1" } }, "spiffe://cluster.local/ns/default/sa/web"] }],
 * });
 * ids.equivalent("spiffe://1234.consul/ns/default/dc/dc1/svc/web", "spiffe://cluster.local/ns/default/sa/web"); // true
 * ids.canonical("spiffe://1234.consul/ns/default/dc/dc1/svc/web"); // "spiffe://cluster.local/ns/default/sa/web"
 */
export function createIdentityMapper(input: unknown = {}, base: Partial<Diagnostic> = {}): IdentityMapper {
  const v = validateIdentityMappingConfig(input, base);
  if (!v.ok) throw new ValidationError(v.diagnostics);
  const config = v.config;
  const primary = config.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const aliases = [...new Set(config.trustDomainAliases ?? [])].filter((td) => td !== primary);
  const group = new Set([primary, ...aliases]);

  /** Resolves trust-domain aliases: the one spelling used as a node key. */
  const normalize = (id: SpiffeId): string => (group.has(id.trustDomain) && id.trustDomain !== primary ? `spiffe://${primary}${id.path}` : id.uri);

  // Union-find over node keys (normalized URIs and Consul wildcard keys), in order of first appearance.
  const index = new Map<string, number>();
  const keys: string[] = [];
  const parent: number[] = [];
  const node = (key: string): number => {
    let i = index.get(key);
    if (i === undefined) {
      i = keys.length;
      index.set(key, i);
      keys.push(key);
      parent.push(i);
    }
    return i;
  };
  const find = (i: number): number => {
    while (parent[i] !== i) {
      const p = parent[i] as number;
      parent[i] = parent[p] as number;
      i = p;
    }
    return i;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    // The older node stays the root, so classes keep config order.
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };

  const keyOf = (ref: IdentityRef): string => {
    if (typeof ref === "string") return normalize(parseSpiffeId(ref));
    if ("spiffe" in ref) return normalize(parseSpiffeId(ref.spiffe));
    if ("istio" in ref) {
      const { trustDomain = primary, namespace, serviceAccount } = ref.istio;
      return normalize(parseSpiffeId(formatIstioIdentity({ trustDomain, namespace, serviceAccount })));
    }
    const c = ref.consul;
    const td = c.trustDomain ?? config.consulTrustDomain;
    if (td === undefined) return consulWildcardKey(c.partition, c.namespace, c.datacenter, c.service);
    const uri = formatConsulIdentity({ trustDomain: td, partition: c.partition, namespace: c.namespace ?? "default", datacenter: c.datacenter, service: c.service });
    return normalize(parseSpiffeId(uri));
  };

  for (const mapping of config.mappings ?? []) {
    const [first, ...rest] = mapping.identities.map((ref) => node(keyOf(ref)));
    for (const other of rest) union(first as number, other);
  }
  // A concrete Consul ID is also named by its wildcard reference, when the config has one.
  for (const key of [...keys]) {
    if (key.startsWith(CONSUL_WILDCARD)) continue;
    const wk = wildcardKeyOf(parseSpiffeId(key));
    if (wk !== undefined && index.has(wk)) union(index.get(key) as number, index.get(wk) as number);
  }

  // Classes: concrete members (URIs) in order of first appearance, and the canonical member.
  const members = new Map<number, string[]>();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key.startsWith(CONSUL_WILDCARD)) continue;
    const r = find(i);
    const list = members.get(r) ?? [];
    list.push(key);
    members.set(r, list);
  }
  const canonicalOf = new Map<number, string>();
  for (const [r, list] of members) {
    const istio = list.filter((k) => classifySpiffeId(parseSpiffeId(k)).kind === "istio");
    const pick = istio.find((k) => parseSpiffeId(k).trustDomain === primary) ?? istio[0] ?? list[0];
    if (pick !== undefined) canonicalOf.set(r, pick);
  }

  const classOf = (id: SpiffeId): { key: string; root: number | undefined } => {
    const key = normalize(id);
    const i = index.get(key);
    if (i !== undefined) return { key, root: find(i) };
    const wk = wildcardKeyOf(key === id.uri ? id : parseSpiffeId(key));
    const w = wk === undefined ? undefined : index.get(wk);
    return { key, root: w === undefined ? undefined : find(w) };
  };

  const spellings = (key: string): string[] => {
    const id = parseSpiffeId(key);
    return id.trustDomain === primary ? [primary, ...aliases].map((td) => `spiffe://${td}${id.path}`) : [key];
  };

  return Object.freeze({
    trustDomain: primary,
    trustDomainAliases: Object.freeze(aliases),
    equivalent(a: string, b: string): boolean {
      const ca = classOf(parseSpiffeId(a));
      const cb = classOf(parseSpiffeId(b));
      if (ca.key === cb.key) return true;
      return ca.root !== undefined && ca.root === cb.root;
    },
    expand(uri: string): string[] {
      const id = parseSpiffeId(uri);
      const c = classOf(id);
      const out = new Set<string>([id.uri]);
      const canon = c.root === undefined ? undefined : canonicalOf.get(c.root);
      const list = c.root === undefined ? [c.key] : [...(canon === undefined ? [] : [canon]), ...(members.get(c.root) ?? []), c.key];
      for (const key of list) for (const s of spellings(key)) out.add(s);
      return [...out];
    },
    canonical(uri: string): string {
      const c = classOf(parseSpiffeId(uri));
      return (c.root === undefined ? undefined : canonicalOf.get(c.root)) ?? c.key;
    },
  });
}
