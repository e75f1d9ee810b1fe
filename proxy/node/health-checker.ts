/**
 * @module proxy/node/health-checker
 * The per-snapshot cluster tasks of the Node host: active health checks and outlier-detection sweeps.
 * Each host of a cluster with `healthChecks` is probed every `intervalMs` (the first probe at once):
 * HTTP (GET `path`, passing on `expectedStatuses` or 2xx), TCP (a connect), or gRPC (the standard
 * `grpc.health.v1.Health/Check`, passing on SERVING) — over mTLS when the cluster has `tls`. Results go
 * through the thresholds of `proxy/cluster/health.ts`; a change rebuilds the cluster's balancer so it
 * skips (or takes back) the host. Clusters with `outlierDetection` are swept every `intervalMs`.
 */
import { request } from "node:http";
import { connect as h2connect, constants } from "node:http2";
import { connect as netConnect } from "node:net";
import type { HealthCheck } from "../../core/ir/model.ts";
import type { ClusterRuntime } from "../cluster/cluster-manager.ts";
import { recordHealthCheck, statusPasses } from "../cluster/health.ts";
import type { UpstreamHost } from "../cluster/host.ts";
import type { Snapshot } from "../snapshot.ts";
import { connectUpstreamTls, upstreamTlsSettings, type UpstreamTlsSettings } from "./tls-identity.ts";
import type { SecretStore } from "./tls-secrets.ts";

export interface ClusterTasks {
  stop(): void;
}

type Probe = (host: UpstreamHost, check: HealthCheck, tls: UpstreamTlsSettings | undefined, cluster: string) => Promise<boolean>;

/** Starts health checks and outlier sweeps for a snapshot's clusters. */
export function startClusterTasks(snapshot: Snapshot, env: { secrets: SecretStore; log(line: string): void }): ClusterTasks {
  const timers: ReturnType<typeof setTimeout>[] = [];
  const cancels: (() => void)[] = [];
  let stopped = false;
  for (const c of snapshot.clusters.all()) {
    if (c.outlier !== undefined) {
      const t = setInterval(() => {
        if (c.outlier!.sweep(performance.now())) c.refreshHealth();
      }, Math.max(10, c.outlier.config.intervalMs));
      t.unref();
      timers.push(t);
    }
    for (const check of c.config.healthChecks ?? []) {
      const tls = upstreamTlsSettings(c.config, env.secrets);
      for (const host of c.hosts) {
        let next: ReturnType<typeof setTimeout> | undefined;
        cancels.push(() => clearTimeout(next));
        const run = () => {
          if (stopped) return;
          probeWithTimeout(PROBES[check.kind], host, check, tls, c).then((passed) => {
            if (stopped) return;
            if (recordHealthCheck(host, check, passed)) {
              env.log(`cluster ${c.name}: host ${host.key} is ${host.hcFailed ? "unhealthy" : "healthy"} (${check.kind} health check)`);
              c.refreshHealth();
            }
            next = setTimeout(run, Math.max(10, check.intervalMs));
            next.unref();
          }, () => undefined);
        };
        run();
      }
    }
  }
  return {
    stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      for (const c of cancels) c();
    },
  };
}

function probeWithTimeout(probe: Probe, host: UpstreamHost, check: HealthCheck, tls: UpstreamTlsSettings | undefined, c: ClusterRuntime): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(1, check.timeoutMs));
    timer.unref();
    probe(host, check, tls, c.name).then((ok) => {
      clearTimeout(timer);
      resolve(ok);
    }, () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

const tcpProbe: Probe = (host, check, tls) => new Promise((resolve) => {
  const s = tls ? connectUpstreamTls(tls, host.address, host.port, "http/1.1") : netConnect({ host: host.address, port: host.port });
  s.setTimeout(check.timeoutMs, () => s.destroy());
  s.once(tls ? "secureConnect" : "connect", () => {
    s.destroy();
    resolve(true);
  });
  s.once("error", () => resolve(false));
  s.once("close", () => resolve(false));
});

const httpProbe: Probe = (host, check, tls, cluster) => new Promise((resolve) => {
  const req = request({
    host: host.address, port: host.port, path: check.path ?? "/", method: "GET", agent: false,
    headers: { host: cluster, "user-agent": "weft-health-checker" },
    timeout: check.timeoutMs,
    ...(tls ? { createConnection: () => connectUpstreamTls(tls, host.address, host.port, "http/1.1") } : {}),
  }, (res) => {
    res.resume();
    resolve(statusPasses(check, res.statusCode ?? 0));
  });
  req.on("timeout", () => req.destroy());
  req.on("error", () => resolve(false));
  req.end();
});

/** `grpc.health.v1.HealthCheckRequest { string service = 1; }` in a gRPC frame. */
export function healthCheckRequestFrame(service: string): Buffer {
  const name = Buffer.from(service, "utf8");
  const msg = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

/** `HealthCheckResponse.status` (field 1, an enum; SERVING = 1) from a gRPC frame, or undefined. */
export function healthCheckStatus(frame: Buffer): number | undefined {
  if (frame.length < 5 || frame[0] !== 0) return undefined;
  const msg = frame.subarray(5, 5 + frame.readUInt32BE(1));
  let i = 0;
  let status = 0; // absent = UNKNOWN
  while (i < msg.length) {
    const key = msg[i++]!;
    const wire = key & 7;
    const [value, next] = readVarint(msg, i);
    if (wire === 0) {
      if (key >> 3 === 1) status = value;
      i = next;
    } else if (wire === 2) i = next + value;
    else return undefined;
  }
  return status;
}

const grpcProbe: Probe = (host, check, tls) => new Promise((resolve) => {
  const s = h2connect(`${tls ? "https" : "http"}://${host.key}`, tls ? { createConnection: () => connectUpstreamTls(tls, host.address, host.port, "h2") } : {});
  s.on("error", () => resolve(false));
  const st = s.request({
    ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc", te: "trailers",
  });
  const chunks: Buffer[] = [];
  let grpcStatus: string | undefined;
  st.on("response", (h) => (grpcStatus = h["grpc-status"] as string | undefined));
  st.on("trailers", (t) => (grpcStatus = (t["grpc-status"] as string | undefined) ?? grpcStatus));
  st.on("data", (c: Buffer) => chunks.push(c));
  st.on("end", () => {
    s.close();
    resolve(grpcStatus === "0" && healthCheckStatus(Buffer.concat(chunks)) === 1);
  });
  st.on("error", () => {
    s.destroy();
    resolve(false);
  });
  st.setTimeout(check.timeoutMs, () => st.close(constants.NGHTTP2_CANCEL));
  st.end(healthCheckRequestFrame(check.grpcService ?? ""));
});

const PROBES: Record<HealthCheck["kind"], Probe> = { tcp: tcpProbe, http: httpProbe, grpc: grpcProbe };

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

function readVarint(b: Buffer, i: number): [number, number] {
  let v = 0;
  let shift = 0;
  while (i < b.length) {
    const byte = b[i++]!;
    v |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
  }
  return [v >>> 0, i];
}
