/**
 * @module control/istio-ca/service
 * Istio's CA API on weft's CA: `istio.v1.auth.IstioCertificateService/CreateCertificate`, so Istio agents
 * (pilot-agent, ztunnel) can use weft as their CA (`CA_ADDR`). As istiod does it: the caller is
 * authenticated first (a Kubernetes service-account JWT, or the SVID it presents for a renewal), the
 * certificate names the caller's identity, and the chain comes back leaf first, root last. Stricter than
 * istiod in one way: a CSR that asks for any name other than the caller's SPIFFE ID is refused
 * (PERMISSION_DENIED) instead of having its SANs silently replaced. `ImpersonatedIdentity` in the request
 * metadata is honoured only for callers on an explicit list (Istio's ztunnel asks for its pods' identities
 * this way). A requested validity is capped by the CA's maximum TTL. Runtime-neutral: hosts put the TLS
 * peer's certificates in the call context (`peerCertificatesKey`).
 */
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { IstioCertificateService, type IstioCertificateRequest } from "../../gen/proto/istio/security/v1alpha1/ca_pb.ts";
import { CaError, type CertificateAuthority } from "../ca/authority.ts";
import { CsrError, parseCsr } from "../ca/csr.ts";
import { AuthenticationError, peerCertificatesKey, type CallCredentials, type Caller, type CallerAuthenticator } from "./caller.ts";

export interface IstioCaOptions {
  ca: CertificateAuthority;
  /** Tried in order; the first that recognises a credential decides (istiod: client certificate, then JWT). */
  authenticators: CallerAuthenticator[];
  /** Longest certificate life handed out (default 90 days, istiod's MAX_WORKLOAD_CERT_TTL); longer requests are capped. */
  maxTtlMs?: number;
  /** SPIFFE IDs allowed to ask for another identity with the `ImpersonatedIdentity` metadata field. */
  impersonators?: string[];
  /** One line per decision (issued or refused), for the control plane's log. */
  log?: (line: string) => void;
}

export interface CertificateRequest {
  csr: string;
  /** Seconds; 0 = the CA's default. */
  validityDuration: bigint | number;
  metadata?: Record<string, unknown> | undefined;
}

const DEFAULT_MAX_TTL_MS = 90 * 24 * 3600_000;

async function authenticate(authenticators: CallerAuthenticator[], call: CallCredentials): Promise<Caller> {
  const problems: string[] = [];
  for (const a of authenticators) {
    try {
      const caller = await a.authenticate(call);
      if (caller) return caller;
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length > 0) throw new ConnectError(`authentication failed: ${problems.join("; ")}`, Code.Unauthenticated);
  throw new ConnectError("no credential: send the workload's Kubernetes service-account token (authorization: Bearer, audience istio-ca) or present its SVID as TLS client certificate", Code.Unauthenticated);
}

/**
 * Handles one CreateCertificate call; returns the PEM chain (leaf, intermediates, root) or throws a
 * `ConnectError` carrying the gRPC status.
 */
export async function createCertificate(opts: IstioCaOptions, req: CertificateRequest, call: CallCredentials): Promise<string[]> {
  const log = opts.log ?? (() => undefined);
  const caller = await authenticate(opts.authenticators, call).catch((err: unknown) => {
    log(`istio-ca: refused (${(err as Error).message})`);
    throw err;
  });
  const refuse = (code: Code, message: string): never => {
    log(`istio-ca: refused ${caller.spiffeId} (${caller.method}): ${message}`);
    throw new ConnectError(message, code);
  };
  let identity = caller.spiffeId;
  const impersonated = req.metadata?.["ImpersonatedIdentity"];
  if (impersonated !== undefined && impersonated !== identity) {
    if (typeof impersonated !== "string") refuse(Code.InvalidArgument, "metadata ImpersonatedIdentity must be a string");
    if (!(opts.impersonators ?? []).includes(caller.spiffeId)) {
      refuse(Code.PermissionDenied, `${caller.spiffeId} may not request a certificate for ${String(impersonated)} (ImpersonatedIdentity is allowed only for ${opts.impersonators?.join(", ") || "nobody"})`);
    }
    identity = impersonated as string;
  }
  let names;
  try {
    names = parseCsr(req.csr).names;
  } catch (err) {
    if (!(err instanceof CsrError)) throw err;
    return refuse(Code.InvalidArgument, `malformed CSR: ${err.message}`);
  }
  const wrong = names.filter((n) => n.type !== "url" || n.value !== identity);
  if (wrong.length > 0) {
    refuse(Code.PermissionDenied, `the CSR asks for ${wrong.map((n) => `${n.type === "url" ? "URI" : n.type} ${n.value}`).join(", ")}, but the caller is ${identity}: a certificate may name only the caller's own identity`);
  }
  const seconds = Number(req.validityDuration);
  if (!Number.isFinite(seconds) || seconds < 0) refuse(Code.InvalidArgument, `validity_duration must be zero (the CA's default) or a positive number of seconds, got ${seconds}`);
  const maxTtl = opts.maxTtlMs ?? DEFAULT_MAX_TTL_MS;
  try {
    const svid = await opts.ca.issue({
      spiffeId: identity,
      csrPem: req.csr,
      istioKeyTypes: true,
      ...(seconds > 0 ? { ttlMs: Math.min(seconds * 1000, maxTtl) } : {}),
    });
    log(`istio-ca: issued ${identity} to ${caller.spiffeId} (${caller.method}), serial ${svid.serial}, until ${new Date(svid.notAfter).toISOString()}`);
    return svid.chainPem;
  } catch (err) {
    if (err instanceof CaError) return refuse(Code.InvalidArgument, `cannot issue: ${err.message}`);
    throw err;
  }
}

/**
 * Connect-es routes for `IstioCertificateService`; mount them beside xDS on the control plane's gRPC server.
 * @example
 * startGrpcServer((r) => { createXdsRoutes(xds)(r); createIstioCaRoutes({ ca, authenticators })(r); }, { tls, contextValues });
 */
export function createIstioCaRoutes(opts: IstioCaOptions): (router: ConnectRouter) => void {
  return (router) => {
    router.service(IstioCertificateService, {
      async createCertificate(req: IstioCertificateRequest, ctx) {
        const certChain = await createCertificate(opts, req, {
          authorization: ctx.requestHeader.get("authorization") ?? undefined,
          peerCertificates: ctx.values.get(peerCertificatesKey),
        });
        return { certChain };
      },
    });
  };
}
