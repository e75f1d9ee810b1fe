/**
 * @module proxy/cluster/host
 * An upstream host (one endpoint of a cluster) as the load balancers and connection pools see it:
 * address, weight, health (as configured, from active checks, and outlier ejection), the number of
 * requests in flight (for least-request), and a slot where the runtime host keeps its connection pool.
 * Host objects survive config reloads when unchanged, so their pools, counters and health carry over.
 */
import type { Endpoint, HealthStatus, Locality } from "../../core/ir/model.ts";

export class UpstreamHost {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly locality: Locality | undefined;
  /** `address:port` (IPv6 in brackets). */
  readonly key: string;
  /** Health as the endpoint config (or EDS) states it. */
  readonly health: HealthStatus;
  /** Requests in flight; the host increments on dispatch and decrements on completion. */
  activeRequests = 0;
  // Active health checking (proxy/cluster/health.ts).
  hcChecked = false;
  hcFailed = false;
  hcFailures = 0;
  hcSuccesses = 0;
  // Outlier detection (proxy/cluster/outlier.ts); `ejectedUntil` 0 = not ejected.
  ejectedUntil = 0;
  ejections = 0;
  consecutive5xx = 0;
  consecutiveGateway = 0;
  lastSweepHealthy = true;
  /** Owned by the runtime host (its connection pool); the engine never touches it. */
  pool: unknown = undefined;

  constructor(e: Endpoint) {
    this.address = e.address;
    this.port = e.port;
    this.weight = e.weight ?? 1;
    this.locality = e.locality;
    this.health = e.health;
    this.key = e.address.includes(":") ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
  }

  /** Configured healthy (or unknown), not failed by active checks, not ejected. */
  get usable(): boolean {
    return (this.health === "healthy" || this.health === "unknown") && !this.hcFailed && this.ejectedUntil === 0;
  }

  /** Envoy's health flags for `/clusters`. */
  get healthFlags(): string {
    const f: string[] = [];
    if (this.health === "unhealthy") f.push("/failed_eds_health");
    if (this.health === "draining") f.push("/pending_dynamic_removal");
    if (this.hcFailed) f.push("/failed_active_hc");
    if (this.ejectedUntil !== 0) f.push("/failed_outlier_check");
    return f.length === 0 ? "healthy" : f.join("");
  }

  sameAs(e: Endpoint): boolean {
    return e.address === this.address && e.port === this.port && (e.weight ?? 1) === this.weight && e.health === this.health;
  }
}
