/**
 * @module proxy/node/tcp-listener
 * TCP proxying for non-HTTP ports: each accepted connection gets an upstream host from the cluster's
 * load balancer and the two sockets are piped with backpressure. With `tls` the listener terminates
 * mTLS first (client certificate verified against the bundle; PERMISSIVE also takes plaintext, told
 * apart by the first byte), and a cluster with `tls` gets an mTLS connection with its SPIFFE ID
 * checked. An idle timeout closes both sides. Connect failures close the downstream (flag UF); stats
 * record one entry per connection, and Istio's `istio_tcp_*` metrics (with the peer's SPIFFE ID) and
 * the access log one opened/closed pair with the bytes both ways when telemetry is configured.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from "node:tls";
import type { ListenerRuntime, Snapshot } from "../snapshot.ts";
import type { HostContext } from "./exchange.ts";
import { connectUpstreamTls, upstreamTlsSettings } from "./tls-identity.ts";
import { tcpEnd, tcpStart } from "./telemetry.ts";

export interface TcpListenerState {
  snapshot: Snapshot;
  listener: Extract<ListenerRuntime, { kind: "tcp" }>;
  ctx: HostContext;
}

export interface TcpListener {
  state: TcpListenerState;
  address(): AddressInfo;
  update(state: TcpListenerState): void;
  stopAccepting(): Promise<void>;
  destroy(): void;
}

export async function startTcpListener(initial: TcpListenerState): Promise<TcpListener> {
  const open = new Set<Socket>();
  let tls: ReturnType<typeof createTlsTerminator> | undefined;
  const server: Server = createServer({ noDelay: true, allowHalfOpen: true }, (down) => {
    open.add(down);
    down.on("close", () => open.delete(down));
    if (tls === undefined) {
      proxyConnection(handle.state, down);
      return;
    }
    down.on("error", () => down.destroy());
    down.once("data", (first: Buffer) => {
      down.pause();
      down.unshift(first);
      if (first[0] === 0x16) tls!.server.emit("connection", down);
      else if (handle.state.listener.tls?.mode === "PERMISSIVE") {
        proxyConnection(handle.state, down);
        down.resume();
      } else down.destroy();
    });
  });
  const handle: TcpListener = {
    state: initial,
    address: () => server.address() as AddressInfo,
    update(state) {
      handle.state = state;
    },
    stopAccepting: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      setImmediate(resolve);
    }),
    destroy() {
      tls?.unsubscribe();
      for (const s of open) s.destroy();
    },
  };
  if (initial.listener.tls !== undefined) tls = createTlsTerminator(() => handle.state, (s) => proxyConnection(handle.state, s));
  const cfg = initial.listener.config;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(cfg.port, cfg.address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return handle;
}

/** A `tls.Server` (never listening itself) that terminates mTLS for a TCP listener; follows secret rotation. */
function createTlsTerminator(getState: () => TcpListenerState, onSecure: (s: TLSSocket) => void): { server: TlsServer; unsubscribe(): void } {
  const st = getState();
  const ctx = st.ctx;
  const material = () => {
    const t = getState().listener.tls!;
    return { ...ctx.secrets.options(t.secret, t.requireClientCertificate ? (t.validationSecret ?? t.secret) : undefined), minVersion: "TLSv1.2" as const };
  };
  const t = st.listener.tls!;
  const server = createTlsServer({ ...material(), requestCert: t.requireClientCertificate, rejectUnauthorized: t.requireClientCertificate }, onSecure);
  server.on("tlsClientError", (err: Error, s: TLSSocket) => ctx.log(`listener ${getState().listener.config.name}: TLS handshake failed from ${s.remoteAddress}: ${err.message}`));
  const unsubscribe = ctx.secrets.onChange(() => {
    try {
      server.setSecureContext(material());
    } catch (err) {
      ctx.log(`listener ${getState().listener.config.name}: keeping the previous certificate: ${(err as Error).message}`);
    }
  });
  return { server, unsubscribe };
}

function proxyConnection(state: TcpListenerState, down: Socket): void {
  const start = performance.now();
  const ctx = state.ctx;
  const cluster = state.snapshot.clusters.get(state.listener.tcp.cluster);
  const host = cluster?.pick();
  const tel = ctx.telemetry === undefined ? undefined : tcpStart(ctx, state.listener.config.trafficDirection === "OUTBOUND", cluster?.config, down);
  if (cluster === undefined || host === undefined) {
    (cluster?.stats ?? ctx.noCluster).record(0, 0, cluster ? "UH" : "NC");
    if (tel !== undefined) tcpEnd(tel, down, cluster ? "UH" : "NC", { cluster: cluster?.name });
    down.on("error", () => undefined);
    down.destroy();
    return;
  }
  ctx.inflight++;
  host.activeRequests++;
  const tls = upstreamTlsSettings(cluster.config, ctx.secrets);
  const up: Socket = tls === undefined ? connect({ host: host.address, port: host.port, noDelay: true, allowHalfOpen: true }) : connectUpstreamTls(tls, host.address, host.port, undefined);
  let connected = false;
  let closed = 0;
  let flag = "";
  const onClose = () => {
    if (++closed < 2) return;
    ctx.inflight--;
    host.activeRequests--;
    cluster.stats.record(0, performance.now() - start, connected ? flag : "UF");
    if (tel !== undefined) tcpEnd(tel, down, connected ? (flag === "IDLE" ? "" : flag) : "UF", { cluster: cluster.name, host: host.key });
    if (ctx.draining && ctx.inflight === 0) ctx.onIdle?.();
  };
  if (cluster.connectTimeoutMs > 0) up.setTimeout(cluster.connectTimeoutMs);
  up.on(tls === undefined ? "connect" : "secureConnect", () => {
    connected = true;
    const idle = state.listener.tcp.idleTimeoutMs;
    up.setTimeout(idle);
    down.setTimeout(idle);
  });
  const abort = (f: string) => {
    flag ||= f;
    up.destroy();
    down.destroy();
  };
  up.on("timeout", () => abort(connected ? "IDLE" : "UF"));
  down.on("timeout", () => abort("IDLE"));
  up.on("error", () => abort(connected ? "UC" : "UF"));
  down.on("error", () => abort("DC"));
  // A clean end is forwarded by pipe(); a reset on one side resets the other.
  down.pipe(up);
  up.pipe(down);
  up.on("close", (hadError: boolean) => {
    if (hadError) down.destroy();
    onClose();
  });
  down.on("close", (hadError: boolean) => {
    if (hadError) up.destroy();
    onClose();
  });
}
