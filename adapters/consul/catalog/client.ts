/**
 * @module adapters/consul/catalog/client
 * A small typed client for Consul's HTTP API on `fetch` (so the bridge runs on Node, Deno and workerd):
 * one `call` that adds the ACL token and datacenter, turns blocking-query parameters (`index`, `wait`)
 * into the query string, reads `X-Consul-Index`, and reports non-2xx answers as `ConsulHttpError` with
 * the status and Consul's message. The npm `consul` package is not used: it does not cover Connect,
 * intentions or config entries, and it is Node-only.
 */

export interface ConsulClientOptions {
  /** `http://127.0.0.1:8500` (a bare `host:port` gets `http://`). */
  address: string;
  token?: string;
  /** Sent as `?dc=` on every call when set. */
  datacenter?: string;
  fetch?: typeof fetch;
  /** Per-call timeout for non-blocking calls (default 10 s); blocking calls add their `wait`. */
  timeoutMs?: number;
}

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** Blocking query: wait for a change after this index. */
  index?: number;
  /** Blocking query: longest wait in milliseconds (Consul caps it at 10 min). */
  waitMs?: number;
  body?: unknown;
  signal?: AbortSignal;
}

export interface ConsulResponse<T> {
  status: number;
  /** `X-Consul-Index`, when the endpoint sends one. */
  index?: number;
  body: T;
}

export class ConsulHttpError extends Error {
  readonly status: number;
  constructor(method: string, path: string, status: number, message: string) {
    super(`consul ${method} ${path}: HTTP ${status}${message ? `: ${message.trim().slice(0, 300)}` : ""}`);
    this.name = "ConsulHttpError";
    this.status = status;
  }
}

export interface ConsulClient {
  readonly address: string;
  call<T>(method: "GET" | "PUT" | "POST" | "DELETE", path: string, opts?: CallOptions): Promise<ConsulResponse<T>>;
  get<T>(path: string, opts?: CallOptions): Promise<ConsulResponse<T>>;
  put<T = unknown>(path: string, body?: unknown, opts?: CallOptions): Promise<ConsulResponse<T>>;
}

/**
 * @example
 * const consul = createConsulClient({ address: "http://127.0.0.1:8500" });
 * const { index, body } = await consul.get<Record<string, string[]>>("/v1/catalog/services", { index: 0, waitMs: 60_000 });
 */
export function createConsulClient(options: ConsulClientOptions): ConsulClient {
  const base = (/^https?:\/\//.test(options.address) ? options.address : `http://${options.address}`).replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 10_000;

  const call = async <T>(method: "GET" | "PUT" | "POST" | "DELETE", path: string, opts: CallOptions = {}): Promise<ConsulResponse<T>> => {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    if (options.datacenter && !url.searchParams.has("dc")) url.searchParams.set("dc", options.datacenter);
    if (opts.index !== undefined && opts.index > 0) url.searchParams.set("index", String(opts.index));
    if (opts.waitMs !== undefined && opts.index !== undefined && opts.index > 0) url.searchParams.set("wait", `${Math.max(1, Math.round(opts.waitMs / 1000))}s`);
    const headers: Record<string, string> = {};
    if (options.token) headers["x-consul-token"] = options.token;
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    // Consul adds up to wait/16 of jitter to a blocking query; leave room for it and the network.
    const limit = timeoutMs + (opts.index && opts.index > 0 && opts.waitMs ? opts.waitMs + opts.waitMs / 16 + 5_000 : 0);
    const timeout = AbortSignal.timeout(Math.ceil(limit));
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const response = await doFetch(url, {
      method,
      headers,
      signal,
      ...(opts.body !== undefined ? { body: typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw new ConsulHttpError(method, path, response.status, text);
    const rawIndex = response.headers.get("x-consul-index");
    const index = rawIndex !== null && /^\d+$/.test(rawIndex) ? Number(rawIndex) : undefined;
    let body: unknown = text;
    if (text.length > 0 && (response.headers.get("content-type") ?? "").includes("json")) body = JSON.parse(text);
    else if (text.length > 0 && /^[[{"]|^(true|false|null)$/.test(text.trim())) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: response.status, ...(index !== undefined ? { index } : {}), body: body as T };
  };

  return {
    address: base,
    call,
    get: (path, opts) => call("GET", path, opts),
    put: (path, body, opts) => call("PUT", path, { ...opts, ...(body !== undefined ? { body } : {}) }),
  };
}
