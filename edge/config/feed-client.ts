/**
 * @module edge/config/feed-client
 * Pulls the edge config document from the control plane's feed (`GET /v1/edge/config?node=...`, with
 * `If-None-Match` so an unchanged config costs a 304), validates it, hands good configs to the host and
 * writes them to a cache the host supplies (a file, a workerd disk directory). When the control plane
 * is unreachable or sends a bad config, the last good config keeps serving — from memory, or from the
 * cache after a restart — and `headers()` says so for the admin route (`x-weft-config-source: cache`,
 * `x-weft-config-stale: <seconds since the control plane last confirmed it>s`, `x-weft-config-error`).
 */
import type { ProxyConfig } from "../../proxy/config/types.ts";
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { describeDiagnostics, loadEdgeDocument } from "./edge-config.ts";

/** Durable storage for the last good document's JSON text. */
export interface ConfigCache {
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

export interface FeedClientOptions {
  /** The feed URL, e.g. `http://127.0.0.1:15000/v1/edge/config?node=edge-1`. */
  url: string;
  /** Bearer token for the feed. */
  token?: string;
  fetch?: typeof fetch;
  cache?: ConfigCache;
  filters: ReadonlyMap<string, HttpFilterFactory<unknown>>;
  /** Activates a config; throwing rejects it (the previous one keeps serving). */
  apply(config: ProxyConfig): void;
  now?(): number;
  /** How long a pulled config is fresh (default 10 s). */
  refreshMs?: number;
  /** Timeout of one pull (default 3 s). */
  timeoutMs?: number;
  log?(line: string): void;
}

export interface FeedStatus {
  /** Where the active config came from: the control plane, the cache (control plane unreachable or sending bad config), or none yet. */
  source: "control-plane" | "cache" | "none";
  version: string | undefined;
  lastError: string | undefined;
  lastSuccessAt: number | undefined;
}

export interface FeedClient {
  /** Pulls now; resolves when done (never rejects). */
  refresh(): Promise<void>;
  /** Pulls when the config is older than `refreshMs` (or absent); concurrent callers share one pull. */
  ensureFresh(): Promise<void>;
  status(): FeedStatus;
  /** Headers for the admin route describing `status()` (`x-weft-config-source`, `-version`, `-stale`, `-error`). */
  headers(): Record<string, string>;
}

/**
 * @example
 * const feed = createFeedClient({ url, filters: httpFilters, apply: (c) => proxy.apply(c), cache });
 * await feed.ensureFresh();
 */
export function createFeedClient(o: FeedClientOptions): FeedClient {
  const doFetch = o.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const now = o.now ?? (() => Date.now());
  const log = o.log ?? (() => undefined);
  const refreshMs = o.refreshMs ?? 10_000;
  const state: FeedStatus = { source: "none", version: undefined, lastError: undefined, lastSuccessAt: undefined };
  let lastAttemptAt = -Infinity;
  let inflight: Promise<void> | undefined;
  let triedCache = false;

  const activate = (raw: unknown, from: "control-plane" | "cache"): boolean => {
    const r = loadEdgeDocument(raw, from === "cache" ? "config cache" : o.url, o.filters);
    if (!r.ok) throw new Error(`invalid config: ${describeDiagnostics(r.diagnostics)}`);
    o.apply(r.config);
    state.version = r.version;
    return true;
  };

  const fromCache = async (why: string): Promise<void> => {
    state.lastError = why;
    if (state.version !== undefined) {
      state.source = "cache";
      log(`config feed: ${why}; version ${state.version} keeps serving`);
      return;
    }
    if (triedCache || o.cache === undefined) return;
    triedCache = true;
    try {
      const text = await o.cache.read();
      if (text === undefined) return;
      const cached = JSON.parse(text) as { fetchedAt?: unknown; document?: unknown };
      // The cache holds { fetchedAt, document }; older caches hold the bare document.
      const wrapped = typeof cached === "object" && cached !== null && "document" in cached;
      activate(wrapped ? cached.document : cached, "cache");
      if (wrapped && typeof cached.fetchedAt === "number") state.lastSuccessAt = cached.fetchedAt;
      state.source = "cache";
      log(`config feed: ${why}; serving cached version ${state.version}`);
    } catch (err) {
      log(`config feed: the cached config is unusable: ${(err as Error).message}`);
    }
  };

  const pull = async (): Promise<void> => {
    lastAttemptAt = now();
    let res: Response;
    try {
      const headers: Record<string, string> = { accept: "application/json" };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      if (state.version !== undefined && state.source === "control-plane") headers["if-none-match"] = `"${state.version}"`;
      res = await doFetch(o.url, { headers, signal: AbortSignal.timeout(o.timeoutMs ?? 3000) });
    } catch (err) {
      return fromCache(`control plane unreachable: ${(err as Error).message}`);
    }
    if (res.status === 304) {
      await res.body?.cancel();
      state.source = "control-plane";
      state.lastError = undefined;
      state.lastSuccessAt = now();
      return;
    }
    const text = await res.text().catch(() => "");
    if (res.status !== 200) return fromCache(`control plane answered ${res.status}: ${text.slice(0, 200)}`);
    try {
      activate(JSON.parse(text), "control-plane");
    } catch (err) {
      return fromCache(`control plane sent a bad config: ${(err as Error).message.slice(0, 500)}`);
    }
    state.source = "control-plane";
    state.lastError = undefined;
    state.lastSuccessAt = now();
    await o.cache?.write(`{"fetchedAt":${state.lastSuccessAt},"document":${text}}`).catch((err: unknown) => log(`config feed: cannot write the cache: ${(err as Error).message}`));
  };

  const refresh = (): Promise<void> => {
    inflight ??= pull().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  return {
    refresh,
    ensureFresh: () => (now() - lastAttemptAt >= refreshMs || (state.version === undefined && inflight === undefined && now() - lastAttemptAt >= 1000) ? refresh() : Promise.resolve()),
    status: () => ({ ...state }),
    headers() {
      const h: Record<string, string> = { "x-weft-config-source": state.source };
      if (state.version !== undefined) h["x-weft-config-version"] = state.version;
      if (state.source === "cache") {
        // How long since the control plane last confirmed this config (unknown for an old cache file).
        h["x-weft-config-stale"] = state.lastSuccessAt === undefined ? "unknown" : `${Math.max(0, Math.round((now() - state.lastSuccessAt) / 1000))}s`;
      }
      if (state.lastError !== undefined) h["x-weft-config-error"] = state.lastError.replace(/[\r\n]+/g, " ").slice(0, 300);
      return h;
    },
  };
}
