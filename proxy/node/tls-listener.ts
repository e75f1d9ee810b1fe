/**
 * @module proxy/node/tls-listener
 * Downstream TLS for an HTTP listener: one `tls.Server` (never listening itself) takes the connections
 * whose first byte is a TLS handshake. The SNI picks the filter chain — chains with `serverNames`
 * in order, then the listener's default chain — and with it the certificate presented (through
 * `SNICallback`, from the secret store, so a rotated SVID is used by the next handshake). A chain that
 * requires a client certificate accepts only one that chains to its trust bundle; its SPIFFE URI SAN
 * becomes the connection's principal and its subject DN the `peerSubject`. ALPN chooses HTTP/2 or
 * HTTP/1.1.
 */
import type { Socket } from "node:net";
import { createServer, type SecureContext, type Server, type TLSSocket } from "node:tls";
import type { HttpListenerRuntime } from "../snapshot.ts";
import type { HttpListenerState } from "./exchange.ts";
import { kConnection, peerInfo, type WithConnection } from "./tls-identity.ts";

export interface TlsFront {
  /** Hands over a raw connection whose first byte (still buffered) is a TLS handshake. */
  accept(socket: Socket): void;
  /** Re-reads settings and certificates after a config or secret change. */
  update(): void;
  /** Closes connections still in their handshake. */
  destroy(): void;
}

export function hasTls(l: HttpListenerRuntime): boolean {
  return l.chains.some((c) => c.tls !== undefined);
}

/** Plaintext goes to the default chain, which takes it unless it is STRICT TLS. */
export function acceptsPlaintext(l: HttpListenerRuntime): boolean {
  const d = l.chains[l.chains.length - 1]!;
  return d.tls === undefined || d.tls.mode === "PERMISSIVE";
}

/** `name` against `example.com` or `*.example.com` (one or more labels), case-insensitive. */
export function serverNameMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  if (p.startsWith("*.")) return n.length > p.length - 1 && n.endsWith(p.slice(1));
  return p === n;
}

/** The TLS chain for a handshake with SNI `sni` (undefined = none sent), or undefined when none fits. */
export function chooseTlsChain(l: HttpListenerRuntime, sni: string | undefined): HttpListenerRuntime | undefined {
  if (sni !== undefined) {
    for (const c of l.chains) {
      if (c.tls !== undefined && c.serverNames?.some((p) => serverNameMatches(p, sni))) return c;
    }
  }
  const d = l.chains[l.chains.length - 1]!;
  return d.tls !== undefined ? d : undefined;
}

export function createTlsFront(getState: () => HttpListenerState, onSecure: (socket: TLSSocket) => void): TlsFront {
  const handshaking = new Set<Socket>();
  const ctx = getState().ctx;
  const contextFor = (c: HttpListenerRuntime): SecureContext =>
    ctx.secrets.context(c.tls!.secret, c.tls!.requireClientCertificate ? (c.tls!.validationSecret ?? c.tls!.secret) : undefined);

  const settings = () => {
    const l = getState().listener;
    const tlsChains = l.chains.filter((c) => c.tls !== undefined);
    const first = chooseTlsChain(l, undefined) ?? tlsChains[0]!;
    // A chain's codec limits what it offers: `http1` never offers h2, `http2` never http/1.1.
    const alpn = [...new Set(tlsChains.flatMap((c) => c.tls!.alpn.filter((p) => (p === "h2" ? c.http.codec !== "http1" : c.http.codec !== "http2"))))];
    return {
      material: ctx.secrets.options(first.tls!.secret, first.tls!.requireClientCertificate ? (first.tls!.validationSecret ?? first.tls!.secret) : undefined),
      requestCert: tlsChains.some((c) => c.tls!.requireClientCertificate),
      // When every chain needs a client certificate, a bad one fails the handshake itself.
      rejectUnauthorized: tlsChains.every((c) => c.tls!.requireClientCertificate),
      alpn,
      handshakeTimeout: Math.max(1000, l.http.requestHeadersTimeoutMs),
    };
  };

  const initial = settings();
  const server: Server = createServer({
    ...initial.material,
    minVersion: "TLSv1.2",
    requestCert: initial.requestCert,
    rejectUnauthorized: initial.rejectUnauthorized,
    ALPNProtocols: initial.alpn,
    handshakeTimeout: initial.handshakeTimeout,
    SNICallback: (servername, cb) => {
      const chain = chooseTlsChain(getState().listener, servername);
      try {
        cb(null, chain ? contextFor(chain) : undefined);
      } catch (err) {
        cb(err as Error, undefined);
      }
    },
  });

  server.on("secureConnection", (s: TLSSocket) => {
    handshaking.delete(s);
    const l = getState().listener;
    const sni = (s as TLSSocket & { servername?: string | false }).servername;
    const chain = chooseTlsChain(l, typeof sni === "string" ? sni : undefined);
    if (chain === undefined) {
      ctx.log(`listener ${l.config.name}: no filter chain for SNI ${String(sni)}; connection closed`);
      s.destroy();
      return;
    }
    if (chain.tls!.requireClientCertificate && !s.authorized) {
      ctx.log(`listener ${l.config.name}: client certificate rejected from ${s.remoteAddress}: ${String(s.authorizationError ?? "none sent")}`);
      s.destroy();
      return;
    }
    try {
      (s as WithConnection)[kConnection] = peerInfo(s, chain.chain);
      onSecure(s);
    } catch (err) {
      ctx.log(`listener ${l.config.name}: connection from ${s.remoteAddress} dropped: ${(err as Error).message}`);
      s.destroy();
    }
  });
  server.on("tlsClientError", (err: Error, s: TLSSocket) => {
    handshaking.delete(s);
    ctx.log(`listener ${getState().listener.config.name}: TLS handshake failed from ${s.remoteAddress}: ${err.message}`);
  });

  const apply = () => {
    const st = settings();
    server.setSecureContext({ ...st.material, minVersion: "TLSv1.2", ALPNProtocols: st.alpn } as Parameters<Server["setSecureContext"]>[0]);
    const srv = server as Server & { requestCert: boolean; rejectUnauthorized: boolean };
    srv.requestCert = st.requestCert;
    srv.rejectUnauthorized = st.rejectUnauthorized;
  };
  const unsubscribe = ctx.secrets.onChange(() => {
    try {
      apply();
    } catch (err) {
      ctx.log(`listener ${getState().listener.config.name}: keeping the previous certificate: ${(err as Error).message}`);
    }
  });

  return {
    accept(socket) {
      handshaking.add(socket);
      socket.once("close", () => handshaking.delete(socket));
      server.emit("connection", socket);
    },
    update: apply,
    destroy() {
      unsubscribe();
      for (const s of handshaking) s.destroy();
    },
  };
}
