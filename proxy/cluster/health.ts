/**
 * @module proxy/cluster/health
 * Active health checking's state machine, runtime-neutral: a host goes unhealthy after
 * `unhealthyThreshold` failed checks in a row and healthy again after `healthyThreshold` passed ones.
 * A host's first check decides at once (Envoy: a new host is not kept waiting for a threshold). The
 * probes themselves (HTTP, TCP, gRPC health) run in the host (`proxy/node/health-checker.ts`).
 */
import type { HealthCheck } from "../../core/ir/model.ts";
import type { UpstreamHost } from "./host.ts";

/** Applies one probe result; true when the host's active-health verdict changed. */
export function recordHealthCheck(h: UpstreamHost, check: HealthCheck, passed: boolean): boolean {
  const first = h.hcChecked === false;
  h.hcChecked = true;
  if (passed) {
    h.hcFailures = 0;
    h.hcSuccesses++;
    if (h.hcFailed && (first || h.hcSuccesses >= check.healthyThreshold)) {
      h.hcFailed = false;
      return true;
    }
    return false;
  }
  h.hcSuccesses = 0;
  h.hcFailures++;
  if (!h.hcFailed && (first || h.hcFailures >= check.unhealthyThreshold)) {
    h.hcFailed = true;
    return true;
  }
  return false;
}

/** Whether a status passes an HTTP check: `expectedStatuses`, else 200–299 (Envoy's default is [200, 201)). */
export function statusPasses(check: HealthCheck, status: number): boolean {
  return check.expectedStatuses ? check.expectedStatuses.includes(status) : status >= 200 && status < 300;
}
