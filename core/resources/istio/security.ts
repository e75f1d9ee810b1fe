/**
 * @module core/resources/istio/security
 * Istio's PeerAuthentication and RequestAuthentication (security.istio.io v1 and v1beta1), schemas as
 * in `security/v1beta1/peer_authentication.proto`, `request_authentication.proto` and `jwt.proto`,
 * with the checks of Istio's ValidatePeerAuthentication (portLevelMtls needs a selector with labels,
 * ports 1..65535, not empty when present) and ValidateRequestAuthentication (one of selector/targetRef/
 * targetRefs, issuer set, jwksUri an http(s) URL, jwks a JSON Web Key Set, only one of jwks and jwksUri,
 * non-empty token locations, valid output header names, timeout at least 1ms).
 * AuthorizationPolicy lives in `core/policy/`.
 *
 * Left out: parsing each key of an inline `jwks` (only the JSON shape `{"keys": [...]}` is checked), and
 * the SSRF-style checks Istio applies when it fetches jwksUri.
 */
import { z, type Diagnostic } from "../../schema/index.ts";
import { strict } from "../fields.ts";
import { defineKind } from "../kind.ts";
import { enumOf, o, policyTargetReference, resourceOptionalSpec, stringList, workloadSelector } from "./common.ts";
import { duration } from "./duration.ts";
import { checkPolicyTargets, checkSelectorLabels, createReport, headerNameProblem } from "./rules.ts";

const mtls = strict({ mode: o(enumOf(["UNSET", "DISABLE", "PERMISSIVE", "STRICT"])) });

export const peerAuthenticationSpec = strict({
  selector: o(workloadSelector),
  mtls: o(mtls),
  portLevelMtls: o(z.record(z.string(), mtls)),
});

export const peerAuthenticationSchema = resourceOptionalSpec(peerAuthenticationSpec);
export type PeerAuthentication = z.infer<typeof peerAuthenticationSchema>;

export function checkPeerAuthentication(pa: PeerAuthentication): Diagnostic[] {
  const r = createReport();
  const spec = pa.spec;
  if (!spec) return [];
  const labels = spec.selector?.matchLabels ?? {};
  const ports = spec.portLevelMtls;
  if (ports) {
    if (Object.keys(labels).length === 0 && Object.keys(ports).length > 0) r.error(["spec", "portLevelMtls"], "portLevelMtls requires a selector with matchLabels: mesh/namespace peer authentication cannot have port level mTLS");
    if (Object.keys(ports).length === 0) r.error(["spec", "portLevelMtls"], "port level mTLS, if defined, must have at least one element");
    for (const key of Object.keys(ports)) {
      const n = Number(key);
      if (!/^[0-9]+$/.test(key) || n < 1 || n > 65535) r.error(["spec", "portLevelMtls", key], `port "${key}" must be in range 1..65535`);
    }
  }
  if (spec.selector) checkSelectorLabels(r, ["spec", "selector", "matchLabels"], spec.selector.matchLabels);
  return r.diagnostics;
}

const jwtRule = strict({
  issuer: o(z.string()),
  audiences: o(stringList),
  jwksUri: o(z.string()),
  // The proto gives this field json_name "jwks_uri"; Istio's CRD accepts both spellings.
  jwks_uri: o(z.string()),
  jwks: o(z.string()),
  fromHeaders: o(z.array(strict({ name: z.string(), prefix: o(z.string()) }))),
  fromParams: o(stringList),
  fromCookies: o(stringList),
  outputPayloadToHeader: o(z.string()),
  forwardOriginalToken: o(z.boolean()),
  outputClaimToHeaders: o(z.array(strict({ header: z.string(), claim: z.string() }))),
  spaceDelimitedClaims: o(stringList),
  timeout: o(duration()),
});

export const requestAuthenticationSpec = strict({
  selector: o(workloadSelector),
  targetRef: o(policyTargetReference),
  targetRefs: o(z.array(policyTargetReference)),
  jwtRules: o(z.array(jwtRule)),
});

export const requestAuthenticationSchema = resourceOptionalSpec(requestAuthenticationSpec);
export type RequestAuthentication = z.infer<typeof requestAuthenticationSchema>;

function jwksUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `jwksUri "${uri}" is not a valid URL`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `jwksUri "${uri}" must have scheme http:// or https://`;
  if (url.hostname === "") return `jwksUri "${uri}" has no host`;
  return undefined;
}

function jwksProblem(jwks: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jwks);
  } catch (e) {
    return `jwks parse error: ${(e as Error).message}`;
  }
  const keys = typeof parsed === "object" && parsed !== null ? (parsed as { keys?: unknown }).keys : undefined;
  if (Array.isArray(keys)) return keys.every((k) => typeof k === "object" && k !== null && typeof (k as { kty?: unknown }).kty === "string") ? undefined : 'jwks parse error: every key needs a "kty"';
  if (typeof parsed === "object" && parsed !== null && typeof (parsed as { kty?: unknown }).kty === "string") return undefined;
  return 'jwks parse error: expected a JSON Web Key Set ({"keys": [...]})';
}

export function checkRequestAuthentication(ra: RequestAuthentication): Diagnostic[] {
  const r = createReport();
  const spec = ra.spec;
  if (!spec) return [];
  checkPolicyTargets(r, spec);
  (spec.jwtRules ?? []).forEach((rule, i) => {
    const p = ["spec", "jwtRules", i];
    if (!rule.issuer) r.error([...p, "issuer"], "issuer must be set");
    (rule.audiences ?? []).forEach((a, j) => {
      if (a === "") r.error([...p, "audiences", j], "audience must be non-empty string");
    });
    const uriKey = rule.jwksUri != null ? "jwksUri" : "jwks_uri";
    const uri = rule.jwksUri ?? rule.jwks_uri;
    if (rule.jwksUri != null && rule.jwks_uri != null) r.error(p, "only one of jwksUri and jwks_uri can be set");
    if (uri != null && rule.jwks != null) r.error(p, "only one of jwks or jwksUri can be set");
    if (uri != null) r.problem([...p, uriKey], uri === "" ? "jwksUri must not be empty" : jwksUriProblem(uri));
    if (rule.jwks != null && rule.jwks !== "") r.problem([...p, "jwks"], jwksProblem(rule.jwks));
    (rule.fromHeaders ?? []).forEach((h, j) => {
      if (h.name === "") r.error([...p, "fromHeaders", j, "name"], "location header name must be non-empty string");
    });
    (rule.fromParams ?? []).forEach((q, j) => {
      if (q === "") r.error([...p, "fromParams", j], "location query must be non-empty string");
    });
    (rule.fromCookies ?? []).forEach((c, j) => {
      if (c === "") r.error([...p, "fromCookies", j], "cookie name must be non-empty string");
    });
    (rule.outputClaimToHeaders ?? []).forEach((oc, j) => {
      const op = [...p, "outputClaimToHeaders", j];
      if (oc.claim === "" || oc.header === "") r.error(op, "outputClaimToHeaders header and claim value must be non-empty string");
      else r.problem([...op, "header"], headerNameProblem(oc.header));
    });
  });
  return r.diagnostics;
}

export const peerAuthenticationKind = defineKind({
  group: "security.istio.io",
  versions: ["v1", "v1beta1"],
  kind: "PeerAuthentication",
  schema: peerAuthenticationSchema,
  check: checkPeerAuthentication,
});

export const requestAuthenticationKind = defineKind({
  group: "security.istio.io",
  versions: ["v1", "v1beta1"],
  kind: "RequestAuthentication",
  schema: requestAuthenticationSchema,
  check: checkRequestAuthentication,
});
