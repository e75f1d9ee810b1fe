/**
 * @module plugins/common/metadata
 * The keys and shapes under which filters share per-request facts in `FilterStream.metadata`: the
 * validated JWT (written by jwt-authn, read by rbac and access logs), the RBAC decision, the effective
 * user of an impersonated request, and Envoy-style response code details for a local reply (the
 * contract's `LocalReply` carries only a response flag, so the details travel here).
 */
import type { FilterStream } from "../../proxy/filter.ts";

/** `JwtAuthnResult`: the token that authenticated the request. Absent = no token (unauthenticated). */
export const JWT_AUTHN_KEY = "weft.jwt_authn";
/** `RbacRecord`: what the rbac filter decided and why. */
export const RBAC_KEY = "weft.rbac";
/** `ImpersonationResult`: the effective user of the request (Grey Matter NPE rules). */
export const IMPERSONATION_KEY = "weft.impersonation";
/** A string like Envoy's `%RESPONSE_CODE_DETAILS%` for a local reply, e.g. `rbac_access_denied_matched_policy[none]`. */
export const RESPONSE_CODE_DETAILS_KEY = "weft.response_code_details";

export interface JwtAuthnResult {
  iss: string;
  sub: string | undefined;
  aud: string[];
  azp: string | undefined;
  /** `iss/sub`, Istio's `request.auth.principal`. */
  principal: string;
  /** The payload, with space-delimited claims (`scope`, `permission`, ...) turned into lists. */
  claims: Record<string, unknown>;
  /** The index of the rule (provider) that verified the token. */
  rule: number;
}

export interface RbacRecord {
  decision: "allow" | "deny";
  /** `namespace/name` of the deciding policy, or null. */
  policy: string | null;
  rule: number | null;
  action: string | null;
  reason: string;
  /** True when an AUDIT policy matched (Envoy's `access_log_hint`). */
  accessLogHint: boolean;
  auditPolicies: string[];
  /** Dry-run policies and whether they matched (Envoy's shadow engine). */
  dryRun: { policy: string; action: string; matched: boolean }[];
  /** The CUSTOM provider asked, and what it answered. */
  custom?: { provider: string; policy: string | null; result: "allow" | "deny" | "error"; error?: string };
}

export interface ImpersonationResult {
  /** The user the request acts for: `USER_DN`, or the peer's own identity. */
  user: string;
  /** The mTLS peer's DN (or SPIFFE ID when no DN is available). */
  peer: string;
  /** `EXTERNAL_SYS_DN`, when sent. */
  externalSystem?: string;
  /** True when the request acts for someone other than the peer. */
  impersonated: boolean;
}

/** Records response code details for the access log. */
export function setResponseDetails(stream: FilterStream, details: string): void {
  stream.metadata.set(RESPONSE_CODE_DETAILS_KEY, details);
}
