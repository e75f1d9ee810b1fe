/**
 * @module adapters/telemetry/metrics
 * Istio's standard metrics, with Istio's names, labels and label order, so that Istio's dashboards,
 * Kiali and any PromQL written for Istio read weft: `istio_requests_total`,
 * `istio_request_duration_milliseconds`, `istio_request_bytes`, `istio_response_bytes` (histograms with
 * Envoy's default buckets, which Istio's stats filter uses), and the four `istio_tcp_*` counters.
 * `peer(mesh)` turns a `MeshContext` into a `PeerMetrics` once (the label prefix is built there); the
 * proxy keeps it on its connection or cluster, and each request then costs one integer-keyed Map lookup
 * (status, gRPC status and protocol packed in one number), one more only when response flags are set,
 * and four field updates. See registry.ts for why this is not the OpenTelemetry metrics SDK.
 */

import {
  flagsLabel, ISTIO_EXTENDED_LABELS, ISTIO_PEER_LABELS, istioPeerLabels, type MeshContext, type RequestRecord,
} from "./attributes.ts";
import { createMetricsRegistry, escapeLabelValue, labelString, type Counter, type Family, type Histogram, type MetricsRegistry } from "./registry.ts";

/**
 * Envoy's default histogram buckets (`HistogramSettingsImpl::defaultBuckets`), which Istio's stats
 * filter uses for all three of its histograms unless `sidecar.istio.io/statsHistogramBuckets` says otherwise.
 */
export const ISTIO_DEFAULT_BUCKETS: readonly number[] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

export const ISTIO_METRIC_NAMES = {
  requests: "istio_requests_total",
  duration: "istio_request_duration_milliseconds",
  requestBytes: "istio_request_bytes",
  responseBytes: "istio_response_bytes",
  tcpSent: "istio_tcp_sent_bytes_total",
  tcpReceived: "istio_tcp_received_bytes_total",
  tcpOpened: "istio_tcp_connections_opened_total",
  tcpClosed: "istio_tcp_connections_closed_total",
} as const;

export interface IstioMetricsOptions {
  /** Registry to add the families to (default: a new one). */
  registry?: MetricsRegistry;
  /** Also emit `source/destination_canonical_revision` and `source/destination_cluster`, as Istio does. */
  extendedLabels?: boolean;
  durationBuckets?: readonly number[];
  bytesBuckets?: readonly number[];
}

/** The four series one HTTP request updates. */
interface RequestSeries {
  requests: Counter;
  duration: Histogram;
  requestBytes: Histogram;
  responseBytes: Histogram;
}

interface TcpSeries {
  sent?: Counter;
  received?: Counter;
  opened?: Counter;
  closed?: Counter;
}

const TCP_FAMILY = { sent: "tcpSent", received: "tcpReceived", opened: "tcpOpened", closed: "tcpClosed" } as const;

interface Slot {
  plain: RequestSeries | undefined;
  flagged: Map<string, RequestSeries> | undefined;
}

/** Metrics for one (mesh context) peer. Keep it per connection or per cluster; do not rebuild per request. */
export interface PeerMetrics {
  readonly labels: string;
  /** Records one finished HTTP or gRPC request (`req.protocol` `http` or `grpc`). */
  recordRequest(req: RequestRecord): void;
  /** The same without a record object. `grpcStatus` -1 for none; `flags` `""` for none. */
  record(grpc: boolean, status: number, grpcStatus: number, flags: string, durationMs: number, requestBytes: number, responseBytes: number): void;
  /** A TCP connection opened. */
  tcpOpened(flags?: string): void;
  /** Bytes sent to / received from the downstream since the last call (report as they flow or at close). */
  tcpBytes(sent: number, received: number, flags?: string): void;
  /** A TCP connection closed, with its response flags (`""` for none). */
  tcpClosed(flags?: string): void;
}

export interface IstioMetrics {
  readonly registry: MetricsRegistry;
  /** The interned metrics for `mesh` (same object for equal label values). */
  peer(mesh: MeshContext): PeerMetrics;
  /** `registry.render()`. */
  render(): string;
}

/**
 * Creates Istio's standard metric families in a registry.
 * @example
 * const metrics = createIstioMetrics();
 * const inbound = metrics.peer({ reporter: "destination", source: { principal }, destination: self, service, securityPolicy: "mutual_tls" });
 * inbound.record(false, 200, -1, "", 3.2, 0, 512);
 * metrics.render(); // istio_requests_total{reporter="destination",...,response_code="200",...} 1
 */
export function createIstioMetrics(options: IstioMetricsOptions = {}): IstioMetrics {
  const registry = options.registry ?? createMetricsRegistry();
  const extended = options.extendedLabels ?? false;
  const peerNames: string[] = extended ? extendedOrder() : [...ISTIO_PEER_LABELS];
  const durationBuckets = options.durationBuckets ?? ISTIO_DEFAULT_BUCKETS;
  const bytesBuckets = options.bytesBuckets ?? ISTIO_DEFAULT_BUCKETS;
  const f = {
    requests: registry.counter(ISTIO_METRIC_NAMES.requests, "Requests handled, by source, destination and response (Istio standard metric)."),
    duration: registry.histogram(ISTIO_METRIC_NAMES.duration, "Request duration in milliseconds (Istio standard metric).", durationBuckets),
    requestBytes: registry.histogram(ISTIO_METRIC_NAMES.requestBytes, "HTTP request body size in bytes (Istio standard metric).", bytesBuckets),
    responseBytes: registry.histogram(ISTIO_METRIC_NAMES.responseBytes, "HTTP response body size in bytes (Istio standard metric).", bytesBuckets),
    tcpSent: registry.counter(ISTIO_METRIC_NAMES.tcpSent, "Bytes sent to the downstream on TCP connections (Istio standard metric)."),
    tcpReceived: registry.counter(ISTIO_METRIC_NAMES.tcpReceived, "Bytes received from the downstream on TCP connections (Istio standard metric)."),
    tcpOpened: registry.counter(ISTIO_METRIC_NAMES.tcpOpened, "TCP connections opened (Istio standard metric)."),
    tcpClosed: registry.counter(ISTIO_METRIC_NAMES.tcpClosed, "TCP connections closed (Istio standard metric)."),
  };
  const peers = new Map<string, PeerMetrics>();

  return {
    registry,
    render: () => registry.render(),
    peer(mesh) {
      const values = istioPeerLabels(mesh, extended);
      const prefix = labelString(peerNames, peerNames.map((n) => values[n]!));
      const key = `${prefix},${mesh.securityPolicy}`;
      let p = peers.get(key);
      if (p === undefined) peers.set(key, (p = createPeerMetrics(f, prefix, mesh.securityPolicy)));
      return p;
    },
  };
}

/** Istio's own order when the four extra labels are on. */
function extendedOrder(): string[] {
  const names: string[] = [...ISTIO_PEER_LABELS];
  names.splice(names.indexOf("source_workload_namespace"), 0, ISTIO_EXTENDED_LABELS[0]);
  names.splice(names.indexOf("destination_workload"), 0, ISTIO_EXTENDED_LABELS[1]);
  names.splice(names.indexOf("destination_service_name"), 0, ISTIO_EXTENDED_LABELS[2]);
  names.push(ISTIO_EXTENDED_LABELS[3]);
  return names;
}

interface Families {
  requests: Family<Counter>;
  duration: Family<Histogram>;
  requestBytes: Family<Histogram>;
  responseBytes: Family<Histogram>;
  tcpSent: Family<Counter>;
  tcpReceived: Family<Counter>;
  tcpOpened: Family<Counter>;
  tcpClosed: Family<Counter>;
}

function count(s: RequestSeries, durationMs: number, requestBytes: number, responseBytes: number): void {
  s.requests.value++;
  s.duration.observe(durationMs);
  s.requestBytes.observe(requestBytes);
  s.responseBytes.observe(responseBytes);
}

function createPeerMetrics(f: Families, prefix: string, policy: string): PeerMetrics {
  const slots = new Map<number, Slot>();
  const tcp = new Map<string, TcpSeries>();
  const odd = new Map<string, RequestSeries>();
  const policyLabel = `,connection_security_policy="${escapeLabelValue(policy)}"`;

  function requestSeries(grpc: boolean, status: number, grpcStatus: number, flags: string): RequestSeries {
    const labels = `${prefix},request_protocol="${grpc ? "grpc" : "http"}",response_code="${status}",` +
      `grpc_response_status="${grpcStatus < 0 ? "" : grpcStatus}",response_flags="${escapeLabelValue(flagsLabel(flags))}"${policyLabel}`;
    return {
      requests: f.requests.child(labels),
      duration: f.duration.child(labels),
      requestBytes: f.requestBytes.child(labels),
      responseBytes: f.responseBytes.child(labels),
    };
  }

  function tcpLabels(flags: string): string {
    return `${prefix},request_protocol="tcp",response_flags="${escapeLabelValue(flagsLabel(flags))}"${policyLabel}`;
  }

  /** One counter per (family, flags), created on first use so unused combinations are not exported as zeros. */
  function tcpCounter(which: keyof TcpSeries, flags: string): Counter {
    let s = tcp.get(flags);
    if (s === undefined) tcp.set(flags, (s = {}));
    return (s[which] ??= f[TCP_FAMILY[which]].child(tcpLabels(flags)));
  }

  const self: PeerMetrics = {
    labels: prefix,
    record(grpc, status, grpcStatus, flags, durationMs, requestBytes, responseBytes) {
      let s: RequestSeries | undefined;
      if (!((status | 0) === status && status >= 0 && status < 1000 && (grpcStatus | 0) === grpcStatus && grpcStatus >= -1 && grpcStatus <= 16)) {
        // Outside the packed key's range (not seen from real HTTP peers): a string key, off the fast path.
        const k = `${grpc}|${status}|${grpcStatus}|${flags}`;
        s = odd.get(k);
        if (s === undefined) odd.set(k, (s = requestSeries(grpc, status, grpcStatus, flags)));
        count(s, durationMs, requestBytes, responseBytes);
        return;
      }
      // status < 1000 and grpcStatus in -1..16, so the key is unique and stays a small integer.
      const key = ((status * 18 + grpcStatus + 1) << 1) | (grpc ? 1 : 0);
      let slot = slots.get(key);
      if (slot === undefined) slots.set(key, (slot = { plain: undefined, flagged: undefined }));
      if (flags === "") {
        s = slot.plain ??= requestSeries(grpc, status, grpcStatus, flags);
      } else {
        const m = slot.flagged ??= new Map();
        s = m.get(flags);
        if (s === undefined) m.set(flags, (s = requestSeries(grpc, status, grpcStatus, flags)));
      }
      count(s, durationMs, requestBytes, responseBytes);
    },
    recordRequest(req) {
      self.record(req.protocol === "grpc", req.status, req.grpcStatus, req.responseFlags, req.durationMs, req.requestBytes, req.responseBytes);
    },
    tcpOpened(flags = "") {
      tcpCounter("opened", flags).value++;
    },
    tcpBytes(sent, received, flags = "") {
      tcpCounter("sent", flags).value += sent;
      tcpCounter("received", flags).value += received;
    },
    tcpClosed(flags = "") {
      tcpCounter("closed", flags).value++;
    },
  };
  return self;
}
