/**
 * @module proxy/node/tls-identity
 * SPIFFE identities on TLS connections. Downstream: the peer's principal is the one URI SAN of its
 * verified certificate that is a SPIFFE ID, and its subject DN (RFC 4514, for impersonation rules)
 * when the subject is not empty. Upstream: the server is verified by SPIFFE ID against the cluster's
 * expected identities — never by host name — through `checkServerIdentity`, which Node calls only
 * after the chain verified against the trust bundle. Also the upstream TLS connect used by the pools.
 */
import { connect as netConnect } from "node:net";
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from "node:tls";
import { tryParseSpiffeId } from "../../core/identity/spiffe.ts";
import type { Cluster } from "../../core/ir/model.ts";
import type { SecretStore } from "./tls-secrets.ts";

/** What the proxy knows about the peer of a downstream connection. */
export interface ConnectionInfo {
  /** The filter chain the connection was matched to. */
  chain: string;
  tls: boolean;
  principal?: string;
  peerSubject?: string;
  sni?: string;
}

export const kConnection = Symbol.for("weft.connection");
export type WithConnection = { [kConnection]?: ConnectionInfo };

/** URI SANs of a certificate, from Node's `subjectaltname` text (`URI:a, DNS:b`, values possibly quoted). */
export function uriSans(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  const out: string[] = [];
  for (const m of subjectaltname.matchAll(/(?:^|,\s*)URI:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    let v = m[1]!;
    if (v.startsWith('"')) v = JSON.parse(v) as string;
    out.push(v);
  }
  return out;
}

/** The SPIFFE ID of a certificate: its only SPIFFE URI SAN (SVIDs carry exactly one), else undefined. */
export function spiffeIdOf(cert: PeerCertificate | undefined): string | undefined {
  const ids = uriSans(cert?.subjectaltname).filter((u) => tryParseSpiffeId(u) !== undefined);
  return ids.length === 1 ? tryParseSpiffeId(ids[0]!)!.uri : undefined;
}

/** The subject DN in RFC 4514 order (most specific first), or undefined for an empty subject. */
export function subjectDn(socket: TLSSocket): string | undefined {
  const x = socket.getPeerX509Certificate();
  const text = x?.subject?.trim();
  if (!text) return undefined;
  const esc = (v: string) => v.replace(/([,+"\\<>;])/g, "\\$1");
  return text.split("\n").reverse().map((line) => {
    const eq = line.indexOf("=");
    return eq < 0 ? esc(line) : `${line.slice(0, eq)}=${esc(line.slice(eq + 1))}`;
  }).join(",");
}

/** Reads the peer identity of a handshaken server-side socket. Only a verified certificate counts. */
export function peerInfo(socket: TLSSocket, chain: string): ConnectionInfo {
  const info: ConnectionInfo = { chain, tls: true };
  const sni = (socket as TLSSocket & { servername?: string | false }).servername;
  if (typeof sni === "string" && sni !== "") info.sni = sni;
  if (!socket.authorized) return info;
  const principal = spiffeIdOf(socket.getPeerCertificate());
  if (principal !== undefined) info.principal = principal;
  const dn = subjectDn(socket);
  if (dn !== undefined) info.peerSubject = dn;
  return info;
}

/** Upstream TLS settings of a cluster, resolved against the secret store at each connect. */
export interface UpstreamTlsSettings {
  secrets: SecretStore;
  secret: string;
  validationSecret: string;
  expected: ReadonlySet<string>;
  sni: string | undefined;
}

export function upstreamTlsSettings(cluster: Cluster, secrets: SecretStore): UpstreamTlsSettings | undefined {
  const t = cluster.tls;
  if (t.mode !== "mutual" || t.files?.credentialName === undefined) return undefined;
  const secret = t.files.credentialName;
  return {
    secrets,
    secret,
    validationSecret: t.files.caCertificates?.replace(/^secret:/, "") ?? secret,
    expected: new Set(t.expectedIdentities),
    sni: t.sni,
  };
}

/** Error text for a server whose SPIFFE ID is not expected (shown as the upstream transport failure reason). */
export function identityMismatch(got: string | undefined, expected: ReadonlySet<string>): Error | undefined {
  if (got !== undefined && expected.has(got)) return undefined;
  const e = new Error(`server identity ${got ?? "(no SPIFFE ID)"} is not one of the expected identities [${[...expected].join(", ")}]`);
  (e as Error & { code: string }).code = "ERR_WEFT_SPIFFE_ID_MISMATCH";
  return e;
}

/** Opens an mTLS connection to an upstream host: our SVID, the bundle, SNI, ALPN (none for TCP), SPIFFE ID check. */
export function connectUpstreamTls(t: UpstreamTlsSettings, host: string, port: number, alpn: string | undefined): TLSSocket {
  const raw = netConnect({ host, port, noDelay: true });
  return tlsConnect({
    socket: raw,
    host,
    secureContext: t.secrets.context(t.secret, t.validationSecret),
    ...(t.sni !== undefined ? { servername: t.sni } : {}),
    ...(alpn !== undefined ? { ALPNProtocols: [alpn] } : {}),
    checkServerIdentity: (_host, cert) => identityMismatch(spiffeIdOf(cert), t.expected),
  });
}
