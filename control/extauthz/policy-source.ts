/**
 * @module control/extauthz/policy-source
 * Where the ext_authz server gets its policy set: a fixed list (policy files, compiled once) or the
 * config store, whose AuthorizationPolicies are recompiled on every change so the next Check sees
 * them. A store object that no longer converts is reported and left out; the rest stay enforced.
 * `authorizer()` is cheap (the compiled set is swapped atomically), safe to call per request.
 */
import type { AuthzPolicy } from "../../core/ir/model.ts";
import { authorizationPolicyFromIstio, compileAuthorizer, type Authorizer, type EngineOptions } from "../../core/policy/index.ts";
import type { Diagnostic } from "../../core/schema/index.ts";
import type { ConfigStore } from "../store/types.ts";

export interface PolicySource {
  /** The current compiled policy set. */
  authorizer(): Authorizer;
  /** Stops watching (store sources). */
  close(): void;
}

/** A fixed policy set, compiled once. */
export function createStaticPolicySource(policies: readonly AuthzPolicy[], options: EngineOptions = {}): PolicySource {
  const authz = compileAuthorizer(policies, options);
  return { authorizer: () => authz, close: () => undefined };
}

export interface StorePolicySourceOptions extends EngineOptions {
  /** Policies compiled beside the store's (e.g. Consul intentions converted elsewhere). */
  extra?: readonly AuthzPolicy[];
  /** Problems converting store objects, after each recompile. */
  onDiagnostics?: (diagnostics: Diagnostic[]) => void;
}

/**
 * Follows the config store's AuthorizationPolicies.
 * @example
 * const source = createStorePolicySource(store, { rootNamespace: "istio-system" });
 * startExtAuthzServer({ policies: source });
 */
export function createStorePolicySource(store: ConfigStore, options: StorePolicySourceOptions = {}): PolicySource {
  const compile = (): Authorizer => {
    const policies: AuthzPolicy[] = [...(options.extra ?? [])];
    const diagnostics: Diagnostic[] = [];
    for (const r of store.list({ kind: "AuthorizationPolicy", group: "security.istio.io" })) {
      const c = authorizationPolicyFromIstio(r.object);
      diagnostics.push(...c.diagnostics);
      if (c.value && !c.diagnostics.some((d) => d.severity === "error")) policies.push(c.value);
    }
    if (diagnostics.length) options.onDiagnostics?.(diagnostics);
    return compileAuthorizer(policies, options);
  };
  let current = compile();
  const stop = store.watch(store.revision(), (events) => {
    if (events.some((e) => e.resource.kind === "AuthorizationPolicy")) current = compile();
  });
  return { authorizer: () => current, close: stop };
}
