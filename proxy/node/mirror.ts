/**
 * @module proxy/node/mirror
 * Request mirroring (Envoy's request_mirror_policies, Istio's `mirror`): a copy of the request — the
 * upstream head with `-shadow` appended to the authority's host, and the body the exchange kept — goes
 * to a host of the mirror cluster and its answer is drained and counted in that cluster's stats; it
 * never delays, changes or fails the real request. Mirrors use node's own clients with a keep-alive
 * agent (HTTP/1.1) or session (HTTP/2) per host, since shadow traffic is a small share.
 */
import { Agent, request } from "node:http";
import { connect as h2connect, type ClientHttp2Session } from "node:http2";
import type { ClusterRuntime } from "../cluster/cluster-manager.ts";
import type { UpstreamHost } from "../cluster/host.ts";
import type { Exchange } from "./exchange.ts";
import { upstreamHeaderObject } from "./headers.ts";
import { connectUpstreamTls, upstreamTlsSettings } from "./tls-identity.ts";

const agents = new WeakMap<UpstreamHost, Agent>();
const sessions = new WeakMap<UpstreamHost, ClientHttp2Session>();

/** `host:port` → `host-shadow:port`, as Envoy names the mirrored authority. */
export function shadowAuthority(authority: string): string {
  const m = /^(\[[^\]]+\]|[^:]+)(:\d+)?$/.exec(authority);
  return m ? `${m[1]}-shadow${m[2] ?? ""}` : `${authority}-shadow`;
}

export function mirror(ex: Exchange, cluster: ClusterRuntime): void {
  const host = cluster.pick();
  if (host === undefined) return;
  const start = performance.now();
  const headers = upstreamHeaderObject(ex.rawHeaders, ex.info.connectionTokens);
  delete headers["content-length"];
  if (ex.forwardedFor !== undefined) headers["x-forwarded-for"] = ex.forwardedFor;
  if (ex.requestId !== undefined) headers["x-request-id"] = ex.requestId;
  const body = ex.body === null ? undefined : Buffer.concat(ex.body);
  const done = (status: number, flag: string) => cluster.stats.record(status, performance.now() - start, flag);
  const tls = upstreamTlsSettings(cluster.config, ex.state.ctx.secrets);
  if (cluster.upstreamProtocol === "h2") {
    let s = sessions.get(host);
    if (s === undefined || s.closed || s.destroyed) {
      s = h2connect(`${tls ? "https" : "http"}://${host.key}`, tls ? { createConnection: () => connectUpstreamTls(tls, host.address, host.port, "h2") } : {});
      s.on("error", () => undefined);
      s.unref();
      sessions.set(host, s);
    }
    const st = s.request({ ...headers, ":method": ex.method, ":path": ex.upstreamTarget, ":authority": shadowAuthority(ex.upstreamAuthority) }, { endStream: body === undefined });
    let status = 0;
    st.on("response", (h) => (status = Number(h[":status"])));
    st.on("error", () => done(503, "UF"));
    st.on("end", () => done(status, ""));
    st.resume();
    if (body !== undefined) st.end(body);
    return;
  }
  let agent = agents.get(host);
  if (agent === undefined) {
    agent = new Agent({ keepAlive: true, maxSockets: 64 });
    agents.set(host, agent);
  }
  if (body !== undefined) headers["content-length"] = String(body.length);
  headers.host = shadowAuthority(ex.upstreamAuthority);
  const req = request({
    host: host.address, port: host.port, method: ex.method, path: ex.upstreamTarget, headers, agent,
    ...(tls ? { createConnection: () => connectUpstreamTls(tls, host.address, host.port, "http/1.1") } : {}),
  }, (res) => {
    res.resume();
    res.on("end", () => done(res.statusCode ?? 0, ""));
    res.on("error", () => done(res.statusCode ?? 0, "UC"));
  });
  req.on("error", () => done(503, "UF"));
  req.end(body);
}
