/**
 * @module plugins/impersonation/filter
 * Grey Matter's non-person-entity impersonation rules (INTEROP.md): a request that names a user
 * (`USER_DN`) is accepted only from a whitelisted mTLS peer — and, when it also names an external system
 * (`EXTERNAL_SYS_DN`), only if that system is whitelisted too; anything else is 403. Without `USER_DN` the
 * peer's own identity is the user. The effective user goes to the metadata (for rbac and audit) and to
 * the forwarded header.
 *
 * The peer's identity is its verified certificate's subject DN (`connection.peerSubject`) when it has
 * one, else its SPIFFE ID (`connection.principal`).
 */
import type { FilterStream, HttpFilter, LocalReply } from "../../proxy/filter.ts";
import { IMPERSONATION_KEY, setResponseDetails, type ImpersonationResult } from "../common/metadata.ts";
import type { ImpersonationConfig } from "./config.ts";
import { createIdentitySet } from "./dn.ts";

/** The mTLS peer's identity: subject DN if the host gives one, else the SPIFFE ID; undefined for plaintext. */
export function peerIdentity(stream: FilterStream): string | undefined {
  const subject = stream.connection.peerSubject?.trim();
  if (subject) return subject;
  return stream.connection.principal || undefined;
}

const FORBIDDEN: LocalReply = { status: 403, body: "impersonation denied", headers: { "content-type": "text/plain" } };

export function createImpersonationFilter(cfg: ImpersonationConfig): HttpFilter {
  const servers = createIdentitySet(cfg.servers);
  const forwardHeader = cfg.forwardHeader ?? cfg.userHeader;

  const deny = (stream: FilterStream, why: string): LocalReply => {
    const details = `impersonation_denied{${why}}`;
    setResponseDetails(stream, details);
    return { ...FORBIDDEN, details };
  };

  return {
    name: "impersonation",
    onRequest(stream) {
      stream.metadata.delete(IMPERSONATION_KEY);
      const user = stream.headers.get(cfg.userHeader)?.trim() || undefined;
      const externalSystem = stream.headers.get(cfg.externalSystemHeader)?.trim() || undefined;
      const peer = peerIdentity(stream);
      if (forwardHeader !== cfg.userHeader) stream.headers.delete(forwardHeader);
      if (user === undefined && externalSystem === undefined) {
        if (peer === undefined) return undefined;
        stream.headers.set(forwardHeader, peer);
        stream.metadata.set(IMPERSONATION_KEY, { user: peer, peer, impersonated: false } satisfies ImpersonationResult);
        return undefined;
      }
      if (peer === undefined) return deny(stream, "no_mtls_peer");
      if (!servers.has(peer)) return deny(stream, "peer_not_whitelisted");
      if (externalSystem !== undefined && !servers.has(externalSystem)) return deny(stream, "external_system_not_whitelisted");
      const effective = user ?? peer;
      stream.headers.set(forwardHeader, effective);
      stream.metadata.set(IMPERSONATION_KEY, {
        user: effective,
        peer,
        ...(externalSystem !== undefined ? { externalSystem } : {}),
        impersonated: user !== undefined,
      } satisfies ImpersonationResult);
      return undefined;
    },
  };
}
