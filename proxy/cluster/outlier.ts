/**
 * @module proxy/cluster/outlier
 * Passive health (Envoy outlier detection), runtime-neutral: every upstream result is reported per
 * host; `consecutive5xx` failures (5xx responses and local-origin failures: connect errors, resets,
 * timeouts) or `consecutiveGatewayErrors` (502/503/504 and local-origin failures) eject the host for
 * `baseEjectionMs × times ejected` (capped at 300 s, Envoy's max_ejection_time), unless that would
 * eject more than `maxEjectionPercent` of the cluster (one host may always be ejected). `sweep`, run
 * every `intervalMs` by the host, returns ejected hosts whose time is up; a host that stays healthy for
 * an interval has its ejection multiplier decay by one. Time comes from the caller.
 */
import type { OutlierDetection } from "../../core/ir/model.ts";
import type { UpstreamHost } from "./host.ts";

const MAX_EJECTION_MS = 300_000;

export interface OutlierDetector {
  readonly config: OutlierDetection;
  /** Reports a result: an HTTP status, or `"local"` for a local-origin failure. True when the host's ejection state changed. */
  record(host: UpstreamHost, result: number | "local", now: number): boolean;
  /** Un-ejects hosts whose ejection time passed; true when any changed. */
  sweep(now: number): boolean;
}

export function createOutlierDetector(config: OutlierDetection, hosts: () => readonly UpstreamHost[]): OutlierDetector {
  const c5xx = config.consecutive5xx ?? 5;
  const cgw = config.consecutiveGatewayErrors ?? 0;

  const eject = (h: UpstreamHost, now: number): boolean => {
    const all = hosts();
    const ejected = all.filter((x) => x.ejectedUntil > now).length;
    if (ejected > 0 && ((ejected + 1) * 100) / all.length > config.maxEjectionPercent) return false;
    h.ejections++;
    h.ejectedUntil = now + Math.min(MAX_EJECTION_MS, config.baseEjectionMs * h.ejections);
    h.consecutive5xx = 0;
    h.consecutiveGateway = 0;
    return true;
  };

  return {
    config,
    record(h, result, now) {
      if (h.ejectedUntil > now) return false;
      const local = result === "local";
      const is5xx = local || (result as number) >= 500;
      const isGateway = local || result === 502 || result === 503 || result === 504;
      if (!is5xx) {
        h.consecutive5xx = 0;
        h.consecutiveGateway = 0;
        return false;
      }
      h.consecutive5xx++;
      if (isGateway) h.consecutiveGateway++;
      else h.consecutiveGateway = 0;
      if ((c5xx > 0 && h.consecutive5xx >= c5xx) || (cgw > 0 && h.consecutiveGateway >= cgw)) return eject(h, now);
      return false;
    },
    sweep(now) {
      let changed = false;
      for (const h of hosts()) {
        if (h.ejectedUntil === 0) {
          if (h.ejections > 0 && h.lastSweepHealthy) h.ejections--;
          h.lastSweepHealthy = true;
          continue;
        }
        if (h.ejectedUntil <= now) {
          h.ejectedUntil = 0;
          h.lastSweepHealthy = false;
          changed = true;
        }
      }
      return changed;
    },
  };
}
