/**
 * @module adapters/kubernetes/backoff
 * Retry delays for watch and list failures: exponential growth capped at a maximum, with "equal
 * jitter" (half the delay fixed, half random) so that many controllers losing the same API server do
 * not come back in lockstep, yet every retry still waits at least half its nominal delay. Pure; the
 * random source is injected.
 */

export interface BackoffOptions {
  /** First delay (default 500 ms). */
  baseMs?: number;
  /** Largest delay (default 30 s). */
  maxMs?: number;
}

/**
 * The delay before retry number `attempt` (1 = first retry).
 * @example backoffDelay(3, { baseMs: 100, maxMs: 10_000 }, () => 0.5) // 300: nominal 400, half fixed + 0.5 × half
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const nominal = Math.min(max, base * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(nominal / 2 + (nominal / 2) * r);
}
