/**
 * @module plugins/rbac/config
 * The rbac filter's configuration: Istio AuthorizationPolicies (objects or multi-document YAML text),
 * the engine options of `core/policy`, the workload this proxy fronts (namespace, labels, service,
 * port), how to find the client address behind trusted proxies, and the CUSTOM providers the host
 * supplies as functions (e.g. an ext_authz client). Policies are checked when the config is validated,
 * so a bad policy is a config error naming the policy and field, not a request-time surprise.
 */
import type { FilterStream } from "../../proxy/filter.ts";
import { authorizationPolicyFromIstio } from "../../core/policy/index.ts";
import { loadYaml } from "../../core/yaml/loader.ts";
import type { AuthzRequest } from "../../core/policy/index.ts";
import type { AuthzPolicy } from "../../core/ir/model.ts";
import { formatDiagnostic, z, type Diagnostic } from "../../core/schema/index.ts";

/** What a CUSTOM provider is asked. */
export interface CustomCheckRequest {
  provider: string;
  /** `namespace/name` of the CUSTOM policy that matched. */
  policy: string | null;
  request: AuthzRequest;
  stream: FilterStream;
}

/** A provider's answer; `headers` are added to the request on allow, or to the reply on deny. */
export type CustomCheckResult =
  | { allow: true; headers?: Record<string, string> }
  | { allow: false; status?: number; body?: string; headers?: Record<string, string> };

/** A CUSTOM (ext_authz-like) provider, supplied by the host. A rejected promise is a provider error. */
export type CustomProvider = (request: CustomCheckRequest) => Promise<CustomCheckResult>;

/** Converts policies from the config; errors and warnings are returned, not thrown. */
export function convertPolicies(policies: string | readonly unknown[], defaultNamespace: string): { policies: AuthzPolicy[]; diagnostics: Diagnostic[] } {
  const out: AuthzPolicy[] = [];
  const diagnostics: Diagnostic[] = [];
  if (typeof policies === "string") {
    const loaded = loadYaml(policies, { file: "rbac.policies" });
    diagnostics.push(...loaded.diagnostics);
    for (const doc of loaded.documents) {
      const kind = (doc.value as { kind?: unknown } | null)?.kind;
      if (kind !== "AuthorizationPolicy") continue;
      const r = authorizationPolicyFromIstio(doc.value, { file: "rbac.policies", locate: doc.locate, defaultNamespace });
      diagnostics.push(...r.diagnostics);
      if (r.value) out.push(r.value);
    }
    return { policies: out, diagnostics };
  }
  policies.forEach((obj, i) => {
    const r = authorizationPolicyFromIstio(obj, { defaultNamespace });
    diagnostics.push(...r.diagnostics.map((d) => ({ ...d, path: `policies[${i}]${d.path ? `.${d.path}` : ""}` })));
    if (r.value) out.push(r.value);
  });
  return { policies: out, diagnostics };
}

const labels = z.record(z.string(), z.string());

export const rbacConfigSchema = z.strictObject({
  /** AuthorizationPolicy objects (as in Kubernetes), or YAML text with one or more of them. */
  policies: z.union([z.string(), z.array(z.unknown())]),
  /** The workload's namespace; also the namespace of policies that do not name one. */
  namespace: z.string().min(1),
  /** The workload's labels, matched against policy selectors. */
  labels: labels.optional(),
  /** The workload's service name, matched against policy `targetRefs`. */
  service: z.string().optional(),
  /** The destination port (`to.operation.ports`, `destination.port`). */
  port: z.number().int().min(1).max(65535).optional(),
  /** The destination address (`destination.ip`). */
  destinationIp: z.string().optional(),
  rootNamespace: z.string().optional(),
  trustDomain: z.string().optional(),
  trustDomainAliases: z.array(z.string()).optional(),
  pathNormalization: z.enum(["NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"]).optional(),
  /** Proxies in front of this one whose `X-Forwarded-For` entries are trusted for `remoteIpBlocks` (Envoy's `xff_num_trusted_hops`). */
  xffNumTrustedHops: z.number().int().min(0).default(0),
  /** CUSTOM providers by name, supplied by the host (functions cannot come from YAML). */
  customProviders: z.record(z.string(), z.custom<CustomProvider>((v) => typeof v === "function", { message: "expected a function" })).optional(),
  /** Allow the request when a CUSTOM provider fails or is missing (Envoy's `failure_mode_allow`); default: deny. */
  failOpen: z.boolean().default(false),
  /** Policies already in the mesh model (e.g. Consul intentions compiled by `adapters/consul`), added to `policies`. */
  irPolicies: z.array(z.custom<AuthzPolicy>((v) => typeof v === "object" && v !== null && typeof (v as { id?: unknown }).id === "string", { message: "expected an IR authorization policy" })).optional(),
}).superRefine((cfg, ctx) => {
  const { diagnostics } = convertPolicies(cfg.policies, cfg.namespace);
  for (const d of diagnostics) {
    if (d.severity === "error") ctx.addIssue({ code: "custom", path: ["policies"], message: formatDiagnostic(d) });
  }
});

export type RbacConfig = z.infer<typeof rbacConfigSchema>;
