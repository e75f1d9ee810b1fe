/**
 * @module control/extauthz/check-response
 * Turns the policy engine's `Decision` into Envoy's `CheckResponse`: gRPC status 0 with an
 * `ok_response` that sets `x-weft-authz-policy` on the upstream request, or status 7
 * (PERMISSION_DENIED) with a `denied_response` (HTTP 403, a short text body and the same header). The
 * decision also goes into `dynamic_metadata` so later filters and access logs can read it under
 * `envoy.filters.http.ext_authz`. Pure: no I/O.
 */
import { create } from "@bufbuild/protobuf";
import { HeaderValueOption_HeaderAppendAction, HeaderValueOptionSchema, type HeaderValueOption } from "../../gen/proto/envoy/config/core/v3/base_pb.ts";
import { CheckResponseSchema, type CheckResponse } from "../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";
import { StatusCode } from "../../gen/proto/envoy/type/v3/http_status_pb.ts";
import type { Decision } from "../../core/policy/types.ts";

/** The header naming the deciding policy (`namespace/name`, or `none`). */
export const POLICY_HEADER = "x-weft-authz-policy";

/** gRPC status codes used in `CheckResponse.status`. */
export const GrpcCode = { OK: 0, PERMISSION_DENIED: 7, UNAVAILABLE: 14 } as const;

const header = (key: string, value: string): HeaderValueOption =>
  create(HeaderValueOptionSchema, {
    header: { key, value },
    // Overwrite: a client must not be able to send its own x-weft-authz-policy upstream.
    appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
  });

export interface ResponseExtras {
  /** Where the destination workload came from (see check-request.ts). */
  workloadFrom?: string;
}

/**
 * Builds the CheckResponse for a decision.
 * @example
 * const res = decisionToCheckResponse(authorizer.check(request));
 * res.status?.code; // 0 or 7
 */
export function decisionToCheckResponse(d: Decision, extras: ResponseExtras = {}): CheckResponse {
  const policy = d.policy ?? "none";
  const metadata = {
    "weft.decision": d.decision,
    "weft.policy": policy,
    ...(d.rule !== null ? { "weft.rule": d.rule } : {}),
    "weft.reason": d.reason,
    ...(d.audit ? { "weft.audit": true, "weft.audit_policies": d.auditPolicies } : {}),
    ...(extras.workloadFrom ? { "weft.workload_from": extras.workloadFrom } : {}),
  };
  if (d.decision === "allow") {
    return create(CheckResponseSchema, {
      status: { code: GrpcCode.OK },
      httpResponse: { case: "okResponse", value: { headers: [header(POLICY_HEADER, policy)] } },
      dynamicMetadata: metadata,
    });
  }
  return create(CheckResponseSchema, {
    status: { code: GrpcCode.PERMISSION_DENIED, message: d.reason },
    httpResponse: {
      case: "deniedResponse",
      value: {
        status: { code: StatusCode.Forbidden },
        headers: [header(POLICY_HEADER, policy), header("content-type", "text/plain; charset=utf-8")],
        body: `weft: access denied (${policy})\n`,
      },
    },
    dynamicMetadata: metadata,
  });
}

/** The answer when no decision could be made (e.g. unknown destination workload): deny, fail closed. */
export function failClosedResponse(reason: string): CheckResponse {
  return decisionToCheckResponse({
    decision: "deny", policy: null, rule: null, action: null, audit: false, auditPolicies: [],
    custom: null, customPolicy: null, reason,
  }, { workloadFrom: "unknown" });
}
