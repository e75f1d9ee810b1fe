/**
 * @module core/policy/types
 * The policy engine's contract: the attributes of one request (the same shape as `REQUEST.json` of
 * `weft authz check`), the engine's options, and the explained decision it returns.
 */
import type { AuthzAction } from "../ir/model.ts";

/** The attributes of one request or connection, as the proxy or a CheckRequest sees them. */
export interface AuthzRequest {
  destination: {
    namespace: string;
    labels?: Record<string, string>;
    port?: number;
    ip?: string;
    /** Consul destination service name (used by Consul intentions). */
    service?: string;
  };
  source?: {
    /** Peer identity from mTLS (URI SAN), e.g. `spiffe://cluster.local/ns/sleep/sa/sleep`. Absent = plaintext. */
    principal?: string;
    /** Direct downstream address. */
    ip?: string;
    /** Original client address (X-Forwarded-For / proxy protocol); defaults to `ip`. */
    remoteIp?: string;
  };
  /** Absent = TCP traffic. */
  http?: {
    method: string;
    /** Request target as received: path plus optional query and fragment. */
    path: string;
    host?: string;
    /** Header names are matched case-insensitively. Multi-valued headers are joined with `,`. */
    headers?: Record<string, string | string[]>;
  };
  /** A validated JWT. Absent = no token. */
  auth?: {
    /** `iss/sub`. */
    principal?: string;
    audiences?: string[];
    presenter?: string;
    claims?: Record<string, unknown>;
  };
  sni?: string;
}

/** Istio's `meshConfig.pathNormalization.normalization` options. */
export type PathNormalization =
  | "NONE"
  | "BASE"
  | "MERGE_SLASHES"
  | "DECODE_AND_MERGE_SLASHES";

export interface EngineOptions {
  /** Policies in this namespace apply to every workload (default `istio-system`). */
  rootNamespace?: string;
  /** The mesh trust domain (default `cluster.local`). */
  trustDomain?: string;
  /** MeshConfig `trustDomainAliases`. */
  trustDomainAliases?: string[];
  /** Default `BASE` (Istio's default): RFC 3986 normalization, dot segments resolved, `%2F`/`%5C` kept encoded. */
  pathNormalization?: PathNormalization;
  /** Bucket rules by principal and path segment (default true). `false` scans every rule: for tests and debugging. */
  ruleIndex?: boolean;
}

/** What the engine decided, and why. */
export interface Decision {
  decision: "allow" | "deny";
  /** `namespace/name` of the policy that decided, or null (no policy applied, or default deny with no ALLOW match). */
  policy: string | null;
  /** Index of the matching rule in that policy, when a rule decided. */
  rule: number | null;
  /** The action of the deciding policy, or null. */
  action: AuthzAction | null;
  /** True when an AUDIT policy matched. */
  audit: boolean;
  /** `namespace/name` of the matching AUDIT policies. */
  auditPolicies: string[];
  /** The CUSTOM provider that must be asked (first matching CUSTOM policy), or null. */
  custom: string | null;
  /** The CUSTOM policy that matched, or null. */
  customPolicy: string | null;
  /** Dry-run policies that would have decided differently. */
  dryRun?: { policy: string; action: AuthzAction; matched: boolean }[];
  /** A sentence explaining the decision. */
  reason: string;
  /** The normalized path the rules were matched against (HTTP only). */
  normalizedPath?: string;
  /** What the ordered policy layer (Consul intentions) decided, when one applied to the request. */
  ordered?: { policy: string; rule: number | null; permission: number | null; byDefault: boolean; decision: "allow" | "deny" };
}

export interface CheckOptions {
  /** What the CUSTOM provider answered; default: allow. */
  customDecision?: "allow" | "deny";
}

/** A compiled policy set. Thread-safe and immutable: compile once, call `check` per request. */
export interface Authorizer {
  check(request: AuthzRequest, options?: CheckOptions): Decision;
  /** Number of compiled policies. */
  readonly size: number;
}
