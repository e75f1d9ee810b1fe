/**
 * @module proxy/cluster/retry
 * Envoy's retry decisions for one request, runtime-neutral: which outcomes a route's `retryOn`
 * conditions retry (HTTP statuses, connect failures, resets, refused streams, per-try timeouts, gRPC
 * statuses of trailers-only responses), the fully jittered exponential backoff, and whether the
 * cluster's retry budget (or its `maxRetries` circuit breaker) lets one more retry start.
 */
import type { RetryPolicy } from "../../core/ir/model.ts";

/** How one try ended: a response head, or a failure with its response flag. */
export type TryOutcome =
  | { kind: "response"; status: number; grpcStatus?: number }
  | { kind: "error"; flag: "UF" | "UC" | "UT"; refusedStream?: boolean };

const GRPC: Record<string, number> = { cancelled: 1, "deadline-exceeded": 4, "resource-exhausted": 8, internal: 13, unavailable: 14 };

/** True when `policy` retries this outcome (attempt limits and budgets aside). */
export function isRetriable(policy: RetryPolicy, o: TryOutcome): boolean {
  for (const on of policy.retryOn) {
    switch (on) {
      case "5xx":
        if (o.kind === "error" || o.status >= 500) return true;
        break;
      case "gateway-error":
        if (o.kind === "error" || o.status === 502 || o.status === 503 || o.status === 504) return true;
        break;
      case "reset":
        // Envoy: the upstream did not respond at all (disconnect, reset, read timeout).
        if (o.kind === "error") return true;
        break;
      case "connect-failure":
        if (o.kind === "error" && o.flag === "UF") return true;
        break;
      case "refused-stream":
        if (o.kind === "error" && o.refusedStream === true) return true;
        break;
      case "retriable-4xx":
        if (o.kind === "response" && o.status === 409) return true;
        break;
      case "retriable-status-codes":
        if (o.kind === "response" && (policy.retriableStatusCodes ?? []).includes(o.status)) return true;
        break;
      default: {
        const code = GRPC[on];
        if (code !== undefined && o.kind === "response" && o.grpcStatus === code) return true;
      }
    }
  }
  return false;
}

/** Delay before retry `n` (1-based): uniform in [0, min(max, base × (2^n − 1))), as Envoy draws it. */
export function backoffMs(policy: RetryPolicy, n: number, random: () => number): number {
  const base = policy.backoff?.baseMs ?? 25;
  const max = policy.backoff?.maxMs ?? base * 10;
  const ceiling = Math.min(max, base * (2 ** n - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Whether one more retry may start now. With a budget, active retries may be at most `percent` of the
 * cluster's active requests (never fewer than `minConcurrency`); without one, the `maxRetries` breaker.
 */
export function retryAllowed(policy: RetryPolicy, activeRetries: number, activeRequests: number, maxRetries: number): boolean {
  if (policy.budget) {
    const allowed = Math.max(policy.budget.minConcurrency, (policy.budget.percent / 100) * activeRequests);
    return activeRetries < allowed;
  }
  return activeRetries < maxRetries;
}

/** Parses a `grpc-timeout` header (`1S`, `250m`, `100u`, ... at most 8 digits) into milliseconds. */
export function parseGrpcTimeout(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  switch (m[2]) {
    case "H": return n * 3_600_000;
    case "M": return n * 60_000;
    case "S": return n * 1000;
    case "m": return n;
    case "u": return n / 1000;
    default: return n / 1e6;
  }
}
