/**
 * @module proxy/access-log-record
 * The proxy's JSON access-log record, built in one place for every host (Node, Deno, workerd) so the
 * field names and formatting cannot drift apart. Hosts fill the input from their exchange; absent
 * values are left out of the JSON.
 */

export interface AccessLogInput {
  durationMs: number;
  method: string;
  target: string;
  protocol: string;
  status: number;
  flags: string;
  details?: string;
  authority?: string;
  routeName?: string;
  upstreamCluster?: string;
  upstreamHost?: string;
  attempts?: number;
  transportFailure?: string;
  remoteAddress?: string;
  peerUriSan?: string;
  peerSubject?: string;
  sni?: string;
  forwardedFor?: string;
  requestId?: string;
  listener: string;
}

/** One access-log line (Envoy-style field names). */
export interface AccessLogRecord {
  start_time: string;
  method: string;
  path: string;
  protocol: string;
  response_code: number;
  response_flags: string;
  response_code_details: string | undefined;
  duration_ms: number;
  authority: string | undefined;
  route_name: string | undefined;
  upstream_cluster: string | undefined;
  upstream_host: string | undefined;
  upstream_request_attempt_count: number | undefined;
  upstream_transport_failure_reason: string | undefined;
  downstream_remote_address: string | undefined;
  downstream_peer_uri_san: string | undefined;
  downstream_peer_subject: string | undefined;
  requested_server_name: string | undefined;
  x_forwarded_for: string | undefined;
  request_id: string | undefined;
  listener: string;
}

export function accessLogRecord(i: AccessLogInput): AccessLogRecord {
  return {
    start_time: new Date(Date.now() - i.durationMs).toISOString(),
    method: i.method,
    path: i.target,
    protocol: i.protocol,
    response_code: i.status,
    response_flags: i.flags || "-",
    response_code_details: i.details || undefined,
    duration_ms: Math.round(i.durationMs * 1000) / 1000,
    authority: i.authority,
    route_name: i.routeName,
    upstream_cluster: i.upstreamCluster,
    upstream_host: i.upstreamHost,
    upstream_request_attempt_count: i.attempts || undefined,
    upstream_transport_failure_reason: i.transportFailure,
    downstream_remote_address: i.remoteAddress,
    downstream_peer_uri_san: i.peerUriSan,
    downstream_peer_subject: i.peerSubject,
    requested_server_name: i.sni,
    x_forwarded_for: i.forwardedFor,
    request_id: i.requestId,
    listener: i.listener,
  };
}
