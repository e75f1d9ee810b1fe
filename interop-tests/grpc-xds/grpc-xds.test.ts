// Real peer: a proxyless gRPC client (@grpc/grpc-js-xds, an xDS implementation written elsewhere)
// resolves xds:///greeter.default.svc.cluster.local:50051 through weft's xDS server, whose snapshot is
// translated from the mesh model (IR). It must follow weft's weighted routes (80/20, then 20/80 after a
// config change, without restarting the client) and its retry policy (a backend that fails with
// UNAVAILABLE first succeeds on retry). A route the client refuses must come back as a NACK that weft
// records, while the client keeps the previous config.
import * as grpc from "@grpc/grpc-js";
import { register } from "@grpc/grpc-js-xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MeshModel } from "../../core/ir/model.ts";
import { createSnapshotCache } from "../../control/xds/cache.ts";
import { startXdsServer, type XdsNodeServer } from "../../control/xds/node/server.ts";
import { createSnapshot } from "../../control/xds/snapshot.ts";
import { createXdsStatus } from "../../control/xds/status.ts";
import { buildNodeResources } from "../../control/xds/translate/mesh-snapshot.ts";

const HOST = "greeter.default.svc.cluster.local";
const PORT = 50051;
const NODE_ID = "grpc-interop-client";
const V1 = `outbound|${PORT}|v1|${HOST}`;
const V2 = `outbound|${PORT}|v2|${HOST}`;
const FLAKY = `outbound|${PORT}|flaky|${HOST}`;

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const method = (path: string) => ({
  path, requestStream: false, responseStream: false,
  requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize,
});
const echoService = { call: method("/weft.interop.Echo/Call") };
const flakyService = { call: method("/weft.interop.Flaky/Call") };

interface Backend {
  port: number;
  flakyAttempts: Map<string, number>;
  server: grpc.Server;
}

async function startBackend(name: string): Promise<Backend> {
  const server = new grpc.Server();
  const flakyAttempts = new Map<string, number>();
  server.addService(echoService, { call: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(name)) });
  server.addService(flakyService, {
    call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const id = call.request.toString();
      const n = (flakyAttempts.get(id) ?? 0) + 1;
      flakyAttempts.set(id, n);
      if (n === 1) cb({ code: grpc.status.UNAVAILABLE, details: "first attempt fails" });
      else cb(null, Buffer.from(`${name}:ok:${n}`));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, flakyAttempts, server };
}

function model(a: Backend, b: Backend, weights: [number, number]): MeshModel {
  const cluster = (name: string, port: number) => ({
    name, service: "default/greeter", protocol: "grpc" as const, lb: { kind: "round-robin" as const },
    endpoints: [{ address: "127.0.0.1", port, health: "healthy" as const }], tls: { mode: "disable" as const },
  });
  return {
    trustDomain: "cluster.local", trustDomainAliases: [], rootNamespace: "istio-system",
    services: [{ id: "default/greeter", name: "greeter", namespace: "default", hosts: [HOST], ports: [{ port: PORT, protocol: "grpc" }] }],
    workloads: [],
    clusters: [cluster(V1, a.port), cluster(V2, b.port), cluster(FLAKY, a.port)],
    virtualHosts: [{
      name: "greeter",
      domains: [HOST],
      routes: [
        {
          name: "flaky",
          match: [{ path: { prefix: "/weft.interop.Flaky/" } }],
          action: { kind: "forward", destinations: [{ cluster: FLAKY, weight: 100 }], retry: { attempts: 3, retryOn: ["unavailable"], backoff: { baseMs: 10, maxMs: 50 } } },
        },
        {
          name: "split",
          match: [{ path: { prefix: "/" } }],
          action: { kind: "forward", destinations: [{ cluster: V1, weight: weights[0] }, { cluster: V2, weight: weights[1] }] },
        },
      ],
    }],
    authorization: [], requestAuthentication: [], peerAuthentication: [],
  };
}

describe("proxyless gRPC (grpc-js-xds) through weft's xDS server", () => {
  const cache = createSnapshotCache();
  const status = createXdsStatus();
  let xds: XdsNodeServer;
  let a: Backend;
  let b: Backend;
  type UnaryClient = grpc.Client & { call: (req: Buffer, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void };
  let client: UnaryClient;
  let flakyClient: UnaryClient;

  const publish = (weights: [number, number], label: string) =>
    cache.setSnapshot(NODE_ID, createSnapshot(buildNodeResources(model(a, b, weights), { kind: "grpc" }), label));

  const call = (c: UnaryClient, payload: string) =>
    new Promise<string>((resolve, reject) =>
      c.call(Buffer.from(payload), { deadline: Date.now() + 15_000 }, (err: grpc.ServiceError | null, res?: Buffer) => (err ? reject(err) : resolve(res!.toString()))));

  const split = async (n: number): Promise<{ A: number; B: number }> => {
    const counts = { A: 0, B: 0 };
    for (let i = 0; i < n; i += 20) {
      const batch = await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => call(client, "hi")));
      for (const r of batch) counts[r as "A" | "B"]++;
    }
    return counts;
  };

  beforeAll(async () => {
    a = await startBackend("A");
    b = await startBackend("B");
    xds = await startXdsServer({ watcher: cache, status });
    publish([80, 20], "r1");
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: xds.address, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
      node: { id: NODE_ID, cluster: "interop", locality: { zone: "z1" } },
    });
    register();
    const Echo = grpc.makeGenericClientConstructor(echoService, "Echo");
    const Flaky = grpc.makeGenericClientConstructor(flakyService, "Flaky");
    client = new Echo(`xds:///${HOST}:${PORT}`, grpc.credentials.createInsecure()) as unknown as UnaryClient;
    flakyClient = new Flaky(`xds:///${HOST}:${PORT}`, grpc.credentials.createInsecure()) as unknown as UnaryClient;
  });

  afterAll(async () => {
    client?.close();
    flakyClient?.close();
    a?.server.forceShutdown();
    b?.server.forceShutdown();
    await xds?.close();
  });

  it("follows the 80/20 weighted route", async () => {
    const { A, B } = await split(400);
    expect(A + B).toBe(400);
    expect(A / 400).toBeGreaterThan(0.7);
    expect(A / 400).toBeLessThan(0.9);
    const node = status.node(NODE_ID)!;
    expect(node.connected).toBe(true);
    expect(node.types.map((t) => t.type).sort()).toEqual(["CDS", "EDS", "LDS", "RDS"]);
    expect(node.types.every((t) => t.ackedVersion === t.sentVersion && !t.rejecting)).toBe(true);
  });

  it("retries UNAVAILABLE per weft's retry policy", async () => {
    for (const id of ["r-1", "r-2", "r-3"]) {
      expect(await call(flakyClient, id)).toBe("A:ok:2");
      expect(a.flakyAttempts.get(id)).toBe(2);
    }
  });

  it("picks up new weights without restarting the client", async () => {
    publish([20, 80], "r2");
    // Wait for the new route to take effect (the client ACKs RDS), then measure.
    for (let i = 0; i < 200; i++) {
      const rds = status.node(NODE_ID)!.types.find((t) => t.type === "RDS")!;
      if (rds.ackedVersion === cache.getSnapshot(NODE_ID)!.version("type.googleapis.com/envoy.config.route.v3.RouteConfiguration")) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await split(40); // let any call routed before the switch drain
    const { A, B } = await split(400);
    expect(A + B).toBe(400);
    expect(B / 400).toBeGreaterThan(0.7);
    expect(B / 400).toBeLessThan(0.9);
  });

  it("records the client's NACK of a route it refuses, and the client keeps the previous config", async () => {
    const before = status.node(NODE_ID)!.types.find((t) => t.type === "RDS")!.ackedVersion;
    publish([0, 0], "r3-bad");
    let rds = status.node(NODE_ID)!.types.find((t) => t.type === "RDS")!;
    for (let i = 0; i < 200 && !rds.rejecting; i++) {
      await new Promise((r) => setTimeout(r, 25));
      rds = status.node(NODE_ID)!.types.find((t) => t.type === "RDS")!;
    }
    expect(rds.rejecting).toBe(true);
    expect(rds.lastNack?.message).toMatch(/sum of weights is 0/);
    expect(rds.ackedVersion).toBe(before);
    expect(status.nacking().map((n) => n.id)).toEqual([NODE_ID]);
    const { A, B } = await split(100);
    expect(A + B).toBe(100);
    expect(B).toBeGreaterThan(A);
  });
});
