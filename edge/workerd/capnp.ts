/**
 * @module edge/workerd/capnp
 * Generates the workerd config (`.capnp` text) for the edge proxy worker: the worker with its text
 * bindings, a socket (plain HTTP, or HTTPS with an optional client-certificate requirement), the
 * `internet` network the worker's global `fetch` uses (loopback and private addresses allowed: mesh
 * services live there), an optional writable disk directory as the config cache, and one external
 * HTTPS server per mTLS upstream endpoint carrying the workload's SVID as the TLS client keypair.
 *
 * File names given for `embed` (worker, certificates, keys) are relative to the config file's directory.
 * workerd's TLS configuration is static: mTLS upstreams (and the certificates) are fixed when the
 * config is generated; rotating the SVID means regenerating the file and restarting workerd.
 */

export interface MtlsUpstream {
  /** `address:port` of the endpoint, as the proxy config names it. */
  endpoint: string;
  /** Host name the server's certificate must carry as a DNS SAN (workerd checks names, not SPIFFE URIs). */
  certificateHost: string;
}

export interface WorkerdConfigOptions {
  /** The bundled worker module (path relative to the config file, or absolute). */
  workerFile: string;
  compatibilityDate: string;
  /** Socket address, e.g. `127.0.0.1:8787` (`:0` lets workerd pick; read it from the control fd). */
  listen: string;
  feedUrl: string;
  feedToken?: string;
  /** How long a pulled config is fresh before the next request refreshes it (default 10 s). */
  feedRefreshMs?: number;
  adminPrefix?: string;
  /** Which HTTP listener of the proxy config the worker serves (default: the first). */
  listener?: string;
  accessLog?: boolean;
  /** A writable directory for the config cache (it must exist; absolute, or relative to where workerd runs). */
  cacheDir?: string;
  /** Serve HTTPS with these files; `clientCaFile` additionally requires client certificates from that CA. */
  inboundTls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /**
   * Plaintext upstream endpoints (`address:port`) to reach through external-server bindings instead of
   * the global `fetch`: a binding sends the request's own Host header, the global `fetch` cannot.
   */
  plainUpstreams?: string[];
  /** Upstream mTLS: the SVID presented to every endpoint below, and the roots that verify them. */
  upstreamTls?: { certFile: string; keyFile: string; caFile: string; endpoints: MtlsUpstream[] };
}

const q = (s: string) => JSON.stringify(s);

/** The binding name of an mTLS upstream endpoint. */
export function upstreamBindingName(endpoint: string): string {
  return `UPSTREAM_${endpoint.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/**
 * @example
 * await writeFile("edge.capnp", workerdConfig({ workerFile: "worker.js", compatibilityDate: "2025-06-01", listen: "127.0.0.1:8787", feedUrl }));
 */
export function workerdConfig(o: WorkerdConfigOptions): string {
  const services: string[] = [
    `(name = "edge", worker = .edgeWorker)`,
    `(name = "internet", network = (allow = ["public", "private", "local"]))`,
  ];
  const bindings: string[] = [
    `(name = "WEFT_FEED_URL", text = ${q(o.feedUrl)})`,
    `(name = "WEFT_ADMIN_PREFIX", text = ${q(o.adminPrefix ?? "/__weft")})`,
  ];
  if (o.listener) bindings.push(`(name = "WEFT_LISTENER", text = ${q(o.listener)})`);
  if (o.feedToken) bindings.push(`(name = "WEFT_FEED_TOKEN", text = ${q(o.feedToken)})`);
  if (o.feedRefreshMs !== undefined) bindings.push(`(name = "WEFT_FEED_REFRESH_MS", text = ${q(String(o.feedRefreshMs))})`);
  if (o.accessLog) bindings.push(`(name = "WEFT_ACCESS_LOG", text = "1")`);
  if (o.cacheDir) {
    services.push(`(name = "config-cache", disk = (path = ${q(o.cacheDir)}, writable = true))`);
    bindings.push(`(name = "CONFIG_CACHE", service = "config-cache")`);
  }
  const upstreamMap: Record<string, string> = {};
  for (const endpoint of o.plainUpstreams ?? []) {
    const name = upstreamBindingName(endpoint);
    upstreamMap[endpoint] = `http:${name}`;
    services.push(`(name = ${q(name.toLowerCase())}, external = (address = ${q(endpoint)}, http = ()))`);
    bindings.push(`(name = ${q(name)}, service = ${q(name.toLowerCase())})`);
  }
  if (o.upstreamTls) {
    const t = o.upstreamTls;
    for (const up of t.endpoints) {
      const name = upstreamBindingName(up.endpoint);
      upstreamMap[up.endpoint] = `https:${name}`;
      services.push(`(name = ${q(name.toLowerCase())}, external = (address = ${q(up.endpoint)}, https = (certificateHost = ${q(up.certificateHost)}, ` +
        `tlsOptions = (keypair = (privateKey = embed ${q(t.keyFile)}, certificateChain = embed ${q(t.certFile)}), trustedCertificates = [ embed ${q(t.caFile)} ]))))`);
      bindings.push(`(name = ${q(name)}, service = ${q(name.toLowerCase())})`);
    }
  }
  bindings.push(`(name = "WEFT_UPSTREAMS", text = ${q(JSON.stringify(upstreamMap))})`);
  let socket: string;
  if (o.inboundTls) {
    const t = o.inboundTls;
    const client = t.clientCaFile ? `, requireClientCerts = true, trustedCertificates = [ embed ${q(t.clientCaFile)} ]` : "";
    socket = `(name = "http", address = ${q(o.listen)}, https = (options = (), tlsOptions = (keypair = (privateKey = embed ${q(t.keyFile)}, certificateChain = embed ${q(t.certFile)})${client})), service = "edge")`;
  } else {
    socket = `(name = "http", address = ${q(o.listen)}, http = (), service = "edge")`;
  }
  return `# Generated by edge/workerd/capnp.ts: the weft edge proxy on workerd.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    ${services.join(",\n    ")},
  ],
  sockets = [ ${socket} ],
);

const edgeWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed ${q(o.workerFile)}) ],
  compatibilityDate = ${q(o.compatibilityDate)},
  bindings = [
    ${bindings.join(",\n    ")},
  ],
);
`;
}
