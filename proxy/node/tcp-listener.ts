/**
 * @module proxy/node/tcp-listener
 * Plain TCP proxying for non-HTTP ports: each accepted connection gets an upstream host from the
 * cluster's load balancer and the two sockets are piped with backpressure. An idle timeout closes both
 * sides. Connect failures close the downstream (flag UF); stats record one entry per connection.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import type { ListenerRuntime, Snapshot } from "../snapshot.ts";
import type { HostContext } from "./exchange.ts";

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
  const server: Server = createServer({ noDelay: true, allowHalfOpen: true }, (down) => {
    open.add(down);
    down.on("close", () => open.delete(down));
    proxyConnection(handle.state, down);
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
      for (const s of open) s.destroy();
    },
  };
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

function proxyConnection(state: TcpListenerState, down: Socket): void {
  const start = performance.now();
  const ctx = state.ctx;
  const cluster = state.snapshot.clusters.get(state.listener.tcp.cluster);
  const host = cluster?.pick();
  if (cluster === undefined || host === undefined) {
    (cluster?.stats ?? ctx.noCluster).record(0, 0, cluster ? "UH" : "NC");
    down.on("error", () => undefined);
    down.destroy();
    return;
  }
  ctx.inflight++;
  host.activeRequests++;
  const up = connect({ host: host.address, port: host.port, noDelay: true, allowHalfOpen: true });
  let connected = false;
  let closed = 0;
  let flag = "";
  const onClose = () => {
    if (++closed < 2) return;
    ctx.inflight--;
    host.activeRequests--;
    cluster.stats.record(0, performance.now() - start, connected ? flag : "UF");
    if (ctx.draining && ctx.inflight === 0) ctx.onIdle?.();
  };
  if (cluster.connectTimeoutMs > 0) up.setTimeout(cluster.connectTimeoutMs);
  up.on("connect", () => {
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
