/**
 * @module control/extauthz/service
 * The `envoy.service.auth.v3.Authorization` service: one Check = map the CheckRequest, decide with the
 * current policy set, answer a CheckResponse. Istio's `envoyExtAuthzGrpc` provider and Consul's
 * `builtin/ext-authz` Envoy extension call the same API, so one server answers both. A request whose
 * destination workload cannot be determined, or that cannot be mapped, is denied (fail closed).
 * Runtime-neutral: hosts mount `createExtAuthzRoutes` on their connect adapter (node/server.ts for Node).
 */
import type { ConnectRouter } from "@connectrpc/connect";
import type { CheckRequest, CheckResponse } from "../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";
import { Authorization } from "../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";
import type { AuthzRequest, Decision } from "../../core/policy/types.ts";
import { checkRequestToAuthz, type MapOptions } from "./check-request.ts";
import { decisionToCheckResponse, failClosedResponse } from "./check-response.ts";
import type { PolicySource } from "./policy-source.ts";

export interface ExtAuthzOptions extends MapOptions {
  policies: PolicySource;
  /** Called after each decision (access log, metrics). Keep it cheap: it runs on the hot path. */
  onDecision?: (request: AuthzRequest | null, decision: Decision | null, response: CheckResponse) => void;
}

/** The Check handler without transport, for tests and other hosts. */
export function createCheckHandler(options: ExtAuthzOptions): (req: CheckRequest) => CheckResponse {
  return (req) => {
    let mapped;
    try {
      mapped = checkRequestToAuthz(req, options);
    } catch (err) {
      const res = failClosedResponse(`weft: cannot read the CheckRequest: ${(err as Error).message}`);
      options.onDecision?.(null, null, res);
      return res;
    }
    if (mapped.workloadFrom === "unknown") {
      const res = failClosedResponse("weft: destination workload unknown (no context_extensions namespace, address match or SPIFFE destination principal)");
      options.onDecision?.(mapped.request, null, res);
      return res;
    }
    const decision = options.policies.authorizer().check(mapped.request);
    const res = decisionToCheckResponse(decision, { workloadFrom: mapped.workloadFrom });
    options.onDecision?.(mapped.request, decision, res);
    return res;
  };
}

/**
 * Connect routes serving `envoy.service.auth.v3.Authorization/Check`.
 * @example
 * connectNodeAdapter({ routes: createExtAuthzRoutes({ policies }), grpc: true });
 */
export function createExtAuthzRoutes(options: ExtAuthzOptions): (router: ConnectRouter) => void {
  const check = createCheckHandler(options);
  return (router) => {
    router.service(Authorization, { check: (req) => check(req) });
  };
}
