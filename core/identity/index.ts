/**
 * @module core/identity
 * Weft's identity layer: SPIFFE IDs (strict parsing and formatting per the SPIFFE ID specification), the Istio
 * and Consul path shapes and Istio's principal spelling, trust bundles that hold several X.509 roots per trust
 * domain (SPIFFE bundle JSON in and out), and an identity mapper that says which identities in different trust
 * domains or meshes are the same workload. Runtime-neutral: Web APIs and `@peculiar/x509` only.
 *
 * @example
 * ```ts
 * import { classifyIdentity, createIdentityMapper, createTrustBundleSet, toAuthzPrincipal } from "./core/identity/index.ts";
 *
 * classifyIdentity("spiffe://1234.consul/ap/bizdev/ns/default/dc/dc1/svc/web");
 * // { kind: "consul", consul: { trustDomain: "1234.consul", partition: "bizdev", namespace: "default", datacenter: "dc1", service: "web" }, id: ... }
 * toAuthzPrincipal("spiffe://cluster.local/ns/default/sa/web"); // "cluster.local/ns/default/sa/web"
 *
 * const ids = createIdentityMapper({
 *   trustDomainAliases: ["old.example.com"],
 *   mappings: [{ identities: [{ consul: { service: "web", datacenter: "dc1" } }, "spiffe://cluster.local/ns/default/sa/web"] }],
 * });
 * ids.canonical("spiffe://1234.consul/ns/default/dc/dc1/svc/web"); // "spiffe://cluster.local/ns/default/sa/web"
 * ids.expand("spiffe://old.example.com/ns/a/sa/b"); // [old.example.com…, cluster.local…]
 *
 * const bundles = createTrustBundleSet().add("cluster.local", rootPem).add("cluster.local", nextRootPem);
 * bundles.pemFor("cluster.local"); // both roots while the CA rotates
 * ```
 */
export {
  SPIFFE_ID_MAX_BYTES,
  TRUST_DOMAIN_MAX_BYTES,
  SpiffeIdError,
  type SpiffeIdPart,
  formatSpiffeId,
  fromAuthzPrincipal,
  isSpiffeId,
  parseSpiffeId,
  pathSegments,
  spiffeIdFromSegments,
  toAuthzPrincipal,
  tryParseSpiffeId,
  validatePathSegment,
  validateTrustDomain,
} from "./spiffe.ts";
export {
  CONSUL_DEFAULT_PARTITION,
  type ConsulAgentIdentity,
  type ConsulMeshGatewayIdentity,
  type ConsulServerIdentity,
  type IdentityClass,
  type IdentityKind,
  classifyIdentity,
  classifySpiffeId,
  formatConsulIdentity,
  formatIdentity,
  formatIstioIdentity,
  parseConsulIdentity,
  parseIstioIdentity,
  tryClassifyIdentity,
} from "./mesh-forms.ts";
export {
  type SpiffeBundleDocument,
  type TrustBundleSet,
  type TrustBundleSetOptions,
  type TrustDomainBundle,
  type TrustRoot,
  TrustBundleError,
  createTrustBundleSet,
  decodeCertificatePem,
  normalizeFingerprint,
} from "./trust-bundle.ts";
export {
  DEFAULT_TRUST_DOMAIN,
  type IdentityMapper,
  type IdentityMappingConfig,
  type IdentityRef,
  createIdentityMapper,
  identityMappingConfigSchema,
  identityRefSchema,
  spiffeIdSchema,
  trustDomainSchema,
  validateIdentityMappingConfig,
} from "./equivalence.ts";
export type { ConsulIdentity, SpiffeId, WorkloadIdentity } from "../ir/model.ts";
