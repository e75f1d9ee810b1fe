/**
 * @module plugins/jwt-authn/filter
 * The jwt-authn filter (Istio RequestAuthentication): finds each rule's tokens, verifies them (every
 * token a rule finds must be valid), combines the rules as Istio configures Envoy, and then either
 * rejects (401 with `www-authenticate`, 403 for a wrong audience), passes an unauthenticated request
 * with no token, or records the authenticating token in the metadata for rbac (`request.auth.*`),
 * writes the payload and claims to headers and strips the token unless `forwardOriginalToken`.
 */
import type { FilterContext, FilterStream, HttpFilter, LocalReply } from "../../proxy/filter.ts";
import type { JWTPayload } from "jose";
import { JWT_AUTHN_KEY, setResponseDetails, type JwtAuthnResult } from "../common/metadata.ts";
import { fetchTimeoutMs, type JwtAuthnConfig, type JwtRuleConfig } from "./config.ts";
import { extractTokens, removeToken, ruleLocations, type FoundToken, type TokenLocation } from "./extract.ts";
import { createInlineKeySource, createRemoteKeySource } from "./jwks.ts";
import { evaluate, istioRequirement } from "./requirement.ts";
import { sanitizeAudience, STATUS_TEXT, verifyToken, type JwtStatus, type VerifyRule } from "./verify.ts";
import { claimHeaderValue, normalizeClaims } from "./claims.ts";

interface CompiledRule {
  index: number;
  config: JwtRuleConfig;
  locations: TokenLocation[];
  verify: VerifyRule;
  spaceDelimited: string[];
}

interface Verified {
  found: FoundToken;
  payload: JWTPayload;
  payloadSegment: string;
}

function compileRule(config: JwtRuleConfig, index: number, cfg: JwtAuthnConfig, context: FilterContext): CompiledRule {
  const keys = config.jwks !== undefined
    ? createInlineKeySource(config.jwks)
    : createRemoteKeySource({
      uri: config.jwksUri,
      issuer: config.issuer,
      fetch: context.fetch,
      now: () => context.now(),
      log: (m) => context.log(m),
      ttlMs: cfg.jwksCacheSeconds * 1000,
      cooldownMs: cfg.jwksRefetchCooldownSeconds * 1000,
      timeoutMs: fetchTimeoutMs(config),
    });
  return {
    index,
    config,
    locations: ruleLocations(config),
    verify: { issuer: config.issuer, audiences: (config.audiences ?? []).map(sanitizeAudience), keys },
    spaceDelimited: [...new Set(["scope", "permission", ...(config.spaceDelimitedClaims ?? [])])],
  };
}

function isCorsPreflight(stream: FilterStream): boolean {
  return stream.method === "OPTIONS" && !!stream.headers.get("origin") && !!stream.headers.get("access-control-request-method");
}

function reject(stream: FilterStream, status: JwtStatus): LocalReply {
  const text = STATUS_TEXT[status];
  setResponseDetails(stream, `jwt_authn_access_denied{${text.replace(/ /g, "_")}}`);
  const q = stream.path.search(/[?#]/);
  const realm = `${stream.scheme}://${stream.authority}${q < 0 ? stream.path : stream.path.slice(0, q)}`;
  return {
    status: status === "JwtAudienceNotAllowed" ? 403 : 401,
    body: text,
    headers: { "content-type": "text/plain", "www-authenticate": `Bearer realm="${realm.replace(/["\\]/g, "")}", error="invalid_token"` },
  };
}

export function createJwtAuthnFilter(cfg: JwtAuthnConfig, context: FilterContext): HttpFilter {
  const rules = cfg.jwtRules.map((r, i) => compileRule(r, i, cfg, context));
  const requirement = istioRequirement(rules.length);
  if (context.fetch === undefined && rules.some((r) => r.config.jwks === undefined)) {
    context.log("jwt-authn: a rule fetches its JWKS but the host gave no fetch function; its tokens will be rejected");
  }
  /** Headers a client must not be able to forge: they carry verified data. */
  const outputHeaders = [...new Set(cfg.jwtRules.flatMap((r) => [
    ...(r.outputPayloadToHeader ? [r.outputPayloadToHeader] : []),
    ...(r.outputClaimToHeaders ?? []).map((c) => c.header),
  ]))];

  const applyWinner = (stream: FilterStream, rule: CompiledRule, verified: Verified[]): void => {
    for (const v of verified) {
      if (rule.config.outputPayloadToHeader) stream.headers.add(rule.config.outputPayloadToHeader, v.payloadSegment);
      for (const { header, claim } of rule.config.outputClaimToHeaders ?? []) {
        const value = claimHeaderValue(v.payload, claim);
        if (value !== undefined) stream.headers.add(header, value);
      }
    }
    if (!rule.config.forwardOriginalToken) for (const v of verified) removeToken(stream, v.found.location);
    const first = verified[0]!.payload;
    const aud = first.aud === undefined ? [] : Array.isArray(first.aud) ? first.aud : [first.aud];
    const result: JwtAuthnResult = {
      iss: String(first.iss),
      sub: typeof first.sub === "string" ? first.sub : undefined,
      aud,
      azp: typeof first.azp === "string" ? first.azp : undefined,
      principal: `${String(first.iss)}/${typeof first.sub === "string" ? first.sub : ""}`,
      claims: normalizeClaims(first, rule.spaceDelimited),
      rule: rule.index,
    };
    stream.metadata.set(JWT_AUTHN_KEY, result);
  };

  return {
    name: "jwt-authn",
    async onRequest(stream) {
      stream.metadata.delete(JWT_AUTHN_KEY);
      for (const h of outputHeaders) stream.headers.delete(h);
      if (cfg.bypassCorsPreflight && isCorsPreflight(stream)) return undefined;
      const results = new Map<number, { status: JwtStatus; verified: Verified[] }>();
      const providerStatus = async (i: number): Promise<JwtStatus> => {
        const known = results.get(i);
        if (known) return known.status;
        const rule = rules[i]!;
        const tokens = extractTokens(stream, rule.locations);
        let status: JwtStatus = tokens.length === 0 ? "JwtMissed" : "Ok";
        const verified: Verified[] = [];
        for (const found of tokens) {
          const r = await verifyToken(found.token, rule.verify, context.now(), cfg.clockSkewSeconds);
          if (r.status !== "Ok") {
            status = r.status;
            break;
          }
          verified.push({ found, payload: r.payload, payloadSegment: r.payloadSegment });
        }
        results.set(i, { status, verified });
        return status;
      };
      const status = await evaluate(requirement, providerStatus);
      if (status !== "Ok") return reject(stream, status);
      for (const [i, r] of [...results].sort((a, b) => a[0] - b[0])) {
        if (r.status === "Ok") {
          applyWinner(stream, rules[i]!, r.verified);
          break;
        }
      }
      return undefined;
    },
  };
}
