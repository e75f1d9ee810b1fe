/**
 * @module adapters/telemetry/batch-sink
 * A bounded, batching, retrying queue in front of a slow or unreliable transport (Kafka for audit
 * events). `push` is synchronous, never throws and never waits: it appends to the queue, or, when the
 * queue is full, drops the new item and counts it. One batch is in flight at a time; a failed or
 * timed-out send keeps the batch at the head of the queue and retries after a jittered exponential
 * backoff (the transport reconnects on its next `send`), so nothing queued is lost while the transport
 * is down, memory stays bounded, and delivery resumes by itself when the transport returns (at least
 * once: a send that timed out may still have landed). Timers and randomness are injected.
 * Runtime-neutral.
 */

import { defaultTimers, type Timers } from "./tracing.ts";

/** Delivers one batch; rejects when it could not. */
export interface BatchTransport<T> {
  send(batch: T[]): Promise<void>;
  /** Called after a failed or timed-out send: drop the connection so the next send starts afresh. */
  reset?(): Promise<void>;
  close?(): Promise<void>;
}

export interface BatchSinkOptions<T> {
  transport: BatchTransport<T>;
  /** Items kept waiting at most (default 10,000); more are dropped and counted. */
  maxQueue?: number;
  /** Items per send (default 500). */
  maxBatch?: number;
  /** Wait this long for a batch to fill (default 50 ms). */
  lingerMs?: number;
  /** A send that takes longer counts as failed (default 10 s). */
  sendTimeoutMs?: number;
  /** Retry delays: `initialMs` doubling up to `maxMs`, with ±20% jitter (defaults 200 ms, 10 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  timers?: Timers;
  random?: () => number;
  /** Called on each failed send with the error and the number of consecutive failures. */
  onError?(error: Error, failures: number): void;
}

export interface BatchSinkStats {
  queued: number;
  sent: number;
  dropped: number;
  failedSends: number;
  /** True while the last send failed and retries are under way. */
  degraded: boolean;
}

export interface BatchSink<T> {
  push(item: T): void;
  /** Tries to deliver everything queued; resolves when the queue is empty or `timeoutMs` passed. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** `flush`, then closes the transport; later pushes are dropped. */
  close(timeoutMs?: number): Promise<void>;
  readonly stats: Readonly<BatchSinkStats>;
}

/**
 * Creates a batching sink.
 * @example
 * const sink = createBatchSink({ transport: kafkaTransport, maxQueue: 10_000 });
 * sink.push(JSON.stringify(event)); // returns at once, whatever Kafka is doing
 */
export function createBatchSink<T>(options: BatchSinkOptions<T>): BatchSink<T> {
  const maxQueue = options.maxQueue ?? 10_000;
  const maxBatch = options.maxBatch ?? 500;
  const linger = options.lingerMs ?? 50;
  const sendTimeout = options.sendTimeoutMs ?? 10_000;
  const initial = options.backoff?.initialMs ?? 200;
  const maxDelay = options.backoff?.maxMs ?? 10_000;
  const timers = options.timers ?? defaultTimers;
  const random = options.random ?? Math.random;
  const queue: T[] = [];
  const stats: BatchSinkStats = { queued: 0, sent: 0, dropped: 0, failedSends: 0, degraded: false };
  let timer: unknown;
  let sending = false;
  let failures = 0;
  let closed = false;
  const idle: (() => void)[] = [];

  function schedule(ms: number): void {
    if (timer !== undefined || sending) return;
    timer = timers.set(() => {
      timer = undefined;
      void pump();
    }, ms);
  }

  function withTimeout(p: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = timers.set(() => reject(new Error(`send timed out after ${sendTimeout} ms`)), sendTimeout);
      p.then(() => {
        timers.clear(t);
        resolve();
      }, (e: unknown) => {
        timers.clear(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      });
    });
  }

  async function pump(): Promise<void> {
    if (sending || queue.length === 0) return;
    sending = true;
    const batch = queue.slice(0, maxBatch);
    let ok = false;
    try {
      await withTimeout(Promise.resolve().then(() => options.transport.send(batch)));
      ok = true;
    } catch (e) {
      failures++;
      stats.failedSends++;
      void Promise.resolve().then(() => options.transport.reset?.()).catch(() => undefined);
      stats.degraded = true;
      try {
        options.onError?.(e instanceof Error ? e : new Error(String(e)), failures);
      } catch {
        // The error callback must not break the sink.
      }
    }
    sending = false;
    if (ok) {
      queue.splice(0, batch.length);
      stats.sent += batch.length;
      stats.queued = queue.length;
      failures = 0;
      stats.degraded = false;
      if (queue.length > 0) schedule(queue.length >= maxBatch ? 0 : linger);
    } else {
      const delay = Math.min(maxDelay, initial * 2 ** Math.min(failures - 1, 20));
      schedule(delay * (0.8 + 0.4 * random()));
    }
    if (queue.length === 0) for (const w of idle.splice(0)) w();
  }

  async function flush(timeoutMs = 10_000): Promise<boolean> {
    if (queue.length === 0 && !sending) return true;
    return new Promise<boolean>((resolve) => {
      const t = timers.set(() => {
        const i = idle.indexOf(done);
        if (i >= 0) idle.splice(i, 1);
        resolve(queue.length === 0);
      }, timeoutMs);
      function done(): void {
        timers.clear(t);
        resolve(true);
      }
      idle.push(done);
      if (timer !== undefined && !stats.degraded) {
        timers.clear(timer);
        timer = undefined;
      }
      void pump();
    });
  }

  return {
    stats,
    push(item) {
      if (closed || queue.length >= maxQueue) {
        stats.dropped++;
        return;
      }
      queue.push(item);
      stats.queued = queue.length;
      schedule(queue.length >= maxBatch ? 0 : linger);
    },
    flush,
    async close(timeoutMs = 10_000) {
      await flush(timeoutMs);
      closed = true;
      if (timer !== undefined) timers.clear(timer);
      timer = undefined;
      await options.transport.close?.().catch(() => undefined);
    },
  };
}
