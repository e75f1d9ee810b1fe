import { describe, expect, it } from "vitest";
import { createBatchSink, type BatchTransport } from "./batch-sink.ts";
import { createManualTimers, settle } from "./manual-timers.ts";

/** A transport whose availability the test switches; it records what it delivered. */
function switchable(): BatchTransport<number> & { up: boolean; hang: boolean; delivered: number[][]; attempts: number; resets: number } {
  const t = {
    up: true, hang: false, delivered: [] as number[][], attempts: 0, resets: 0,
    send(batch: number[]) {
      t.attempts++;
      if (t.hang) return new Promise<void>(() => undefined);
      if (!t.up) return Promise.reject(new Error("broker down"));
      t.delivered.push([...batch]);
      return Promise.resolve();
    },
    reset() {
      t.resets++;
      return Promise.resolve();
    },
  };
  return t;
}

describe("batching sink", () => {
  it("batches pushes within the linger time and splits at the batch size", async () => {
    const timers = createManualTimers();
    const transport = switchable();
    const sink = createBatchSink({ transport, timers, lingerMs: 50, maxBatch: 3 });
    sink.push(1);
    sink.push(2);
    await timers.advance(49);
    expect(transport.delivered).toEqual([]);
    await timers.advance(1);
    expect(transport.delivered).toEqual([[1, 2]]);
    for (let i = 3; i <= 9; i++) sink.push(i);
    await timers.advance(100);
    expect(transport.delivered).toEqual([[1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    expect(sink.stats).toMatchObject({ sent: 9, queued: 0, dropped: 0 });
  });

  it("keeps events while the transport is down, drops beyond the bound, and delivers in order when it returns", async () => {
    const timers = createManualTimers();
    const transport = switchable();
    const errors: number[] = [];
    const sink = createBatchSink({ transport, timers, lingerMs: 10, maxQueue: 5, maxBatch: 10, backoff: { initialMs: 100, maxMs: 1000 }, random: () => 0.5, onError: (_e, n) => errors.push(n) });
    transport.up = false;
    for (let i = 1; i <= 7; i++) expect(() => sink.push(i)).not.toThrow();
    expect(sink.stats.dropped).toBe(2);
    await timers.advance(10 + 100 + 200 + 400);
    expect(errors).toEqual([1, 2, 3, 4]);
    expect(sink.stats.degraded).toBe(true);
    expect(transport.resets).toBe(4);
    transport.up = true;
    await timers.advance(800);
    expect(transport.delivered).toEqual([[1, 2, 3, 4, 5]]);
    expect(sink.stats).toMatchObject({ sent: 5, queued: 0, dropped: 2, failedSends: 4, degraded: false });
  });

  it("times out a send that hangs and retries it", async () => {
    const timers = createManualTimers();
    const transport = switchable();
    const sink = createBatchSink({ transport, timers, lingerMs: 0, sendTimeoutMs: 1000, backoff: { initialMs: 100 }, random: () => 0.5 });
    transport.hang = true;
    sink.push(1);
    await timers.advance(1000);
    expect(sink.stats.failedSends).toBe(1);
    transport.hang = false;
    await timers.advance(100);
    expect(transport.delivered).toEqual([[1]]);
  });

  it("flushes what it can and reports whether the queue emptied; pushes after close are dropped", async () => {
    const timers = createManualTimers();
    const transport = switchable();
    const sink = createBatchSink({ transport, timers, lingerMs: 1000 });
    sink.push(1);
    const flushed = sink.flush(5000);
    await settle();
    expect(await flushed).toBe(true);
    expect(transport.delivered).toEqual([[1]]);
    transport.up = false;
    sink.push(2);
    const stuck = sink.flush(5000);
    await timers.advance(5000);
    expect(await stuck).toBe(false);
    transport.up = true;
    const closing = sink.close(5000);
    await timers.advance(10_000);
    await closing;
    expect(transport.delivered).toEqual([[1], [2]]);
    sink.push(3);
    expect(sink.stats.dropped).toBe(1);
  });
});
