/**
 * @module control/ca/join-tokens
 * Workload attestation by one-time join tokens: an operator mints a token bound to one SPIFFE ID with a
 * time to live; the workload presents it once to obtain its first SVID. Tokens are stored hashed
 * (SHA-256), so a leaked store does not leak usable tokens. Later attestation methods (Kubernetes
 * service-account tokens, Consul ACL tokens) implement the same `Attestor` shape.
 */

export interface JoinToken {
  token: string;
  spiffeId: string;
  expiresAt: number;
}

export interface Attestor {
  /**
   * Returns the SPIFFE ID the credential proves, or throws `AttestationError`. `precheck` sees that ID
   * before the credential is spent; if it throws, the error propagates and the credential stays usable.
   */
  attest(credential: string, precheck?: (spiffeId: string) => void): Promise<string>;
}

export class AttestationError extends Error {}

async function sha256(s: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export interface JoinTokenStore extends Attestor {
  mint(spiffeId: string, ttlMs: number): Promise<JoinToken>;
  /** Number of unexpired, unused tokens. */
  pending(): number;
}

export function createJoinTokenStore(opts: { now?: () => number; random?: (n: number) => Uint8Array } = {}): JoinTokenStore {
  const now = opts.now ?? (() => Date.now());
  const random = opts.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const tokens = new Map<string, { spiffeId: string; expiresAt: number }>();
  const sweep = () => {
    const t = now();
    for (const [k, v] of tokens) if (v.expiresAt <= t) tokens.delete(k);
  };
  return {
    async mint(spiffeId, ttlMs) {
      if (!(ttlMs > 0)) throw new RangeError("join token TTL must be positive");
      sweep();
      const token = `wjt_${base64url(random(32))}`;
      const expiresAt = now() + ttlMs;
      tokens.set(await sha256(token), { spiffeId, expiresAt });
      return { token, spiffeId, expiresAt };
    },
    async attest(credential, precheck) {
      const key = await sha256(credential);
      const entry = tokens.get(key);
      // A valid token used where its identity is refused (precheck throws) stays unspent, so its holder
      // can retry correctly; otherwise it is single use, whatever happens next.
      if (entry && entry.expiresAt > now() && precheck) precheck(entry.spiffeId);
      tokens.delete(key);
      if (!entry) throw new AttestationError("unknown or already used join token");
      if (entry.expiresAt <= now()) throw new AttestationError("join token expired");
      return entry.spiffeId;
    },
    pending() {
      sweep();
      return tokens.size;
    },
  };
}
