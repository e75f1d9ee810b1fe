/**
 * @module control/istio-ca/caller
 * Who is calling Istio's CA API: the credentials a call carries (the `authorization` header and the TLS
 * peer's certificate chain, which a host puts in the call's context under `peerCertificatesKey`), the
 * authenticator shape (a Kubernetes service-account JWT, an existing SVID), and the errors that map to
 * gRPC status codes. Runtime-neutral.
 */
import { createContextKey } from "@connectrpc/connect";

/** The TLS peer's certificates as DER, leaf first, as the host received them (empty without TLS or a client certificate). */
export const peerCertificatesKey = createContextKey<readonly Uint8Array<ArrayBuffer>[]>([], { description: "TLS peer certificate chain (DER)" });

export interface CallCredentials {
  authorization?: string;
  peerCertificates: readonly Uint8Array<ArrayBuffer>[];
}

export interface Caller {
  /** The SPIFFE ID the credential proves. */
  spiffeId: string;
  /** Which authenticator accepted it ("kubernetes-jwt", "certificate"). */
  method: string;
}

export interface CallerAuthenticator {
  readonly name: string;
  /**
   * The caller proven by this kind of credential; `undefined` when the call does not carry this kind;
   * throws `AuthenticationError` when it carries one that does not hold.
   */
  authenticate(call: CallCredentials): Promise<Caller | undefined>;
}

/** The credential is missing or does not hold (gRPC UNAUTHENTICATED). */
export class AuthenticationError extends Error {}
