/**
 * @module proxy/cluster/host
 * An upstream host (one endpoint of a cluster) as the load balancers and connection pools see it:
 * address, weight, health, the number of requests in flight (for least-request), and a slot where the
 * runtime host keeps its connection pool. Host objects survive config reloads when unchanged, so their
 * pools and counters carry over.
 */
import type { Endpoint, HealthStatus, Locality } from "../../core/ir/model.ts";

export class UpstreamHost {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly locality: Locality | undefined;
  /** `address:port` (IPv6 in brackets). */
  readonly key: string;
  health: HealthStatus;
  /** Requests in flight; the host increments on dispatch and decrements on completion. */
  activeRequests = 0;
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

  /** Healthy, or not yet known (no health checking configured). */
  get usable(): boolean {
    return this.health === "healthy" || this.health === "unknown";
  }

  sameAs(e: Endpoint): boolean {
    return e.address === this.address && e.port === this.port && (e.weight ?? 1) === this.weight && e.health === this.health;
  }
}
