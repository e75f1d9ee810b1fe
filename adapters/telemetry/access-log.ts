/**
 * @module adapters/telemetry/access-log
 * Access logs: one line per request, as JSON with the field names of Istio's JSON access log
 * (`logFields` in attributes.ts), or as text in Envoy's default format (or Istio's longer default), with
 * Envoy's response flags (UF, UH, UO, URX, NR, UT, DC, RL, UAEX, FI, DI, ...). A filter expression (the
 * CEL subset of log-filter.ts, e.g. `response.code >= 400 || response.flags != 0`) is compiled once
 * when the logger is created; a bad expression is a `ValidationError` at that point, never at request
 * time. The line goes to an injected `write`, so the host decides where (stdout, a file, a ring buffer).
 */

import { ValidationError, type Diagnostic } from "../../core/schema/index.ts";
import { flagsLabel, joinHostPort, logFields, protocolName, type MeshContext, type RequestRecord } from "./attributes.ts";
import { compileLogFilter, type LogFilter } from "./log-filter.ts";

/** Envoy's response flags with their meaning, as Envoy documents them. */
export const RESPONSE_FLAGS: Readonly<Record<string, string>> = {
  UH: "no healthy upstream hosts",
  UF: "upstream connection failure",
  UO: "upstream overflow (circuit breaking)",
  NR: "no route configured",
  URX: "upstream retry limit (HTTP) or connect attempts (TCP) exceeded",
  NC: "upstream cluster not found",
  DT: "request or connection exceeded max_connection_duration or max_downstream_connection_duration",
  DC: "downstream connection termination",
  LH: "local service failed health check",
  UT: "upstream request timeout",
  LR: "connection local reset",
  UR: "upstream remote reset",
  UC: "upstream connection termination",
  DI: "request delayed by fault injection",
  FI: "request aborted by fault injection",
  RL: "request rate limited locally",
  UAEX: "request denied by the external authorization service",
  RLSE: "request rejected because of an error in the rate limit service",
  IH: "request rejected for an invalid value in a strictly checked header",
  SI: "stream idle timeout",
  DPE: "downstream request had an HTTP protocol error",
  UPE: "upstream response had an HTTP protocol error",
  UMSDR: "upstream request reached max stream duration",
  OM: "overload manager terminated the request",
  DF: "DNS resolution failure",
  DO: "drop overload",
  RBAC: "request denied by RBAC (weft; Envoy reports this as response_code_details rbac_access_denied)",
};

export type AccessLogFormat = "json" | "envoy" | "istio";

export interface AccessLogOptions {
  format?: AccessLogFormat;
  /** CEL subset (log-filter.ts); only requests for which it is true are logged. */
  filter?: string;
  /** Receives each line, without the trailing newline. */
  write(line: string): void;
  /** Where the settings came from, for diagnostics. */
  at?: Partial<Diagnostic>;
}

export interface AccessLogger {
  /** Logs the request if the filter admits it; never throws. */
  log(mesh: MeshContext, req: RequestRecord): void;
  /** True when the filter admits the request (so the host can skip building a record otherwise). */
  wants(mesh: MeshContext, req: RequestRecord): boolean;
}

/** Characters `JSON.stringify` escapes in a string: quote, backslash, controls, lone surrogates. */
const JSON_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonString(v: string | null | undefined): string {
  if (v === undefined || v === null || v === "") return "null";
  return JSON_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
}

function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : "null";
}

/**
 * The JSON line (Istio's JSON access-log field names): the same text as
 * `JSON.stringify(logFields(mesh, req))`, written directly, which costs about half as much (it is on
 * the request path of a proxy with an access log); the unit tests check the two agree on any input.
 */
export function formatJsonLine(mesh: MeshContext, req: RequestRecord): string {
  const path = req.path === undefined ? undefined : req.query ? `${req.path}?${req.query}` : req.path;
  const remote = req.clientAddress === undefined ? undefined : req.clientPort === undefined ? req.clientAddress : joinHostPort(req.clientAddress, req.clientPort);
  return `{"start_time":${req.startTimeMs === undefined ? "null" : `"${new Date(req.startTimeMs).toISOString()}"`}` +
    `,"method":${jsonString(req.method)},"path":${path === undefined ? "null" : JSON_ESCAPE.test(path) ? JSON.stringify(path) : `"${path}"`}` +
    `,"protocol":${jsonString(protocolName(req))},"response_code":${jsonNumber(req.status)}` +
    `,"response_flags":${JSON.stringify(flagsLabel(req.responseFlags))},"response_code_details":${jsonString(req.responseCodeDetails)}` +
    `,"upstream_transport_failure_reason":${jsonString(req.upstreamTransportFailureReason)}` +
    `,"bytes_received":${jsonNumber(req.requestBytes)},"bytes_sent":${jsonNumber(req.responseBytes)},"duration":${jsonNumber(Math.round(req.durationMs))}` +
    `,"upstream_service_time":${req.upstreamServiceTimeMs === undefined ? "null" : jsonNumber(Math.round(req.upstreamServiceTimeMs))}` +
    `,"x_forwarded_for":${jsonString(req.forwardedFor)},"user_agent":${jsonString(req.userAgent)},"request_id":${jsonString(req.requestId)}` +
    `,"authority":${jsonString(req.authority)},"upstream_host":${jsonString(req.upstreamHost)},"upstream_cluster":${jsonString(req.upstreamCluster)}` +
    `,"upstream_local_address":${jsonString(req.upstreamLocalAddress)},"downstream_local_address":${jsonString(req.localAddress)}` +
    `,"downstream_remote_address":${remote === undefined ? "null" : JSON_ESCAPE.test(remote) ? JSON.stringify(remote) : `"${remote}"`}` +
    `,"requested_server_name":${jsonString(req.requestedServerName)},"route_name":${jsonString(req.routeName)}` +
    `,"grpc_status":${req.grpcStatus < 0 ? "null" : jsonNumber(req.grpcStatus)},"source_principal":${jsonString(mesh.source.principal)}` +
    `,"destination_service":${jsonString(mesh.service.host)},"connection_security_policy":${JSON.stringify(mesh.securityPolicy)}}`;
}

function dash(v: string | number | null | undefined): string {
  return v === undefined || v === null || v === "" ? "-" : String(v);
}

function quoted(v: string | null | undefined): string {
  return `"${v === undefined || v === null || v === "" ? "-" : v.replace(/"/g, '\\"')}"`;
}

/**
 * A text line in Envoy's default format:
 * `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 * %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 * "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"`;
 * `istio` adds Istio's default fields (code details, termination details, transport failure reason,
 * upstream cluster, local and remote addresses, SNI, route name).
 */
export function formatTextLine(mesh: MeshContext, req: RequestRecord, variant: "envoy" | "istio" = "envoy"): string {
  const f = logFields(mesh, req);
  const head = `[${dash(f.start_time)}] "${dash(req.method)} ${dash(f.path)} ${dash(protocolName(req))}" ${req.status} ${flagsLabel(req.responseFlags)}`;
  const sizes = `${req.requestBytes} ${req.responseBytes} ${Math.round(req.durationMs)} ${dash(f.upstream_service_time)}`;
  const tail = `${quoted(req.forwardedFor)} ${quoted(req.userAgent)} ${quoted(req.requestId)} ${quoted(req.authority)} ${quoted(req.upstreamHost)}`;
  if (variant === "envoy") return `${head} ${sizes} ${tail}`;
  return `${head} ${dash(req.responseCodeDetails)} - ${quoted(req.upstreamTransportFailureReason)} ${sizes} ${tail} ` +
    `${dash(req.upstreamCluster)} ${dash(req.upstreamLocalAddress)} ${dash(req.localAddress)} ${dash(f.downstream_remote_address)} ` +
    `${dash(req.requestedServerName)} ${dash(req.routeName)}`;
}

/**
 * Creates an access logger; throws `ValidationError` when the filter does not compile.
 * @example
 * const log = createAccessLogger({ format: "json", filter: "response.code >= 500", write: (l) => console.log(l) });
 * log.log(mesh, req);
 */
export function createAccessLogger(options: AccessLogOptions): AccessLogger {
  let filter: LogFilter | undefined;
  if (options.filter !== undefined && options.filter.trim() !== "") {
    const compiled = compileLogFilter(options.filter, options.at);
    if (!compiled.filter) throw new ValidationError(compiled.diagnostics);
    filter = compiled.filter;
  }
  const format = options.format ?? "json";
  const line = format === "json" ? formatJsonLine : (m: MeshContext, r: RequestRecord) => formatTextLine(m, r, format);
  const wants = (mesh: MeshContext, req: RequestRecord): boolean => {
    try {
      return filter === undefined || filter(mesh, req);
    } catch {
      return false;
    }
  };
  return {
    wants,
    log(mesh, req) {
      if (!wants(mesh, req)) return;
      try {
        options.write(line(mesh, req));
      } catch {
        // A broken log sink must not fail the request.
      }
    },
  };
}
