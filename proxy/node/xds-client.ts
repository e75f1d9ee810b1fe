/**
 * @module proxy/node/xds-client
 * The weft proxy as an xDS client: one ADS stream (state of the world) over gRPC to a control plane —
 * weft's, Consul's or istiod's. It identifies itself as an Envoy node (id, cluster, metadata, user
 * agent), subscribes to listeners and clusters, then to the route configs, load assignments and secrets
 * they reference (and always to its own SVID and trust bundle), translates every response
 * (`proxy/xds/`), and ACKs it once applied through the proxy's snapshot path — or NACKs it with the
 * reason, keeping the last good config serving. When the stream breaks the proxy keeps serving, and
 * reconnects with jittered exponential backoff; the control plane's answers on the new stream resync it.
 *
 * Credentials: the first connection may present a one-time join token (`authorization: Bearer`), and
 * verifies the server against a bootstrap bundle; once SDS has delivered the SVID and the bundle,
 * every reconnect presents the SVID as the TLS client certificate and trusts the delivered bundle.
 */
import { create } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { PeerCertificate } from "node:tls";
import { NodeSchema, type Node } from "../../gen/proto/envoy/config/core/v3/base_pb.ts";
import { AggregatedDiscoveryService } from "../../gen/proto/envoy/service/discovery/v3/ads_pb.ts";
import { DiscoveryRequestSchema, type DiscoveryRequest, type DiscoveryResponse } from "../../gen/proto/envoy/service/discovery/v3/discovery_pb.ts";
import type { ProxyConfig } from "../config/types.ts";
import { formatIssue, type XdsIssue } from "../xds/issues.ts";
import { applyResponse, assembleConfig, EMPTY_STATE, references, type AssembleOptions, type XdsState } from "../xds/state.ts";
import { TypeUrl, typeOfUrl, type ResourceType } from "../xds/type-urls.ts";

export interface XdsNodeIdentity {
  id: string;
  cluster: string;
  metadata?: Record<string, unknown>;
  locality?: { region?: string; zone?: string; subzone?: string };
}

export interface XdsClientOptions extends AssembleOptions {
  /** `https://host:port` (or `http://` on a trusted loopback only). */
  url: string;
  node: XdsNodeIdentity;
  /** Spent on the first successful connection; never sent again once the SVID has arrived. */
  joinToken?: string;
  /** PEM roots that verify the control plane until SDS delivers the trust bundle. */
  bootstrapCaPem?: string;
  /** Accepts the control plane's SPIFFE ID (default: any ID whose path is `/ns/weft-system/sa/weft-control`). */
  serverIdentity?: (spiffeId: string) => boolean;
  /** Names of the proxy's own SVID and trust bundle in SDS (Istio's: `default`, `ROOTCA`). */
  svidSecret?: string;
  bundleSecret?: string;
  apply(config: ProxyConfig): Promise<void>;
  log(line: string): void;
  backoff?: { baseMs?: number; maxMs?: number };
  random?: () => number;
  userAgentVersion?: string;
}

export interface TypeState {
  version: string;
  names: string[];
  lastNack?: { version: string; nonce: string; message: string; at: string };
}

export interface XdsClientStatus {
  server: string;
  node: XdsNodeIdentity;
  connected: boolean;
  connects: number;
  lastError?: string;
  /** What the applied config's version is, and what the latest accepted sets are still waiting for. */
  appliedVersion?: string;
  waitingFor: string[];
  types: Partial<Record<ResourceType, TypeState>>;
  /** Fields and filters weft left out (not NACKed), with resource and field path. */
  ignored: string[];
  /** `join-token` until the SVID has arrived, then `svid`. */
  credential: "join-token" | "svid" | "none";
}

export interface XdsClient {
  status(): XdsClientStatus;
  /** Resolves once a config from the control plane has been applied. */
  readonly firstApplied: Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_SERVER_PATH = "/ns/weft-system/sa/weft-control";

function uriSans(cert: PeerCertificate | undefined): string[] {
  return (cert?.subjectaltname ?? "").split(/,\s*/).filter((s) => s.startsWith("URI:")).map((s) => s.slice(4));
}

/**
 * Reconnect delay after `failures` consecutive failed attempts: exponential from `baseMs`, capped at
 * `maxMs`, with "equal jitter" (between half the step and the step) so proxies do not reconnect in step.
 */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
  return step / 2 + random() * (step / 2);
}

/** A request queue the gRPC call reads from. */
function requestQueue(): { push(r: DiscoveryRequest): void; close(): void; iterable: AsyncIterable<DiscoveryRequest> } {
  const items: DiscoveryRequest[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  return {
    push(r) {
      items.push(r);
      wake?.();
    },
    close() {
      closed = true;
      wake?.();
    },
    iterable: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (items.length) yield items.shift()!;
          if (closed) return;
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      },
    },
  };
}

/**
 * @example
 * const client = startXdsClient({ url: "https://127.0.0.1:15010", node: { id: "web-1", cluster: "web" }, joinToken,
 *   bootstrapCaPem, catalog, available, apply: (c) => server.apply(c), log: console.error });
 */
export function startXdsClient(o: XdsClientOptions): XdsClient {
  const svidName = o.svidSecret ?? "default";
  const bundleName = o.bundleSecret ?? "ROOTCA";
  const random = o.random ?? Math.random;
  const serverOk = o.serverIdentity ?? ((id: string) => id.startsWith("spiffe://") && new URL(id).pathname === DEFAULT_SERVER_PATH);
  let joinToken = o.joinToken;
  let state: XdsState = EMPTY_STATE;
  let appliedVersion: string | undefined;
  let waitingFor: string[] = [];
  let assemblyIgnored: XdsIssue[] = [];
  const types: Partial<Record<ResourceType, TypeState & { nonce: string }>> = {};
  const subs: Partial<Record<ResourceType, string[]>> = {};
  let connected = false;
  let connects = 0;
  let lastError: string | undefined;
  let stopped = false;
  let abort: AbortController | undefined;
  let sleepTimer: ReturnType<typeof setTimeout> | undefined;
  let wakeSleep: (() => void) | undefined;
  let resolveFirst!: () => void;
  const firstApplied = new Promise<void>((r) => (resolveFirst = r));

  const node: Node = create(NodeSchema, {
    id: o.node.id,
    cluster: o.node.cluster,
    ...(o.node.metadata ? { metadata: o.node.metadata as never } : {}),
    ...(o.node.locality ? { locality: { region: o.node.locality.region ?? "", zone: o.node.locality.zone ?? "", subZone: o.node.locality.subzone ?? "" } } : {}),
    userAgentName: "weft",
    userAgentVersionType: { case: "userAgentVersion", value: o.userAgentVersion ?? "0.1.0" },
    clientFeatures: ["envoy.lb.does_not_support_overprovisioning"],
  });

  const ownSecrets = () => {
    const svid = state.secrets.get(svidName)?.inline;
    const bundle = state.secrets.get(bundleName)?.inline;
    return svid?.certificateChain && svid.privateKey && bundle?.trustedCa ? { cert: svid.certificateChain, key: svid.privateKey, ca: bundle.trustedCa } : undefined;
  };

  const transportFor = (): { transport: Transport; headers: Record<string, string>; credential: XdsClientStatus["credential"] } => {
    const own = ownSecrets();
    const tls = o.url.startsWith("https:");
    const nodeOptions: Record<string, unknown> = {};
    const headers: Record<string, string> = {};
    let credential: XdsClientStatus["credential"] = "none";
    if (own) {
      Object.assign(nodeOptions, { cert: own.cert, key: own.key, ca: own.ca });
      credential = "svid";
    } else {
      if (o.bootstrapCaPem) nodeOptions.ca = o.bootstrapCaPem;
      if (joinToken) {
        headers.authorization = `Bearer ${joinToken}`;
        credential = "join-token";
      }
    }
    if (tls) {
      nodeOptions.checkServerIdentity = (_host: string, cert: PeerCertificate) => {
        const ids = uriSans(cert);
        return ids.some(serverOk) ? undefined : new Error(`the control plane presented ${ids.join(", ") || "no SPIFFE ID"}, which is not the expected control-plane identity`);
      };
    }
    const transport = createGrpcTransport({ baseUrl: o.url, nodeOptions, pingIntervalMs: 10_000, pingTimeoutMs: 5_000, idleConnectionTimeoutMs: 1_000 });
    return { transport, headers, credential };
  };

  const request = (type: ResourceType, fields: { nonce?: string; version?: string; error?: string }): DiscoveryRequest =>
    create(DiscoveryRequestSchema, {
      node,
      typeUrl: TypeUrl[type],
      versionInfo: fields.version ?? types[type]?.version ?? "",
      responseNonce: fields.nonce ?? types[type]?.nonce ?? "",
      resourceNames: subs[type] ?? [],
      ...(fields.error !== undefined ? { errorDetail: { code: 3, message: fields.error } } : {}),
    });

  /** Subscriptions follow what the accepted listeners and clusters reference (and our own secrets). */
  const resubscribe = (send: (r: DiscoveryRequest) => void, force: boolean) => {
    const refs = references(state);
    const wanted: Partial<Record<ResourceType, string[]>> = {
      route: refs.route,
      endpoint: refs.endpoint,
      secret: [...new Set([svidName, bundleName, ...refs.secret])].sort(),
    };
    for (const t of ["route", "endpoint", "secret"] as const) {
      const names = wanted[t]!;
      if (names.length === 0) continue; // an empty list would mean "everything" in state of the world
      if (!force && JSON.stringify(subs[t]) === JSON.stringify(names)) continue;
      subs[t] = names;
      send(request(t, {}));
    }
  };

  const handle = async (res: DiscoveryResponse, send: (r: DiscoveryRequest) => void): Promise<void> => {
    const type = typeOfUrl(res.typeUrl);
    if (!type) {
      send(create(DiscoveryRequestSchema, { node, typeUrl: res.typeUrl, responseNonce: res.nonce, errorDetail: { code: 3, message: `weft does not consume ${res.typeUrl}` } }));
      return;
    }
    const nack = (message: string) => {
      const t = types[type] ?? { version: "", names: [], nonce: "" };
      types[type] = { ...t, nonce: res.nonce, lastNack: { version: res.versionInfo, nonce: res.nonce, message, at: new Date().toISOString() } };
      o.log(`xDS: NACK ${type} version ${res.versionInfo}; version ${t.version || "(none)"} keeps serving:\n${message}`);
      send(request(type, { nonce: res.nonce, error: message }));
    };
    const r = applyResponse(state, type, res.resources, res.versionInfo, o, subs[type]);
    if (!r.ok) return nack(r.message);
    const a = assembleConfig(r.state, o);
    if (a.status === "invalid") return nack(a.message);
    if (a.status === "ready" && a.config.version !== appliedVersion) {
      try {
        await o.apply(a.config);
      } catch (err) {
        return nack(`the proxy could not apply version ${a.config.version}: ${(err as Error).message}`);
      }
      appliedVersion = a.config.version;
      resolveFirst();
    }
    state = r.state;
    waitingFor = a.status === "waiting" ? a.waitingFor : [];
    if (a.status === "ready") assemblyIgnored = a.ignored;
    const prev = types[type];
    types[type] = { version: res.versionInfo, nonce: res.nonce, names: res.resources.length ? [...(type === "endpoint" ? state.endpoints : type === "route" ? state.routes : type === "listener" ? state.listeners : type === "cluster" ? state.clusters : state.secrets).keys()] : [], ...(prev?.lastNack ? { lastNack: prev.lastNack } : {}) };
    send(request(type, { nonce: res.nonce, version: res.versionInfo }));
    if (joinToken && ownSecrets()) {
      joinToken = undefined; // the SVID authenticates from now on
      o.log("xDS: SVID received; reconnects authenticate with it");
    }
    resubscribe(send, false);
  };

  const runStream = async (onResponse: () => void): Promise<void> => {
    const { transport, headers, credential } = transportFor();
    if (credential === "none" && o.joinToken !== undefined) {
      throw new Error("no credential: the join token has been used and no SVID has arrived");
    }
    const client = createClient(AggregatedDiscoveryService, transport);
    const q = requestQueue();
    abort = new AbortController();
    let gotResponse = false;
    // A new stream: nonces of the old one mean nothing; the versions say what the proxy runs.
    for (const t of Object.values(types)) t.nonce = "";
    q.push(request("listener", {}));
    q.push(request("cluster", {}));
    resubscribe((r) => q.push(r), true);
    connects++;
    let chain = Promise.resolve();
    try {
      for await (const res of client.streamAggregatedResources(q.iterable, { headers, signal: abort.signal })) {
        if (!gotResponse) {
          gotResponse = true;
          onResponse();
          connected = true;
          lastError = undefined;
          o.log(`xDS: connected to ${o.url} as ${o.node.id} (${credential})`);
        }
        chain = chain.then(() => handle(res, (r) => q.push(r))).catch((err: unknown) => o.log(`xDS: ${(err as Error).message}`));
      }
      throw new Error("the control plane ended the stream");
    } finally {
      connected = false;
      q.close();
      await chain;
    }
  };

  const loop = async () => {
    let failures = 0;
    while (!stopped) {
      let responded = false;
      try {
        await runStream(() => (responded = true));
      } catch (err) {
        if (stopped) break;
        lastError = (err as Error).message;
        o.log(`xDS: stream to ${o.url} failed: ${lastError}; serving version ${appliedVersion ?? "(none)"}`);
      }
      if (responded) failures = 0;
      const delay = backoffDelay(failures++, o.backoff?.baseMs ?? 500, o.backoff?.maxMs ?? 30_000, random);
      await new Promise<void>((resolve) => {
        wakeSleep = resolve;
        sleepTimer = setTimeout(resolve, delay);
      });
    }
  };
  const running = loop();

  return {
    firstApplied,
    status() {
      const ignored = [...Object.values(state.ignored).flat(), ...assemblyIgnored].map(formatIssue);
      const ts: XdsClientStatus["types"] = {};
      for (const [t, v] of Object.entries(types)) ts[t as ResourceType] = { version: v.version, names: v.names, ...(v.lastNack ? { lastNack: v.lastNack } : {}) };
      return {
        server: o.url, node: o.node, connected, connects, ...(lastError ? { lastError } : {}),
        ...(appliedVersion ? { appliedVersion } : {}), waitingFor, types: ts, ignored,
        credential: ownSecrets() ? "svid" : joinToken ? "join-token" : "none",
      };
    },
    async stop() {
      stopped = true;
      abort?.abort();
      if (sleepTimer) clearTimeout(sleepTimer);
      wakeSleep?.();
      await running;
    },
  };
}
