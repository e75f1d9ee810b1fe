/**
 * @module edge/workerd/worker
 * The weft edge proxy as a workerd worker (ES module `fetch` handler): the fetch-host core with the
 * plugin filter chain, its config pulled from the control plane's feed and cached (in memory and, with
 * a `CONFIG_CACHE` disk-directory binding, on disk across restarts), served under a stale config when
 * the control plane is unreachable — the admin route says so in `x-weft-config-source`. Upstreams that
 * need mutual TLS are external-server bindings generated into the `.capnp` (workerd presents the SVID
 * from there); other upstreams are reached with the global `fetch`. Access-log records go to stdout.
 *
 * Bindings (text unless noted): WEFT_FEED_URL, WEFT_FEED_TOKEN, WEFT_ADMIN_PREFIX (default /__weft),
 * WEFT_LISTENER (which HTTP listener of the config to serve; default the first),
 * WEFT_UPSTREAMS (JSON: `{"host:port": "http:BINDING" | "https:BINDING"}`), WEFT_ACCESS_LOG ("1" prints records), WEFT_FEED_REFRESH_MS (default 10000),
 * CONFIG_CACHE (service: a writable disk directory), and one service binding per mTLS upstream.
 */
import { createFeedClient, type ConfigCache, type FeedClient } from "../config/feed-client.ts";
import { createFetchProxy, type FetchProxy, type UpstreamFetch } from "../fetch-host/fetch-proxy.ts";
import { httpFilters } from "../../plugins/registry.ts";

interface ServiceBinding {
  fetch(request: Request): Promise<Response>;
}

export interface Env {
  WEFT_FEED_URL: string;
  WEFT_FEED_TOKEN?: string;
  WEFT_ADMIN_PREFIX?: string;
  WEFT_LISTENER?: string;
  WEFT_UPSTREAMS?: string;
  WEFT_ACCESS_LOG?: string;
  WEFT_FEED_REFRESH_MS?: string;
  CONFIG_CACHE?: ServiceBinding;
  [binding: string]: unknown;
}

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

let state: { proxy: FetchProxy; feed: FeedClient } | undefined;

function diskCache(dir: ServiceBinding): ConfigCache {
  const url = "http://config-cache/edge-config.json";
  return {
    async read() {
      const res = await dir.fetch(new Request(url));
      if (res.status !== 200) {
        await res.body?.cancel();
        return undefined;
      }
      return res.text();
    },
    async write(text) {
      const res = await dir.fetch(new Request(url, { method: "PUT", body: text }));
      await res.body?.cancel();
      if (!res.ok) throw new Error(`disk cache answered ${res.status}`);
    },
  };
}

function upstreamFor(env: Env): UpstreamFetch {
  const bindings = JSON.parse(env.WEFT_UPSTREAMS ?? "{}") as Record<string, string>;
  return (_cluster, host, request, authority) => {
    const entry = bindings[host.key];
    const target = new URL(request.url);
    if (entry !== undefined) {
      const [scheme, name] = entry.split(":") as [string, string];
      const binding = env[name] as ServiceBinding | undefined;
      if (binding === undefined) return Promise.reject(new Error(`no service binding ${name} for upstream ${host.key}`));
      // An external-server binding connects to its configured address; the URL carries the Host.
      return binding.fetch(new Request(`${scheme}://${authority}${target.pathname}${target.search}`, request));
    }
    return fetch(new Request(`http://${host.key}${target.pathname}${target.search}`, request));
  };
}

function init(env: Env): { proxy: FetchProxy; feed: FeedClient } {
  const holder: { feed?: FeedClient } = {};
  const proxy = createFetchProxy({
    filters: httpFilters,
    upstream: upstreamFor(env),
    adminPrefix: env.WEFT_ADMIN_PREFIX ?? "/__weft",
    ...(env.WEFT_LISTENER ? { listener: env.WEFT_LISTENER } : {}),
    adminHeaders: () => holder.feed?.headers() ?? {},
    log: (line) => console.error(`weft-edge: ${line}`),
    ...(env.WEFT_ACCESS_LOG === "1" ? { accessLog: (r) => console.log(JSON.stringify(r)) } : {}),
  });
  const feed = createFeedClient({
    url: env.WEFT_FEED_URL,
    ...(env.WEFT_FEED_TOKEN ? { token: env.WEFT_FEED_TOKEN } : {}),
    ...(env.CONFIG_CACHE ? { cache: diskCache(env.CONFIG_CACHE) } : {}),
    filters: httpFilters,
    apply: (config) => proxy.apply(config),
    ...(env.WEFT_FEED_REFRESH_MS ? { refreshMs: Number(env.WEFT_FEED_REFRESH_MS) } : {}),
    log: (line) => console.error(`weft-edge: ${line}`),
  });
  holder.feed = feed;
  return { proxy, feed };
}

function remoteAddress(request: Request): string {
  const ip = (request as Request & { cf?: { clientIp?: string } }).cf?.clientIp ?? "";
  const v6 = /^\[(.*)\]:\d+$/.exec(ip);
  if (v6) return v6[1]!;
  return /^[\d.]+:\d+$/.test(ip) ? ip.slice(0, ip.lastIndexOf(":")) : ip;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    state ??= init(env);
    const { proxy, feed } = state;
    // The first request waits for a config; later ones refresh in the background.
    if (proxy.snapshot() === undefined) await feed.ensureFresh();
    else ctx.waitUntil(feed.ensureFresh());
    const scheme = new URL(request.url).protocol === "https:" ? "https" : "http";
    return proxy.handle(request, { remoteAddress: remoteAddress(request), scheme });
  },
};
