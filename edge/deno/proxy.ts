/**
 * @module edge/deno/proxy
 * The weft proxy on Deno (`deno task proxy ...`): the fetch-host core on `Deno.serve` (plain or TLS),
 * or — when client certificates are required — on `node:https` through Deno's Node compatibility,
 * because `Deno.serve`/`Deno.listenTls` in Deno 2.9 cannot request a client certificate. Config comes
 * from a file (a proxy config YAML, or an edge document JSON) or from the control plane's feed, cached
 * in a file so a restart without the control plane serves the last good config. Upstream mutual TLS
 * uses `Deno.createHttpClient({ cert, key, caCerts })`, one client per endpoint. Access-log records are
 * printed to stdout as JSON lines; the first stdout line is `listening on <url>`.
 *
 *   deno task proxy --feed http://127.0.0.1:15000/v1/edge/config?node=edge --feed-token T --listen 127.0.0.1:8080
 *   deno task proxy --config proxy.yaml
 *   flags: --cache FILE  --listener NAME (which HTTP listener of the config; default the first)  --tls-cert F --tls-key F [--client-ca F]
 *          --upstream-cert F --upstream-key F --upstream-ca F --upstream-server-name NAME --upstream-tls-cluster NAME (repeatable)
 */
import { createFeedClient } from "../config/feed-client.ts";
import { describeDiagnostics, loadEdgeDocument } from "../config/edge-config.ts";
import { createFetchProxy, type UpstreamFetch } from "../fetch-host/fetch-proxy.ts";
import { serveOnNode } from "../node-listener/serve-node.ts";
import { httpFilters } from "../../plugins/registry.ts";

function flags(argv: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) continue;
    const next = argv[i + 1];
    const value = next === undefined || next.startsWith("--") ? "true" : (i++, next);
    m.set(a.slice(2), [...(m.get(a.slice(2)) ?? []), value]);
  }
  return m;
}

const USAGE = `usage: deno task proxy (--config FILE | --feed URL [--feed-token T] [--cache FILE] [--refresh-ms MS]) [--listen HOST:PORT]
  --config FILE            a proxy config file (YAML) or an edge document (JSON: { version, proxy })
  --feed URL               the control plane's edge feed, e.g. http://127.0.0.1:15000/v1/edge/config?node=edge
  --cache FILE             keep the last good config from the feed here (served when the control plane is unreachable)
  --listen HOST:PORT       default: the listener's address in the config
  --listener NAME          which HTTP listener of the config to serve (default: the first)
  --admin-prefix PATH      admin routes on the proxy's port (default /__weft)
  --tls-cert F --tls-key F [--client-ca F]    HTTPS; with --client-ca, client certificates are required
  --upstream-tls-cluster NAME (repeatable) --upstream-cert F --upstream-key F --upstream-ca F [--upstream-server-name NAME]`;
if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(USAGE);
  Deno.exit(0);
}

const args = flags(Deno.args);
const one = (name: string) => args.get(name)?.at(-1);
const read = (name: string) => {
  const f = one(name);
  return f === undefined ? undefined : Deno.readTextFileSync(f);
};
const log = (line: string) => console.error(`weft-proxy: ${line}`);

function upstream(): UpstreamFetch {
  const plain = Deno.createHttpClient({ allowHost: true });
  const tlsClusters = new Set(args.get("upstream-tls-cluster") ?? []);
  const cert = read("upstream-cert");
  const key = read("upstream-key");
  const ca = read("upstream-ca");
  const serverName = one("upstream-server-name");
  const clients = new Map<string, Deno.HttpClient>();
  return (cluster, host, request, authority) => {
    const target = new URL(request.url);
    if (tlsClusters.has(cluster.name) && cert && key && ca) {
      let client = clients.get(host.key);
      if (client === undefined) {
        // The TLS name checked is the URL's host; the TCP connection goes to the endpoint itself.
        client = Deno.createHttpClient({ cert, key, caCerts: [ca], proxy: { transport: "tcp", hostname: host.address, port: host.port } });
        clients.set(host.key, client);
      }
      const name = serverName ?? host.address;
      return fetch(new Request(`https://${name}:${host.port}${target.pathname}${target.search}`, request), { client });
    }
    // The exchange builds a fresh Request per try: set the Host on it rather than copying it again.
    request.headers.set("host", authority);
    return fetch(request, { client: plain });
  };
}

let feedHeaders: () => Record<string, string> = () => ({});
const proxy = createFetchProxy({
  filters: httpFilters,
  upstream: upstream(),
  adminPrefix: one("admin-prefix") ?? "/__weft",
  ...(one("listener") !== undefined ? { listener: one("listener")! } : {}),
  adminHeaders: () => feedHeaders(),
  accessLog: (record) => console.log(JSON.stringify(record)),
  log,
});

const configFile = one("config");
const feedUrl = one("feed");
if (configFile !== undefined) {
  const text = Deno.readTextFileSync(configFile);
  const doc = configFile.endsWith(".json") ? JSON.parse(text) : { version: "file", proxy: text };
  const r = loadEdgeDocument(doc, configFile, httpFilters);
  if (!r.ok) {
    console.error(describeDiagnostics(r.diagnostics));
    Deno.exit(1);
  }
  proxy.apply(r.config);
} else if (feedUrl !== undefined) {
  const cacheFile = one("cache");
  const token = one("feed-token");
  const feed = createFeedClient({
    url: feedUrl,
    ...(token ? { token } : {}),
    filters: httpFilters,
    apply: (c) => proxy.apply(c),
    log,
    refreshMs: Number(one("refresh-ms") ?? 5000),
    ...(cacheFile
      ? { cache: { read: () => Deno.readTextFile(cacheFile).catch(() => undefined), write: async (t: string) => { await Deno.writeTextFile(`${cacheFile}.tmp`, t); await Deno.rename(`${cacheFile}.tmp`, cacheFile); } } }
      : {}),
  });
  feedHeaders = () => feed.headers();
  await feed.refresh();
  setInterval(() => void feed.ensureFresh(), Number(one("refresh-ms") ?? 5000));
} else {
  console.error(`give --config FILE or --feed URL\n${USAGE}`);
  Deno.exit(2);
}

const listenText = one("listen") ?? (() => {
  const l = proxy.snapshot()?.config.listeners[0];
  return l ? `${l.address}:${l.port}` : "127.0.0.1:8080";
})();
const colon = listenText.lastIndexOf(":");
const hostname = listenText.slice(0, colon).replace(/^\[|\]$/g, "");
const port = Number(listenText.slice(colon + 1));
const tlsCert = read("tls-cert");
const tlsKey = read("tls-key");
const clientCa = read("client-ca");

if (clientCa !== undefined && tlsCert && tlsKey) {
  const l = await serveOnNode({ host: hostname, port, handler: (r, i) => proxy.handle(r, i), tls: { cert: tlsCert, key: tlsKey, clientCa } });
  console.log(`listening on https://${hostname}:${l.port}`);
} else {
  const server = Deno.serve({
    hostname, port,
    ...(tlsCert && tlsKey ? { cert: tlsCert, key: tlsKey } : {}),
    onListen: (addr) => console.log(`listening on ${tlsCert ? "https" : "http"}://${addr.hostname}:${addr.port}`),
  }, (request, info) => proxy.handle(request, { remoteAddress: info.remoteAddr.hostname, scheme: tlsCert ? "https" : "http" }));
  Deno.addSignalListener("SIGTERM", () => {
    proxy.draining = true;
    void server.shutdown().then(() => Deno.exit(0));
  });
}
