/**
 * @module adapters/consul/catalog/blocking-watch
 * One Consul blocking query, run in a loop the way Consul's docs ask: pass the last `X-Consul-Index`
 * with `index`/`wait`; deliver a value only when the index moved; reset to 0 (a full, non-blocking read)
 * when the index goes backwards, and treat an index of 0 or none as 1 so that a broken index cannot spin;
 * keep a minimum interval between calls (a rate limit, so a flapping endpoint cannot hammer the agent);
 * on errors keep the last good value, back off exponentially with jitter, and re-read from index 0 on
 * recovery (an agent that restarted starts its indexes again from a low number). Time, sleep and
 * randomness are injected so the loop is tested without real time.
 */

export interface WatchResult<T> {
  /** `X-Consul-Index` of the answer (absent when the endpoint sent none). */
  index: number | undefined;
  value: T;
}

export interface BlockingWatchOptions<T> {
  /** For status and logs, e.g. `health/service/web`. */
  name: string;
  /** One call; `index` 0 means a plain (non-blocking) read. */
  fetch(index: number, signal: AbortSignal): Promise<WatchResult<T>>;
  /** Called with every new value (index moved, or a reset). */
  onChange(value: T, index: number): void;
  onError?(error: unknown, consecutiveFailures: number): void;
  /** Least time between the starts of two calls (default 50 ms). */
  minIntervalMs?: number;
  /** Backoff after failures: `baseMs · 2^(n-1)` capped at `maxMs`, jittered (defaults 250 ms, 30 s). */
  backoff?: { baseMs?: number; maxMs?: number };
  now?: () => number;
  random?: () => number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface WatchState {
  name: string;
  index: number;
  /** Epoch ms of the last successful call. */
  lastSuccessAt: number | null;
  lastError?: string;
  lastErrorAt?: number;
  consecutiveFailures: number;
  /** Times the index went backwards (or an error forced a full re-read). */
  resets: number;
  changes: number;
  calls: number;
}

export interface BlockingWatch {
  state(): WatchState;
  /** Resolves once the first value was delivered (or the watch stopped). */
  ready: Promise<void>;
  stop(): void;
}

export function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Delay before the next try after `failures` consecutive failures: half fixed, half random. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return cap / 2 + (random() * cap) / 2;
}

/**
 * @example
 * const w = startBlockingWatch({
 *   name: "catalog/services",
 *   fetch: (index, signal) => consul.get("/v1/catalog/services", { index, waitMs: 60_000, signal }).then((r) => ({ index: r.index, value: r.body })),
 *   onChange: (services) => publish(services),
 * });
 */
export function startBlockingWatch<T>(opts: BlockingWatchOptions<T>): BlockingWatch {
  const now = opts.now ?? (() => Date.now());
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? defaultSleep;
  const minInterval = opts.minIntervalMs ?? 50;
  const baseMs = opts.backoff?.baseMs ?? 250;
  const maxMs = opts.backoff?.maxMs ?? 30_000;
  const abort = new AbortController();
  const state: WatchState = { name: opts.name, index: 0, lastSuccessAt: null, consecutiveFailures: 0, resets: 0, changes: 0, calls: 0 };
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));

  const loop = async () => {
    let lastStart = -Infinity;
    while (!abort.signal.aborted) {
      const wait = lastStart + minInterval - now();
      if (wait > 0) await sleep(wait, abort.signal);
      if (abort.signal.aborted) break;
      lastStart = now();
      state.calls++;
      let result: WatchResult<T>;
      try {
        result = await opts.fetch(state.index, abort.signal);
      } catch (error) {
        if (abort.signal.aborted) break;
        state.consecutiveFailures++;
        state.lastError = error instanceof Error ? error.message : String(error);
        state.lastErrorAt = now();
        if (state.index !== 0) state.resets++;
        state.index = 0;
        opts.onError?.(error, state.consecutiveFailures);
        await sleep(backoffDelay(state.consecutiveFailures, baseMs, maxMs, random), abort.signal);
        continue;
      }
      if (abort.signal.aborted) break;
      state.consecutiveFailures = 0;
      state.lastSuccessAt = now();
      const previous = state.index;
      const next = result.index === undefined || result.index <= 0 ? 1 : result.index;
      if (next < previous) {
        // The index went backwards (a restarted or replaced server): take this answer and read afresh.
        state.resets++;
        state.index = 0;
      } else {
        state.index = next;
        if (next === previous) continue; // the wait ran out with no change
      }
      state.changes++;
      try {
        opts.onChange(result.value, next);
      } catch (error) {
        state.lastError = `onChange: ${error instanceof Error ? error.message : String(error)}`;
        state.lastErrorAt = now();
      }
      markReady();
    }
    markReady();
  };
  void loop();
  return {
    state: () => ({ ...state }),
    ready,
    stop: () => abort.abort(),
  };
}
