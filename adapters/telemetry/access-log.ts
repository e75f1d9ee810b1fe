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
import { flagsLabel, logFields, protocolName, type MeshContext, type RequestRecord } from "./attributes.ts";
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

/** The JSON line (Istio's JSON access-log field names). */
export function formatJsonLine(mesh: MeshContext, req: RequestRecord): string {
  return JSON.stringify(logFields(mesh, req));
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
