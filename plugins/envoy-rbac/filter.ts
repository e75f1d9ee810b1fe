/**
 * @module plugins/envoy-rbac/filter
 * Envoy's HTTP RBAC filter (`envoy.filters.http.rbac`) as a weft HTTP filter: the config is the Envoy
 * message, compiled once; per request the filter builds the RBAC view of the stream (peer principal,
 * client addresses, the JWT that jwt-authn validated, headers and path), runs shadow then enforcing rules,
 * records the dynamic metadata Envoy would write (for later filters such as an ext_authz gate, under
 * `ENVOY_DYNAMIC_METADATA_KEY`), and denies with 403 `RBAC: access denied` and Envoy's response code
 * details. The destination address and port come from `stream.connection.localAddress`/`localPort` when
 * the host provides them; without them, rules on `destination_ip`/`destination_port` do not match.
 */
import type { FilterContext, FilterStream, FilterVerdict, HttpFilter } from "../../proxy/filter.ts";
import type { AuthzRequest } from "../../core/policy/types.ts";
import { JWT_AUTHN_KEY, RBAC_KEY, setResponseDetails, type JwtAuthnResult, type RbacRecord } from "../common/metadata.ts";
import { normalizeIp } from "../common/request.ts";
import { compileEnvoyRbac } from "./compile.ts";
import type { EnvoyRbacConfig } from "./config.ts";

/** `Record<filterName, Record<key, value>>`: Envoy-style dynamic metadata shared by Envoy-compatible filters. */
export const ENVOY_DYNAMIC_METADATA_KEY = "weft.envoy_dynamic_metadata";

function toRequest(stream: FilterStream): AuthzRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of stream.headers.entries()) headers[k] = v;
  const jwt = stream.metadata.get(JWT_AUTHN_KEY) as JwtAuthnResult | undefined;
  const local = stream.connection;
  const ip = normalizeIp(stream.connection.remoteAddress);
  return {
    destination: {
      namespace: "",
      ...(typeof local.localPort === "number" ? { port: local.localPort } : {}),
      ...(typeof local.localAddress === "string" ? { ip: normalizeIp(local.localAddress) } : {}),
    },
    source: { ...(stream.connection.principal ? { principal: stream.connection.principal } : {}), ip, remoteIp: ip },
    http: { method: stream.method, path: stream.path, host: stream.authority, headers },
    ...(jwt ? { auth: { principal: jwt.principal, audiences: jwt.aud, ...(jwt.azp !== undefined ? { presenter: jwt.azp } : {}), claims: jwt.claims } } : {}),
    ...(stream.connection.sni ? { sni: stream.connection.sni } : {}),
  };
}

export function createEnvoyRbacFilter(cfg: EnvoyRbacConfig, context: FilterContext): HttpFilter {
  if (cfg.kind !== "http") throw new Error("envoy.filters.http.rbac takes the HTTP RBAC config, not the network filter's");
  const rbac = compileEnvoyRbac(cfg);
  for (const p of rbac.problems) context.log(`envoy.filters.http.rbac: ${p} (fails closed)`);
  return {
    name: rbac.filterName,
    onRequest(stream: FilterStream): FilterVerdict {
      const dynamic = (stream.metadata.get(ENVOY_DYNAMIC_METADATA_KEY) as Record<string, Record<string, unknown>> | undefined) ?? {};
      const d = rbac.decide(toRequest(stream), { metadata: dynamic });
      const merged = { ...dynamic };
      for (const [ns, fields] of Object.entries(d.metadata)) merged[ns] = { ...(merged[ns] ?? {}), ...fields };
      stream.metadata.set(ENVOY_DYNAMIC_METADATA_KEY, merged);
      const record: RbacRecord = {
        decision: d.decision, policy: d.policy, rule: null, action: d.action, reason: d.reason,
        accessLogHint: d.action === "LOG" && d.policy !== null, auditPolicies: [], dryRun: [],
      };
      stream.metadata.set(RBAC_KEY, record);
      if (d.decision === "allow") return undefined;
      setResponseDetails(stream, d.details!);
      return { status: 403, body: "RBAC: access denied", headers: { "content-type": "text/plain" }, details: d.details! };
    },
  };
}
