/**
 * @module control/node/xds-extension
 * The xDS server as a control-plane extension for weft proxies and Envoy sidecars: ADS (state of the
 * world and delta) over TLS, fed from the registry and the config store (`control/xds/mesh-model.ts`).
 * Every stream is authenticated before its first request reaches the xDS handlers. A proxy's first
 * connection presents a one-time join token (`authorization: Bearer <token>` metadata); the token is
 * spent and binds the node id to the token's SPIFFE ID. SDS then delivers an SVID for that identity
 * (`default`, key made here) and the trust bundle (`ROOTCA`), and later connections authenticate with
 * that SVID as the TLS client certificate — the token is never needed again, also across control-plane
 * restarts (the CA's state persists). A node id bound to one identity is refused to every other. SVIDs
 * are renewed at half-life and re-published, so proxies rotate over SDS.
 */
import type { TLSSocket } from "node:tls";
import { Code, ConnectError, createContextKey, createContextValues, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { AggregatedDiscoveryService } from "../../gen/proto/envoy/service/discovery/v3/ads_pb.ts";
import type { Node } from "../../gen/proto/envoy/config/core/v3/base_pb.ts";
import { tryParseSpiffeId } from "../../core/identity/spiffe.ts";
import type { MeshModel, Workload } from "../../core/ir/model.ts";
import { AttestationError } from "../ca/join-tokens.ts";
import { renewalTime } from "../ca/authority.ts";
import { generateKeyPair, privateKeyToPem } from "../ca/keys.ts";
import { xdsMeshStatus } from "../xds/admin-status.ts";
import { buildMeshModel, MESH_CONFIG_KINDS } from "../xds/mesh-model.ts";
import { createMeshPublisher } from "../xds/publisher.ts";
import { createXdsStatus } from "../xds/status.ts";
import { deltaStream } from "../xds/delta-stream.ts";
import { sotwStream } from "../xds/sotw-stream.ts";
import { type StreamOptions } from "../xds/stream-common.ts";
import { mapErrors } from "../xds/ads-service.ts";
import type { SidecarProfile } from "../xds/translate/mesh-snapshot.ts";
import type { ControlPlaneExtension, ControlPlaneParts, RunningExtension } from "./control-plane.ts";
import { startGrpcServer } from "./grpc-server.ts";

/** The path of the control plane's own SPIFFE ID (its serving certificate), which proxies check. */
export const CONTROL_PLANE_ID_PATH = "/ns/weft-system/sa/weft-control";

export interface XdsExtensionOptions {
  host?: string;
  port?: number;
  /** Where sidecar listeners bind (default 0.0.0.0). */
  listenAddress?: string;
  /** Inbound port for a service's target port (default port + 10000). */
  inboundPort?: (port: number) => number;
  /** Where the application listens (default 127.0.0.1). */
  appAddress?: string;
  /** Lifetime of the SVIDs handed out over SDS (default the CA's). */
  svidTtlMs?: number;
}

const kPeer = createContextKey<string | undefined>(undefined, { description: "the verified TLS peer's SPIFFE ID" });

function peerSpiffeId(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const uris = (socket.getPeerCertificate()?.subjectaltname ?? "").split(/,\s*/).filter((s) => s.startsWith("URI:")).map((s) => s.slice(4));
  const ids = uris.filter((u) => tryParseSpiffeId(u) !== undefined);
  return ids.length === 1 ? ids[0] : undefined;
}

interface Svid {
  chainPem: string[];
  keyPem: string;
  renewAt: number;
}

/**
 * @example
 * await startControlPlane({ dataDir, admin, extensions: [xdsExtension({ port: 15010 })] });
 */
export function xdsExtension(options: XdsExtensionOptions = {}): ControlPlaneExtension {
  return (parts) => startXdsExtension(parts, options);
}

async function startXdsExtension(parts: ControlPlaneParts, options: XdsExtensionOptions): Promise<RunningExtension> {
  const { ca, joinTokens, registry, store, trustDomain, log } = parts;
  const status = createXdsStatus();
  const bindings = new Map<string, string>();
  const svids = new Map<string, Promise<Svid>>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  /** SVIDs by SPIFFE ID of the nodes bound so far (what their snapshots carry). */
  const ready = new Map<string, Svid>();
  let model: MeshModel;
  let revision = 0;

  const rebuild = () => {
    const objects = MESH_CONFIG_KINDS.flatMap((kind) => store.list({ kind }).map((r) => r.object as Record<string, unknown>));
    const built = buildMeshModel({ registry: registry.snapshot(), objects, trustDomain });
    for (const d of built.diagnostics) if (d.severity === "error") log(`xDS: ${d.object ?? ""} ${d.path ?? ""}: ${d.message}`);
    model = built.model;
    revision++;
    const refused = publisher.update(model, `rev-${revision}`);
    for (const k of refused) log(`xDS: node ${k} keeps its previous config (the new one is inconsistent)`);
  };

  const issue = async (spiffeId: string): Promise<Svid> => {
    const keys = await generateKeyPair();
    const s = await ca.issue({ spiffeId, publicKey: keys.publicKey, ...(options.svidTtlMs ? { ttlMs: options.svidTtlMs } : {}) });
    const renewAt = renewalTime(s.notBefore, s.notAfter);
    const timer = setTimeout(() => {
      timers.delete(timer);
      const next = issue(spiffeId);
      next.then((renewed) => {
        svids.set(spiffeId, next);
        if (ready.has(spiffeId)) ready.set(spiffeId, renewed);
        rebuild();
        log(`xDS: SVID for ${spiffeId} renewed`);
      }, (err: unknown) => log(`xDS: renewing the SVID of ${spiffeId} failed: ${(err as Error).message}`));
    }, Math.max(1000, renewAt - Date.now()));
    timer.unref();
    timers.add(timer);
    return { chainPem: s.chainPem, keyPem: await privateKeyToPem(keys.privateKey), renewAt };
  };

  const svidFor = (spiffeId: string): Promise<Svid> => {
    let p = svids.get(spiffeId);
    if (!p) {
      p = issue(spiffeId);
      svids.set(spiffeId, p);
      p.catch(() => svids.delete(spiffeId));
    }
    return p;
  };
  const workloadFor = (spiffeId: string, node: { id: string; metadata?: Record<string, unknown> }): Workload => {
    const named = typeof node.metadata?.WORKLOAD_NAME === "string" ? node.metadata.WORKLOAD_NAME : undefined;
    const mine = model.workloads.filter((w) => w.identity === spiffeId);
    const w = mine.find((x) => x.name === named) ?? mine[0];
    if (w) return w;
    const segs = (tryParseSpiffeId(spiffeId)?.path ?? "").split("/").filter(Boolean);
    const ns = segs[0] === "ns" ? (segs[1] ?? "default") : "default";
    const sa = segs[2] === "sa" ? (segs[3] ?? "default") : "default";
    return { id: `${ns}/${node.id}`, name: node.id, namespace: ns, labels: {}, serviceAccount: sa, identity: spiffeId, addresses: [] };
  };

  const publisher = createMeshPublisher({
    profileFor(node): SidecarProfile | null {
      const id = bindings.get(node.id);
      const svid = id ? ready.get(id) : undefined;
      if (!id || !svid) return null;
      return {
        kind: "sidecar",
        workload: workloadFor(id, node),
        svid: { chainPem: svid.chainPem, keyPem: svid.keyPem },
        trustBundle: ca.trustBundle(),
        ...(options.listenAddress ? { listenAddress: options.listenAddress } : {}),
        ...(options.inboundPort ? { inboundPort: options.inboundPort } : {}),
        ...(options.appAddress ? { appAddress: options.appAddress } : {}),
      };
    },
    onError: (key, err) => log(`xDS: snapshot for ${key} refused: ${err.message}`),
  });
  rebuild();
  const unsubscribe = [registry.subscribe(() => rebuild()), store.watch(store.revision(), () => rebuild())];

  /** Who the stream's peer is: its SVID, or the SPIFFE ID its join token grants (spending the token). */
  const authenticate = async (node: Node, ctx: HandlerContext): Promise<string> => {
    let id = ctx.values.get(kPeer);
    if (id === undefined) {
      const m = /^Bearer[ \t]+(\S+)$/i.exec(ctx.requestHeader.get("authorization") ?? "");
      if (!m) throw new ConnectError("present an SVID as the TLS client certificate, or a join token (authorization: Bearer <token>)", Code.Unauthenticated);
      try {
        id = await joinTokens.attest(m[1]!, (granted) => {
          const owner = bindings.get(node.id);
          if (owner !== undefined && owner !== granted) throw new ConnectError(`node id ${node.id} belongs to ${owner}, not ${granted}`, Code.PermissionDenied);
        });
      } catch (err) {
        if (err instanceof AttestationError) throw new ConnectError(`join token refused: ${err.message}`, Code.Unauthenticated);
        throw err;
      }
      log(`xDS: node ${node.id} joined as ${id} with a join token`);
    }
    const bound = bindings.get(node.id);
    if (bound !== undefined && bound !== id) throw new ConnectError(`node id ${node.id} belongs to ${bound}, not ${id}`, Code.PermissionDenied);
    ready.set(id, await svidFor(id));
    bindings.set(node.id, id);
    return id;
  };

  async function* authenticated<Req extends { node?: Node }>(requests: AsyncIterable<Req>, ctx: HandlerContext): AsyncGenerator<Req> {
    const it = requests[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) return;
    const node = first.value.node;
    if (!node?.id) throw new ConnectError("the first request must carry the node id", Code.InvalidArgument);
    await authenticate(node, ctx);
    yield first.value;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }

  const streamOptions: StreamOptions = { watcher: publisher.cache, status };
  const routes = (router: ConnectRouter) => {
    router.service(AggregatedDiscoveryService, {
      streamAggregatedResources: (requests, ctx) => mapErrors(sotwStream(authenticated(requests, ctx), streamOptions, ctx.signal)),
      deltaAggregatedResources: (requests, ctx) => mapErrors(deltaStream(authenticated(requests, ctx), streamOptions, ctx.signal)),
    });
  };

  const serverId = `spiffe://${trustDomain}${CONTROL_PLANE_ID_PATH}`;
  const keys = await generateKeyPair();
  const cert = await ca.issue({ spiffeId: serverId, publicKey: keys.publicKey });
  const server = await startGrpcServer(routes, {
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    tls: {
      certPem: cert.chainPem.slice(0, -1).join(""),
      keyPem: await privateKeyToPem(keys.privateKey),
      caPem: ca.trustBundle(),
      requestClientCert: true,
    },
    contextValues: (req) => createContextValues().set(kPeer, peerSpiffeId(req.socket as TLSSocket)),
  });
  log(`xDS server on https://${server.address} as ${serverId}`);
  return {
    name: "xDS",
    url: `https://${server.address}`,
    mesh: xdsMeshStatus(status),
    async close() {
      for (const u of unsubscribe) u();
      for (const t of timers) clearTimeout(t);
      await server.close();
    },
  };
}
