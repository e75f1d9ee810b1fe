/**
 * @module adapters/kubernetes/reflector
 * Keeps one collection (a resource type, cluster-wide or in one namespace) in step with the API server:
 * list (paged), hand the full set to `onReplace`, then watch from the list's resourceVersion and hand
 * each change to `onEvent`. A watch that expires (`410 Gone`, as an HTTP status or as a watch ERROR
 * event) is answered by a fresh list and a watch from its new resourceVersion; a clean close (server
 * timeout) by a new watch from the last resourceVersion seen; a failure (API server down, 5xx, TLS,
 * 403) by a retry after an exponential backoff with jitter. Nothing is ever cleared on a failure: the
 * consumer keeps its last good view until a list succeeds again. A watchdog aborts a watch that stays
 * silent well past its server-side timeout (a half-open connection).
 */
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { errorStatus, KubeApiError, type KubeApi, type KubeObject } from "./api.ts";

export interface ReflectorOptions {
  api: KubeApi;
  /** Collection path, e.g. `/api/v1/services` or `/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices`. */
  path: string;
  labelSelector?: string;
  /** The complete collection after every successful list. */
  onReplace(items: KubeObject[]): void;
  onEvent(type: "ADDED" | "MODIFIED" | "DELETED", object: KubeObject): void;
  /** Called whenever `status()` changes (sync, error, recovery). */
  onStatus?(status: ReflectorStatus): void;
  backoff?: BackoffOptions;
  random?: () => number;
  now?: () => number;
  /** Server-side watch timeout; a random value in [min, 2×min) is used per watch, as client-go does (default 300 s). */
  watchTimeoutSeconds?: number;
  pageSize?: number;
}

export interface ReflectorStatus {
  path: string;
  /** A list has succeeded at least once. */
  synced: boolean;
  /** A watch is open and no failure is pending. */
  healthy: boolean;
  /** The collection does not exist on this server (404: e.g. a CRD that is not installed). */
  missing: boolean;
  resourceVersion: string;
  lastSyncAt: number | null;
  lastError?: string;
  /** Number of full lists done (first sync included). */
  lists: number;
  /** Watches that ended with 410 Gone. */
  expired: number;
  failures: number;
  /** Delay before the pending retry, when one is pending. */
  retryInMs?: number;
}

export interface Reflector {
  start(): void;
  stop(): void;
  status(): ReflectorStatus;
  /** Resolves after the first successful list. */
  synced(): Promise<void>;
  /**
   * Ends the current watch and opens a new one from `resourceVersion` (operations and tests: an ancient
   * version makes the server answer 410 Gone, which must lead to a relist).
   */
  restartWatch(resourceVersion: string): void;
}

/**
 * @example
 * const r = createReflector({ api, path: "/api/v1/services", onReplace: (items) => ..., onEvent: (type, obj) => ... });
 * r.start(); await r.synced();
 */
export function createReflector(opts: ReflectorOptions): Reflector {
  const random = opts.random ?? Math.random;
  const now = opts.now ?? (() => Date.now());
  const minTimeout = opts.watchTimeoutSeconds ?? 300;
  const pageSize = opts.pageSize ?? 500;
  const st: ReflectorStatus = { path: opts.path, synced: false, healthy: false, missing: false, resourceVersion: "", lastSyncAt: null, lastError: undefined, lists: 0, expired: 0, failures: 0 };
  let stopped = true;
  let running = false;
  let current: { abort(): void } | null = null;
  /** Resolves the pending wait (watch end or backoff sleep) early. */
  let wake: (() => void) | null = null;
  let restartFrom: string | null = null;
  let resolveSynced!: () => void;
  const syncedPromise = new Promise<void>((r) => (resolveSynced = r));

  const report = () => {
    try {
      opts.onStatus?.({ ...st });
    } catch {
      // a failing status listener must not stop the loop
    }
  };

  const fail = (error: unknown) => {
    st.failures++;
    st.healthy = false;
    st.lastError = error instanceof Error ? error.message : String(error);
  };

  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const t = setTimeout(() => { wake = null; resolve(); }, ms);
    wake = () => { clearTimeout(t); wake = null; resolve(); };
  });

  const listAll = async (): Promise<{ items: KubeObject[]; resourceVersion: string }> => {
    for (let attempt = 0; ; attempt++) {
      const items: KubeObject[] = [];
      let token: string | undefined;
      let rv = "";
      try {
        do {
          const page = await opts.api.list(opts.path, { limit: pageSize, ...(token ? { continue: token } : {}), ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}) });
          items.push(...page.items);
          token = page.continue;
          rv = page.resourceVersion;
        } while (token);
        return { items, resourceVersion: rv };
      } catch (err) {
        // An expired continue token: start the list again (once), else report.
        if (errorStatus(err) !== 410 || attempt > 0 || !token) throw err;
      }
    }
  };

  /** One watch; resolves "expired" (410), "closed" (clean end) or throws the failure. */
  const watchOnce = (rv: string): Promise<"expired" | "closed" | "restart"> => new Promise((resolve, reject) => {
    let settled = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const timeoutSeconds = minTimeout + Math.floor(random() * minTimeout);
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      wake = null;
      current?.abort();
      current = null;
      fn();
    };
    const armWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => settle(() => resolve("closed")), (timeoutSeconds + 30) * 1000);
    };
    wake = () => settle(() => resolve("restart"));
    armWatchdog();
    opts.api.watch(opts.path, { resourceVersion: rv, timeoutSeconds, allowWatchBookmarks: true, ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}) },
      (type, obj) => {
        if (settled) return;
        armWatchdog();
        if (type === "ERROR") {
          const e = KubeApiError.fromStatus(obj);
          settle(() => (e.status === 410 ? resolve("expired") : reject(e)));
          return;
        }
        const next = obj.metadata?.resourceVersion;
        if (next) st.resourceVersion = next;
        if (type === "BOOKMARK") return;
        try {
          opts.onEvent(type, obj);
        } catch {
          // a consumer bug must not end the watch
        }
      },
      (err) => settle(() => {
        if (errorStatus(err) === 410) resolve("expired");
        else if (err) reject(err);
        else resolve("closed");
      }),
    ).then((handle) => {
      if (settled) handle.abort();
      else {
        current = handle;
        if (!st.healthy || st.lastError) {
          st.healthy = true;
          st.lastError = undefined;
          st.retryInMs = undefined;
          report();
        }
      }
    }, (err: unknown) => settle(() => reject(err)));
  });

  const loop = async () => {
    running = true;
    let consecutive = 0;
    let needList = true;
    while (!stopped) {
      try {
        if (needList) {
          const { items, resourceVersion } = await listAll();
          if (stopped) break;
          st.resourceVersion = resourceVersion;
          st.lists++;
          st.synced = true;
          st.missing = false;
          st.lastSyncAt = now();
          st.lastError = undefined;
          st.retryInMs = undefined;
          needList = false;
          try {
            opts.onReplace(items);
          } catch {
            // consumer bug: keep watching
          }
          report();
          resolveSynced();
        }
        const from = restartFrom ?? st.resourceVersion;
        restartFrom = null;
        const started = now();
        const outcome = await watchOnce(from);
        if (outcome === "expired") {
          st.expired++;
          needList = true;
          // Two expiries in a row without a successful watch in between: slow down.
          if (now() - started < 1_000) consecutive++;
          else consecutive = 0;
        } else if (outcome === "closed") {
          consecutive = now() - started < 1_000 ? consecutive + 1 : 0;
        } else consecutive = 0;
        if (consecutive > 1) await sleep(backoffDelay(consecutive - 1, opts.backoff, random));
      } catch (err) {
        if (stopped) break;
        const status = errorStatus(err);
        if (status === 410) {
          st.expired++;
          needList = true;
          continue;
        }
        if (status === 404 && needList) st.missing = true;
        fail(err);
        consecutive++;
        const delay = backoffDelay(consecutive, opts.backoff, random);
        st.retryInMs = delay;
        st.lastError = `${st.lastError} (retrying in ${(delay / 1000).toFixed(1)} s)`;
        report();
        await sleep(delay);
      }
    }
    running = false;
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      if (!running) void loop();
    },
    stop() {
      stopped = true;
      current?.abort();
      current = null;
      wake?.();
    },
    status: () => ({ ...st }),
    synced: () => syncedPromise,
    restartWatch(resourceVersion) {
      restartFrom = resourceVersion;
      wake?.();
    },
  };
}
