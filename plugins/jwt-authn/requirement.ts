/**
 * @module plugins/jwt-authn/requirement
 * The requirement Istio builds from RequestAuthentication rules, evaluated the way Envoy's jwt_authn
 * verifiers combine results. One rule: `any(P1, allow_missing)`. Several: `any(P1, ..., Pn,
 * all(any(P1, allow_missing), ..., any(Pn, allow_missing)))` — a token must be valid for some rule, and
 * a request with no token at any rule's locations passes unauthenticated. A token whose issuer no rule
 * names is rejected. Provider results are computed lazily, once per request, in order.
 */
import type { JwtStatus } from "./verify.ts";

export type Requirement =
  | { provider: number }
  | { any: Requirement[]; allowMissing?: boolean }
  | { all: Requirement[] };

/** Istio's `convertToEnvoyJwtConfig` requirement for `count` rules. */
export function istioRequirement(count: number): Requirement {
  const optional = (i: number): Requirement => ({ any: [{ provider: i }], allowMissing: true });
  if (count === 1) return optional(0);
  const providers = Array.from({ length: count }, (_, i): Requirement => ({ provider: i }));
  return { any: [...providers, { all: providers.map((_, i) => optional(i)) }] };
}

const isSoft = (s: JwtStatus) => s === "JwtMissed" || s === "JwtUnknownIssuer";

/** Evaluates `req` with `status(i)` giving provider i's result (memoized by the caller). */
export async function evaluate(req: Requirement, status: (provider: number) => Promise<JwtStatus>): Promise<JwtStatus> {
  if ("provider" in req) return await status(req.provider);
  if ("all" in req) {
    for (const child of req.all) {
      const s = await evaluate(child, status);
      if (s !== "Ok") return s;
    }
    return "Ok";
  }
  // Envoy's AnyVerifier: OK as soon as a child is OK; otherwise prefer a hard error over
  // "unknown issuer" over "missing"; allow_missing turns only "missing" into OK.
  let final: JwtStatus = "JwtMissed";
  for (const child of req.any) {
    const s = await evaluate(child, status);
    if (s === "Ok") return "Ok";
    if (!isSoft(s) || final === "JwtMissed") final = s;
  }
  return req.allowMissing === true && final === "JwtMissed" ? "Ok" : final;
}
