/**
 * @module core/policy/kind
 * AuthorizationPolicy as a resource kind for `validateResource` (weft validate, the config store): the
 * schema plus the semantic checks of `istio.ts`.
 */
import { defineKind } from "../resources/kind.ts";
import { authorizationPolicyFromIstio } from "./istio.ts";
import { authorizationPolicySchema } from "./istio-schema.ts";

export const authorizationPolicyKind = defineKind({
  group: "security.istio.io",
  versions: ["v1", "v1beta1"],
  kind: "AuthorizationPolicy",
  schema: authorizationPolicySchema,
  check(obj) {
    return authorizationPolicyFromIstio(obj).diagnostics.map(({ file: _f, line: _l, column: _c, ...d }) => d);
  },
});
