/**
 * @module core/resources/istio/virtual-service-check
 * The VirtualService checks of Istio's `pkg/config/validation` (ValidateVirtualService, validateHTTPRoute
 * and friends) that the schema cannot express: hosts and gateway names, delegate rules, route vs redirect
 * vs directResponse conflicts, weights, match header names and RE2 regexes, retries, redirects,
 * rewrites, fault injection, mirrors, CORS, header operations, TLS SNI hosts and TCP/TLS routes.
 *
 * Left out: the duplicate/overlapping-match analysis (Istio only warns), JWT-claim routing checks on
 * header values, header-value `%VAR%` syntax, authority set twice via rewrite and headers, and the
 * regex program-size limit beyond a length of 1024 (JavaScript's engine stands in for RE2).
 */
import type { Diagnostic } from "../../schema/index.ts";
import { checkExportTo, checkGatewayNames, createReport, headerNameProblem, ipOrCidrProblem, isDns1123Label, isIP, labelsProblems, re2Problem, wildcardDomainProblem, type Path, type Report } from "./rules.ts";
import type { HttpRoute, VirtualService } from "./virtual-service.ts";

const RETRY_ON = new Set(["5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx", "refused-stream",
  "retriable-status-codes", "retriable-headers", "envoy-ratelimited", "http3-post-connect-failure",
  "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"]);
const HTTP_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"]);
const GRPC_STATUS = new Set(["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
  "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]);

type Destination = { host: string; subset?: string | null | undefined };
type StringMatch = { exact?: string | null; prefix?: string | null; regex?: string | null };

/** Whether two host names overlap (Istio's `host.Name.Matches`, wildcards in the first label). */
export function hostsOverlap(a: string, b: string): boolean {
  if (a === b || a === "*" || b === "*") return true;
  const aw = a.startsWith("*");
  const bw = b.startsWith("*");
  if (aw && bw) return a.length > b.length ? a.endsWith(b.slice(1)) : b.endsWith(a.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return false;
}

function checkDestination(r: Report, path: Path, d: Destination | null | undefined): void {
  if (!d) return;
  if (d.host === "*") r.error([...path, "host"], "invalid destination host *");
  else r.problem([...path, "host"], wildcardDomainProblem(d.host));
  if (d.subset !== undefined && d.subset !== null && !isDns1123Label(d.subset)) r.error([...path, "subset"], `subset name is invalid: ${d.subset}`);
}

function checkWeights(r: Report, path: Path, routes: ReadonlyArray<{ destination: Destination; weight?: number | null }>): void {
  routes.forEach((rd, i) => checkDestination(r, [...path, i, "destination"], rd.destination));
  if (routes.length < 2) return;
  const total = routes.reduce((sum, rd) => sum + (rd.weight ?? 0), 0);
  if (total === 0) r.error(path, "total destination weight = 0");
  else if (total !== 100) r.warn(path, `destination weights add up to ${total}, not 100; traffic is split in proportion to the weights`);
}

function checkStringMatchRegex(r: Report, path: Path, m: StringMatch | null | undefined, where: string): void {
  if (!m) return;
  if (m.prefix === "") r.error([...path, "prefix"], `"${where}": prefix string match should not be empty`);
  if (m.regex !== undefined && m.regex !== null) r.problem([...path, "regex"], re2Problem(m.regex, `"${where}"`));
}

function checkHeaderOperations(r: Report, path: Path, ops: { request?: HeaderOps | null; response?: HeaderOps | null } | null | undefined): void {
  if (!ops) return;
  for (const side of ["request", "response"] as const) {
    const o = ops[side];
    if (!o) continue;
    for (const op of ["set", "add"] as const) {
      for (const name of Object.keys(o[op] ?? {})) {
        const lower = name.toLowerCase();
        const authority = side === "request" && (lower === ":authority" || lower === "host");
        if (name === "") r.error([...path, side, op], "header name cannot be empty");
        else if (!authority && (name.startsWith(":") || lower === "host")) r.error([...path, side, op, name], `invalid header "${name}": header cannot have ":" prefix and Host cannot be set here`);
      }
    }
    (o.remove ?? []).forEach((name, i) => {
      if (name === "" || name.startsWith(":") || name.toLowerCase() === "host") r.error([...path, side, "remove", i], `invalid header "${name}" to remove`);
    });
  }
}
type HeaderOps = { set?: Record<string, string> | null; add?: Record<string, string> | null; remove?: string[] | null };

function checkPercentage(r: Report, path: Path, p: { value?: number | null } | null | undefined): void {
  const v = p?.value;
  if (v === undefined || v === null) return;
  if (v < 0 || v > 100 || (v > 0 && v < 0.0001)) r.error([...path, "value"], `percentage ${v} is neither 0.0, nor in range [0.0001, 100.0]`);
}

function checkHttpRoute(r: Report, path: Path, http: HttpRoute, delegate: boolean, toGateway: boolean): void {
  const route = http.route ?? [];
  if (http.delegate && !delegate) {
    if (http.redirect) r.error([...path, "redirect"], `root HTTP route ${http.name ?? ""} must not specify redirect`.replace("  ", " "));
    if (http.route) r.error([...path, "route"], `root HTTP route ${http.name ?? ""} must not specify route`.replace("  ", " "));
  } else {
    if (delegate && http.delegate) r.error([...path, "delegate"], "delegate HTTP route cannot contain delegate");
    if (http.redirect) {
      if (route.length > 0) r.error(path, "HTTP route cannot contain both route and redirect");
      if (http.fault) r.error(path, "HTTP route cannot contain both fault and redirect");
      if (http.rewrite) r.error(path, "HTTP route rule cannot contain both rewrite and redirect");
      if (http.directResponse) r.error(path, "HTTP route cannot contain both redirect and directResponse");
    } else if (http.directResponse) {
      if (route.length > 0) r.error(path, "HTTP route cannot contain both route and directResponse");
      if (http.fault) r.error(path, "HTTP route cannot contain both fault and directResponse");
      if (http.rewrite) r.error(path, "HTTP route rule cannot contain both rewrite and directResponse");
    } else if (route.length === 0) {
      r.error(path, "HTTP route, redirect or directResponse is required");
    }
  }

  (http.match ?? []).forEach((m, i) => {
    const mp = [...path, "match", i];
    for (const field of ["uri", "scheme", "method", "authority"] as const) {
      if (delegate && m[field]?.regex != null) r.error([...mp, field], `${field} match does not support regex match for delegating`);
      checkStringMatchRegex(r, [...mp, field], m[field], field);
    }
    for (const field of ["headers", "withoutHeaders", "queryParams"] as const) {
      for (const [name, sm] of Object.entries(m[field] ?? {})) {
        if (field !== "queryParams") {
          const claim = name.startsWith("@request.auth.claims.") || name.startsWith("@request.auth.claims[");
          if (claim && !toGateway) r.error([...mp, field, name], `JWT claim based routing (key: ${name}) is only supported for gateway`);
          if (!claim) r.problem([...mp, field, name], headerNameProblem(name));
        }
        if (delegate && sm.regex != null) r.error([...mp, field, name], `${field} match ${name} does not support regex match for delegating`);
        checkStringMatchRegex(r, [...mp, field, name], sm, field);
      }
    }
    for (const p of labelsProblems(m.sourceLabels)) r.error([...mp, "sourceLabels"], p);
    checkGatewayNames(r, [...mp, "gateways"], m.gateways);
    if (m.sourceNamespace && !isDns1123Label(m.sourceNamespace)) r.error([...mp, "sourceNamespace"], `sourceNamespace match ${m.sourceNamespace} is invalid`);
  });

  checkHeaderOperations(r, [...path, "headers"], http.headers);
  route.forEach((rd, i) => checkHeaderOperations(r, [...path, "route", i, "headers"], rd.headers));
  checkWeights(r, [...path, "route"], route);

  const cors = http.corsPolicy;
  if (cors) {
    (cors.allowOrigins ?? []).forEach((m, i) => {
      const value = m.exact ?? m.prefix ?? m.regex;
      if (!value) r.error([...path, "corsPolicy", "allowOrigins", i], "empty string is not a valid match for CORS allow origins");
      else if (m.regex != null) r.problem([...path, "corsPolicy", "allowOrigins", i, "regex"], re2Problem(m.regex, "corsPolicy.allowOrigins"));
    });
    (cors.allowMethods ?? []).forEach((m, i) => {
      if (!HTTP_METHODS.has(m)) r.error([...path, "corsPolicy", "allowMethods", i], `"${m}" is not a supported HTTP method`);
    });
    if (cors.allowOrigin) r.warn([...path, "corsPolicy", "allowOrigin"], "allowOrigin is deprecated; use allowOrigins");
  }

  const fault = http.fault;
  if (fault) {
    const fp = [...path, "fault"];
    if (!fault.abort && !fault.delay) r.error(fp, "HTTP fault injection must have an abort and/or a delay");
    if (fault.abort) {
      const a = fault.abort;
      checkPercentage(r, [...fp, "abort", "percentage"], a.percentage);
      if (a.httpStatus != null && (a.httpStatus < 200 || a.httpStatus > 600)) r.error([...fp, "abort", "httpStatus"], `HTTP status ${a.httpStatus} is not in range 200-599`);
      if (a.grpcStatus != null && !GRPC_STATUS.has(a.grpcStatus)) r.error([...fp, "abort", "grpcStatus"], `gRPC status "${a.grpcStatus}" is not supported; use a name such as NOT_FOUND or UNAVAILABLE`);
      if (a.http2Error != null) r.error([...fp, "abort", "http2Error"], "HTTP/2 abort fault injection not supported yet");
      if (a.httpStatus == null && a.grpcStatus == null && a.http2Error == null) r.warn([...fp, "abort"], "abort configured, but error type not set");
    }
    if (fault.delay) {
      checkPercentage(r, [...fp, "delay", "percentage"], fault.delay.percentage);
      if (fault.delay.exponentialDelay != null) r.error([...fp, "delay", "exponentialDelay"], "exponentialDelay not supported yet");
      if (fault.delay.percent != null) {
        if (fault.delay.percent < 0 || fault.delay.percent > 100) r.error([...fp, "delay", "percent"], `percentage ${fault.delay.percent} is not in range 0..100`);
        r.warn([...fp, "delay", "percent"], "percent is deprecated; use percentage");
      }
    }
  }

  const mirrorPercent = http.mirrorPercent ?? http.mirror_percent;
  if (mirrorPercent != null) {
    const key = http.mirrorPercent != null ? "mirrorPercent" : "mirror_percent";
    if (mirrorPercent > 100) r.error([...path, key], `mirrorPercent must have a max value of 100 (it has ${mirrorPercent})`);
    r.warn([...path, key], 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead');
  }
  const mp = http.mirrorPercentage?.value;
  if (mp != null && (mp < 0 || mp > 100)) r.error([...path, "mirrorPercentage", "value"], `mirrorPercentage must be in the range 0..100 (it has ${mp})`);
  checkDestination(r, [...path, "mirror"], http.mirror);
  (http.mirrors ?? []).forEach((m, i) => {
    checkDestination(r, [...path, "mirrors", i, "destination"], m.destination);
    const v = m.percentage?.value;
    if (v != null && (v < 0 || v > 100)) r.error([...path, "mirrors", i, "percentage", "value"], `mirror percentage must be in the range 0..100 (it has ${v})`);
  });

  const redirect = http.redirect;
  if (redirect) {
    const rp = [...path, "redirect"];
    if (!redirect.uri && !redirect.authority && redirect.port == null && !redirect.derivePort && !redirect.scheme) r.error(rp, "redirect must specify URI, authority, scheme, or port");
    if (redirect.redirectCode && (redirect.redirectCode < 300 || redirect.redirectCode > 399)) r.error([...rp, "redirectCode"], `${redirect.redirectCode} is not a valid redirect code, must be 3xx`);
    if (redirect.scheme && redirect.scheme !== "http" && redirect.scheme !== "https") r.error([...rp, "scheme"], 'invalid redirect scheme, must be "http" or "https"');
  }

  const dr = http.directResponse;
  if (dr) {
    if (dr.status < 200 || dr.status > 600) r.error([...path, "directResponse", "status"], `HTTP status ${dr.status} is not in range 200-599`);
    const size = (dr.body?.string ?? dr.body?.bytes ?? "").length;
    if (size > 1024 * 1024) r.error([...path, "directResponse", "body"], "large directResponse bodies may impact control plane performance, must be less than 1MB");
    else if (size > 100 * 1024) r.warn([...path, "directResponse", "body"], "large directResponse bodies may impact control plane performance");
  }

  const rw = http.rewrite;
  if (rw) {
    const rwp = [...path, "rewrite"];
    if (rw.uri && rw.uriRegexRewrite) r.error(rwp, "rewrite may only contain one of uri or uriRegexRewrite");
    if (!rw.uri && !rw.uriRegexRewrite && !rw.authority) r.error(rwp, "rewrite must specify at least one of uri, uriRegexRewrite, or authority");
    const rr = rw.uriRegexRewrite;
    if (rr) {
      if (!rr.match || !rr.rewrite) r.error([...rwp, "uriRegexRewrite"], "uriRegexRewrite requires both rewrite and match fields to be specified");
      else r.problem([...rwp, "uriRegexRewrite", "match"], re2Problem(rr.match, "uriRegexRewrite.match"));
    }
  }

  const retries = http.retries;
  if (retries) {
    if ((retries.attempts ?? 0) === 0 && (retries.perTryTimeout != null || retries.retryOn || retries.retryRemoteLocalities != null)) {
      r.error([...path, "retries"], "http retry policy configured when attempts are set to 0 (disabled)");
    }
    for (const policy of (retries.retryOn ?? "").split(",").filter((p) => p !== "")) {
      const code = Number(policy);
      if (!RETRY_ON.has(policy) && !(Number.isInteger(code) && code >= 100 && code <= 599)) r.error([...path, "retries", "retryOn"], `"${policy}" is not a valid retryOn policy`);
    }
  }
}

/** Semantic checks for a VirtualService (see the module comment for what is covered). */
export function checkVirtualService(vs: VirtualService): Diagnostic[] {
  const r = createReport();
  const spec = vs.spec;
  const hosts = spec.hosts ?? [];
  const gateways = spec.gateways ?? [];
  const delegate = hosts.length === 0;
  if (delegate) {
    if (gateways.length > 0) r.error(["spec", "gateways"], "delegate virtual service must have no gateways specified");
    if ((spec.tls ?? []).length > 0) r.error(["spec", "tls"], "delegate virtual service must have no tls route specified");
    if ((spec.tcp ?? []).length > 0) r.error(["spec", "tcp"], "delegate virtual service must have no tcp route specified");
  }
  checkGatewayNames(r, ["spec", "gateways"], gateways);
  const toGateway = gateways.length > 0 && !gateways.includes("mesh");
  const toMesh = !toGateway;

  let hostsValid = true;
  hosts.forEach((h, i) => {
    const problem = wildcardDomainProblem(h);
    if (problem && !isIP(h)) {
      r.error(["spec", "hosts", i], problem);
      hostsValid = false;
    } else if (toMesh && h === "*") {
      r.error(["spec", "hosts", i], "wildcard host * is not allowed for virtual services bound to the mesh gateway");
      hostsValid = false;
    }
  });
  if (hostsValid) {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        if (hostsOverlap(hosts[i]!, hosts[j]!)) r.error(["spec", "hosts", j], `duplicate hosts in virtual service: ${hosts[i]} & ${hosts[j]}`);
      }
    }
  }

  const http = spec.http ?? [];
  if (http.length === 0 && (spec.tcp ?? []).length === 0 && (spec.tls ?? []).length === 0) r.error(["spec"], "http, tcp or tls must be provided in virtual service");
  http.forEach((route, i) => {
    checkHttpRoute(r, ["spec", "http", i], route, delegate, toGateway);
    if ((route.match ?? []).length === 0 && i < http.length - 1) {
      r.warn(["spec", "http", i], `virtualService rule #${i} has no match, so the rules after it are never used (only the last rule can have no matches)`);
    }
  });

  (spec.tls ?? []).forEach((tls, i) => {
    const p = ["spec", "tls", i];
    if (tls.match.length === 0) r.error([...p, "match"], "TLS route must have at least one match condition");
    tls.match.forEach((m, j) => {
      if (m.sniHosts.length === 0) r.error([...p, "match", j, "sniHosts"], "TLS match must have at least one SNI host");
      m.sniHosts.forEach((sni, k) => {
        const sp = [...p, "match", j, "sniHosts", k];
        const problem = wildcardDomainProblem(sni);
        if (problem) {
          if (isIP(sni)) r.warn(sp, `using an IP address ("${sni}") goes against SNI spec and most clients do not support this`);
          else r.error(sp, problem);
        } else if (!hosts.some((h) => h === "*" || sni === h || (h.startsWith("*") && sni.endsWith(h.slice(1))))) {
          r.error(sp, `SNI host "${sni}" is not a compatible subset of any of the virtual service hosts: [${hosts.join(", ")}]`);
        }
      });
      (m.destinationSubnets ?? []).forEach((s, k) => r.problem([...p, "match", j, "destinationSubnets", k], ipOrCidrProblem(s)));
      checkGatewayNames(r, [...p, "match", j, "gateways"], m.gateways);
    });
    if ((tls.route ?? []).length === 0) r.error([...p, "route"], "TLS route is required");
    checkWeights(r, [...p, "route"], tls.route ?? []);
  });

  (spec.tcp ?? []).forEach((tcp, i) => {
    const p = ["spec", "tcp", i];
    (tcp.match ?? []).forEach((m, j) => {
      (m.destinationSubnets ?? []).forEach((s, k) => r.problem([...p, "match", j, "destinationSubnets", k], ipOrCidrProblem(s)));
      checkGatewayNames(r, [...p, "match", j, "gateways"], m.gateways);
    });
    if ((tcp.route ?? []).length === 0) r.error([...p, "route"], "TCP route is required");
    checkWeights(r, [...p, "route"], tcp.route ?? []);
  });

  checkExportTo(r, ["spec", "exportTo"], vs.metadata.namespace ?? undefined, spec.exportTo);
  return r.diagnostics;
}
