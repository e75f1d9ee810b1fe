/**
 * @module core/policy/istio-schema
 * The schema of Istio's `AuthorizationPolicy` (security.istio.io v1 and v1beta1), field for field as the
 * istio/api protos define it. Unknown fields are errors (Istio's own schema rejects them too, but a
 * hand-written policy applied elsewhere would silently lose them). Semantic checks that need more than
 * shape (CIDRs, ports, `when` keys, path templates) live in `istio.ts`.
 */
import { strict } from "../resources/fields.ts";
import { z } from "../schema/index.ts";

const strings = z.array(z.string()).optional();

export const sourceSchema = strict({
  principals: strings,
  notPrincipals: strings,
  requestPrincipals: strings,
  notRequestPrincipals: strings,
  namespaces: strings,
  notNamespaces: strings,
  serviceAccounts: strings,
  notServiceAccounts: strings,
  ipBlocks: strings,
  notIpBlocks: strings,
  remoteIpBlocks: strings,
  notRemoteIpBlocks: strings,
});

export const operationSchema = strict({
  hosts: strings,
  notHosts: strings,
  ports: strings,
  notPorts: strings,
  methods: strings,
  notMethods: strings,
  paths: strings,
  notPaths: strings,
});

export const conditionSchema = strict({
  key: z.string({ error: "key is required" }),
  values: strings,
  notValues: strings,
});

export const ruleSchema = strict({
  from: z.array(strict({ source: sourceSchema.optional() })).optional(),
  to: z.array(strict({ operation: operationSchema.optional() })).optional(),
  when: z.array(conditionSchema).optional(),
});

const targetRefSchema = strict({
  group: z.string().optional(),
  kind: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
});

export const authorizationPolicySpecSchema = strict({
  selector: strict({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
  targetRef: targetRefSchema.optional(),
  targetRefs: z.array(targetRefSchema).optional(),
  rules: z.array(ruleSchema.nullable()).optional(),
  action: z.enum(["ALLOW", "DENY", "AUDIT", "CUSTOM"]).optional(),
  provider: strict({ name: z.string() }).optional(),
});

export const metadataSchema = z.looseObject({
  name: z.string({ error: "metadata.name is required" }).min(1, "metadata.name must not be empty"),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const authorizationPolicySchema = z.looseObject({
  apiVersion: z.enum(["security.istio.io/v1", "security.istio.io/v1beta1"]),
  kind: z.literal("AuthorizationPolicy"),
  metadata: metadataSchema,
  spec: authorizationPolicySpecSchema.nullish(),
  status: z.unknown().optional(),
});

export type IstioAuthorizationPolicy = z.infer<typeof authorizationPolicySchema>;
export type IstioRule = z.infer<typeof ruleSchema>;
