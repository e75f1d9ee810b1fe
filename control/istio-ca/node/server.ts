/**
 * @module control/istio-ca/node/server
 * Node host for Istio's CA API: the TLS gRPC listener (control/node/grpc-server.ts) serving
 * `IstioCertificateService` — and, given `routes`, other services such as xDS on the same port, as
 * istiod serves both on :15012 — with a serving certificate issued by weft's own CA, client
 * certificates requested but not required (agents renewing present their SVID; first-time callers send
 * a service-account token), and the TLS peer's chain passed to the service in the call context. Also a
 * control-plane extension that starts it beside the store and CA.
 */
import type { TLSSocket } from "node:tls";
import { createContextValues, type ConnectRouter } from "@connectrpc/connect";
import type { CertificateAuthority } from "../../ca/authority.ts";
import { generateKeyPair, privateKeyToPem } from "../../ca/keys.ts";
import { startGrpcServer, type GrpcNodeServer, type GrpcServerOptions } from "../../node/grpc-server.ts";
import type { ControlPlaneExtension, ControlPlaneParts } from "../../node/control-plane.ts";
import { peerCertificatesKey, type CallerAuthenticator } from "../caller.ts";
import { createKubernetesJwtAuthenticator, type KubernetesJwtOptions } from "../kube-jwt.ts";
import { createPeerCertificateAuthenticator } from "../peer-certificate.ts";
import { createIstioCaRoutes, type IstioCaOptions } from "../service.ts";

export interface IstioCaServerOptions {
  ca: CertificateAuthority;
  host?: string;
  port?: number;
  /**
   * DNS names in the serving certificate: the name agents verify (the host of `CA_ADDR`, or `CA_SNI`).
   * Default: istiod's, so agents configured for istiod accept weft as it is.
   */
  serverNames?: string[];
  /** Kubernetes service-account tokens (omit to accept only SVID client certificates). */
  kubernetes?: Omit<KubernetesJwtOptions, "trustDomain">;
  maxTtlMs?: number;
  impersonators?: string[];
  /** More gRPC services on the same port (xDS). */
  routes?: (router: ConnectRouter) => void;
  log?: (line: string) => void;
}

export interface IstioCaNodeServer extends GrpcNodeServer {
  /** PEM roots that verify the serving certificate (the CA's trust bundle when it started). */
  rootsPem: string;
}

export const DEFAULT_SERVER_NAMES = ["istiod.istio-system.svc", "istiod.istio-system.svc.cluster.local"];

type PeerCert = ReturnType<TLSSocket["getPeerCertificate"]> & { raw?: Uint8Array; issuerCertificate?: PeerCert };

/** The TLS peer's certificate chain (DER, leaf first) of the connection a request came on. */
export function peerCertificates(socket: TLSSocket | undefined): Uint8Array<ArrayBuffer>[] {
  if (!socket || typeof socket.getPeerCertificate !== "function") return [];
  const out: Uint8Array<ArrayBuffer>[] = [];
  const seen = new Set<string>();
  for (let c = socket.getPeerCertificate(true) as PeerCert | undefined; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(new Uint8Array(c.raw));
  }
  return out;
}

/** connect-node `contextValues`: puts the peer's chain under `peerCertificatesKey` (read once per HTTP/2 session). */
export function peerCertificateContext(): NonNullable<GrpcServerOptions["contextValues"]> {
  const bySession = new WeakMap<object, Uint8Array<ArrayBuffer>[]>();
  return (req) => {
    const values = createContextValues();
    const stream = (req as { stream?: { session?: { socket?: TLSSocket } } }).stream;
    const session = stream?.session;
    if (!session) return values.set(peerCertificatesKey, peerCertificates(req.socket as TLSSocket));
    let chain = bySession.get(session);
    if (!chain) {
      chain = peerCertificates(session.socket);
      bySession.set(session, chain);
    }
    return values.set(peerCertificatesKey, chain);
  };
}

/**
 * @example
 * const server = await startIstioCaServer({ ca, port: 15012, kubernetes: { issuer, jwksUri } });
 */
export async function startIstioCaServer(opts: IstioCaServerOptions): Promise<IstioCaNodeServer> {
  const { ca } = opts;
  const authenticators: CallerAuthenticator[] = [createPeerCertificateAuthenticator({ trustDomain: ca.trustDomain, trustBundle: () => ca.trustBundle() })];
  if (opts.kubernetes) authenticators.push(createKubernetesJwtAuthenticator({ ...opts.kubernetes, trustDomain: ca.trustDomain }));
  const service: IstioCaOptions = { ca, authenticators, ...(opts.maxTtlMs ? { maxTtlMs: opts.maxTtlMs } : {}), ...(opts.impersonators ? { impersonators: opts.impersonators } : {}), ...(opts.log ? { log: opts.log } : {}) };
  const keys = await generateKeyPair();
  const serving = await ca.issue({
    spiffeId: `spiffe://${ca.trustDomain}/ns/weft-system/sa/weft-control`,
    publicKey: keys.publicKey,
    dnsNames: opts.serverNames ?? DEFAULT_SERVER_NAMES,
    ttlMs: 365 * 24 * 3600_000, // capped by the intermediate's life; a restart issues a new one
  });
  const rootsPem = ca.trustBundle().join("");
  const caRoutes = createIstioCaRoutes(service);
  const server = await startGrpcServer((router) => {
    opts.routes?.(router);
    caRoutes(router);
  }, {
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    tls: { certPem: serving.chainPem.slice(0, -1).join(""), keyPem: await privateKeyToPem(keys.privateKey), caPem: rootsPem, requestClientCert: true },
    contextValues: peerCertificateContext(),
  });
  return Object.assign(server, { rootsPem });
}

/**
 * The Istio CA server as a control-plane extension (`startControlPlane({ extensions: [istioCaExtension({ port: 15012, kubernetes })] })`).
 * `routes` gets the control plane's parts, so xDS can be mounted on the same port.
 */
export function istioCaExtension(opts: Omit<IstioCaServerOptions, "ca" | "routes" | "log"> & { routes?: (parts: ControlPlaneParts) => (router: ConnectRouter) => void }): ControlPlaneExtension {
  return async (parts) => {
    const { routes, ...rest } = opts;
    const server = await startIstioCaServer({ ...rest, ca: parts.ca, log: parts.log, ...(routes ? { routes: routes(parts) } : {}) });
    return { name: "istio CA", url: `grpcs://${server.address}`, close: () => server.close() };
  };
}
