/**
 * @module control/istio-ca/kube-jwt
 * Authenticates a caller by its Kubernetes service-account token in `authorization: Bearer`, as istiod's
 * CA does: the JWT's signature against the cluster's JWKS (given inline, or fetched from a URL and
 * cached), its issuer, its audience (`istio-ca` by default) and its expiry, then
 * `system:serviceaccount:NS:SA` → `spiffe://TRUST_DOMAIN/ns/NS/sa/SA`. Bound tokens name the namespace
 * and account under the `kubernetes.io` claim too; when present they must agree with the subject.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { AuthenticationError, type CallerAuthenticator } from "./caller.ts";

export interface KubernetesJwtOptions {
  trustDomain: string;
  /** The API server's `--service-account-issuer`. */
  issuer: string;
  /** The API server's signing keys (`/openid/v1/jwks`), inline ... */
  jwks?: JSONWebKeySet;
  /** ... or fetched (and cached) from this URL ... */
  jwksUri?: string;
  /** ... with these headers (the API server's `/openid/v1/jwks` usually wants `authorization: Bearer <token>`). */
  jwksHeaders?: Record<string, string>;
  /** Accepted audiences (any one); default `["istio-ca"]`, Istio's default for CA tokens. */
  audiences?: string[];
  /** Seconds of clock skew tolerated (default 30). */
  clockToleranceSec?: number;
  /** For tests: the current time in ms. */
  now?: () => number;
}

const SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * @example
 * const auth = createKubernetesJwtAuthenticator({ trustDomain: "cluster.local", issuer: "https://kubernetes.default.svc.cluster.local", jwks });
 */
export function createKubernetesJwtAuthenticator(options: KubernetesJwtOptions): CallerAuthenticator {
  let keys: JWTVerifyGetKey;
  if (options.jwks) keys = createLocalJWKSet(options.jwks);
  else if (options.jwksUri) keys = createRemoteJWKSet(new URL(options.jwksUri), options.jwksHeaders ? { headers: options.jwksHeaders } : {});
  else throw new TypeError("createKubernetesJwtAuthenticator: jwks or jwksUri is required");
  const audiences = options.audiences ?? ["istio-ca"];
  return {
    name: "kubernetes-jwt",
    async authenticate(call) {
      const header = call.authorization;
      if (header === undefined) return undefined;
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw new AuthenticationError("authorization header is not `Bearer <token>`");
      let payload;
      try {
        ({ payload } = await jwtVerify(m[1]!, keys, {
          issuer: options.issuer,
          audience: audiences,
          clockTolerance: options.clockToleranceSec ?? 30,
          requiredClaims: ["exp", "sub"],
          ...(options.now ? { currentDate: new Date(options.now()) } : {}),
        }));
      } catch (err) {
        if (err instanceof errors.JOSEError) throw new AuthenticationError(`service-account token refused: ${describe(err)}`);
        throw err;
      }
      const sub = SUBJECT.exec(payload.sub ?? "");
      if (!sub || !NAME.test(sub[1]!) || !NAME.test(sub[2]!)) throw new AuthenticationError(`token subject "${payload.sub}" is not system:serviceaccount:NAMESPACE:NAME`);
      const [, ns, sa] = sub as unknown as [string, string, string];
      const k8s = payload["kubernetes.io"] as { namespace?: unknown; serviceaccount?: { name?: unknown } } | undefined;
      if (k8s && ((k8s.namespace !== undefined && k8s.namespace !== ns) || (k8s.serviceaccount?.name !== undefined && k8s.serviceaccount.name !== sa))) {
        throw new AuthenticationError(`token subject ${payload.sub} disagrees with its kubernetes.io claim`);
      }
      return { spiffeId: `spiffe://${options.trustDomain}/ns/${ns}/sa/${sa}`, method: "kubernetes-jwt" };
    },
  };
}

function describe(err: InstanceType<typeof errors.JOSEError>): string {
  if (err instanceof errors.JWTExpired) return "expired";
  if (err instanceof errors.JWTClaimValidationFailed) return `claim "${err.claim}" ${err.reason === "check_failed" ? "has the wrong value" : err.reason}: ${err.message}`;
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) return "signature does not verify with the configured JWKS";
  return err.message;
}
