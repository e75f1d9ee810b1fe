/**
 * @module plugins/jwt-authn/config
 * The jwt-authn filter's configuration: Istio RequestAuthentication `jwtRules` with Istio's field names
 * (issuer, audiences, jwksUri | jwks, token locations, forwardOriginalToken, outputPayloadToHeader,
 * outputClaimToHeaders, spaceDelimitedClaims, timeout), plus the knobs Envoy has and Istio leaves at
 * their defaults: clock skew, JWKS cache duration and the cool-down between refetches for unknown keys.
 */
import { duration, parseGoDuration } from "../../core/resources/istio/duration.ts";
import { z } from "../../core/schema/index.ts";

const nonEmpty = z.string().min(1, { message: "must be a non-empty string" });
const headerName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { message: "must be a valid HTTP header name" });

function jwksProblem(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return `jwks parse error: ${(e as Error).message}`;
  }
  const o = parsed as { keys?: unknown; kty?: unknown } | null;
  if (o !== null && typeof o === "object" && (Array.isArray(o.keys) || typeof o.kty === "string")) return undefined;
  return 'jwks parse error: expected a JSON Web Key Set ({"keys": [...]})';
}

export const jwtRuleSchema = z.strictObject({
  issuer: nonEmpty,
  audiences: z.array(nonEmpty).optional(),
  /** Where to fetch the JWKS (http or https). Without `jwks` or `jwksUri`, OpenID discovery at `<issuer>/.well-known/openid-configuration` finds it. */
  jwksUri: z.url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" }).optional(),
  /** An inline JSON Web Key Set (JSON text). */
  jwks: z.string().superRefine((v, ctx) => {
    const p = jwksProblem(v);
    if (p) ctx.addIssue({ code: "custom", message: p });
  }).optional(),
  fromHeaders: z.array(z.strictObject({ name: headerName, prefix: z.string().optional() })).optional(),
  fromParams: z.array(nonEmpty).optional(),
  fromCookies: z.array(nonEmpty).optional(),
  forwardOriginalToken: z.boolean().default(false),
  outputPayloadToHeader: headerName.optional(),
  outputClaimToHeaders: z.array(z.strictObject({ header: headerName, claim: nonEmpty })).optional(),
  /** Claims besides `scope` and `permission` whose space-delimited string value becomes a list. */
  spaceDelimitedClaims: z.array(nonEmpty).optional(),
  /** Timeout of a JWKS fetch (default 5s). */
  timeout: duration().optional(),
}).refine((r) => !(r.jwks !== undefined && r.jwksUri !== undefined), { message: "only one of jwks or jwksUri can be set" });

export const jwtAuthnConfigSchema = z.strictObject({
  jwtRules: z.array(jwtRuleSchema).min(1, { message: "at least one jwt rule is needed" }),
  /** Allowed clock skew for `exp` and `nbf` (Envoy's default 60). */
  clockSkewSeconds: z.number().int().min(0).default(60),
  /** How long a fetched JWKS is used before it is fetched again (Istio configures Envoy with 5 minutes). */
  jwksCacheSeconds: z.number().int().min(1).default(300),
  /** Least time between two fetches caused by an unknown `kid` or a failed fetch. */
  jwksRefetchCooldownSeconds: z.number().min(0).default(30),
  /** Let CORS preflights through without a token (Istio turns this on). */
  bypassCorsPreflight: z.boolean().default(true),
});

export type JwtRuleConfig = z.infer<typeof jwtRuleSchema>;
export type JwtAuthnConfig = z.infer<typeof jwtAuthnConfigSchema>;

/** The fetch timeout of a rule in ms. */
export function fetchTimeoutMs(rule: JwtRuleConfig): number {
  return rule.timeout === undefined ? 5000 : (parseGoDuration(rule.timeout) ?? 5e9) / 1e6;
}
