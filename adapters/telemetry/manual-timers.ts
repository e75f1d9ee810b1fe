/**
 * @module adapters/telemetry/manual-timers
 * A `Timers` implementation driven by hand, for deterministic tests of the exporters and queues:
 * `advance(ms)` runs every timer that falls due, in order, letting promise callbacks settle between them.
 */

import type { Timers } from "./tracing.ts";

export interface ManualTimers extends Timers {
  /** Current virtual time in ms. */
  now(): number;
  /** Moves time forward, firing due timers in order and settling microtasks after each. */
  advance(ms: number): Promise<void>;
  /** Timers waiting to fire. */
  pending(): number;
}

/** Lets queued promise callbacks run (several rounds, for chains of awaits). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export function createManualTimers(): ManualTimers {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    pending: () => timers.size,
    set(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clear(handle) {
      timers.delete(handle as number);
    },
    async advance(ms) {
      const end = now + ms;
      await settle();
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const e of timers) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
        if (next === undefined) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
        await settle();
      }
      now = end;
    },
  };
}
